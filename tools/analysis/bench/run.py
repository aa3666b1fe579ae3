"""Run the benchmark: every style, each concurrency, one report.

    python -m tools.analysis.bench [--orders N] [--concurrency 1,4,16] [--quick] [--out DIR] [--json PATH|-]

Defaults sized for a 2-core machine, about 2-3 minutes: 20 orders per style at 1, 4 and 16 in flight.
One saga costs the whole LocalStack tree ~0.6-1 s of CPU, so 2 cores saturate at about 2 in flight:
1 shows the unloaded latency, 4 the saturated throughput, 16 a deep queue and how many Lambda
processes (memory) the executor spawns for it. `--concurrency 1,8,32 --orders 40` takes ~5 min.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

from shared.contract import CHOREOGRAPHY, FAULT_RATE_VARIABLE, ORCHESTRATION
from tools import aws
from tools.analysis.bench import handlers, load, report, stats
from tools.analysis.bench.handlers import OrderMarks
from tools.analysis.bench.model import BenchResult, Cell, Config, Machine, Ratio, Usage
from tools.analysis.bench.resources import Sampler, localstack_pid
from tools.analysis.bench.stats import FIGURES

ROOT = Path(__file__).resolve().parents[3]
RESULTS = ROOT / "bench" / "results"
DEFAULT_ORDERS = 20
DEFAULT_CONCURRENCY = (1, 4, 16)
QUICK_ORDERS = 8
# Warm-up per style before measuring: environments for this many orders in flight exist before
# the first cell. Deeper concurrency spawns more, inside its cell: that growth is measured.
WARMUP_ORDERS = 8
QUICK_CONCURRENCY = (1, 4)


def machine() -> Machine:
    return Machine(
        cpus=os.cpu_count(),
        memory_gib=round(psutil.virtual_memory().total / 2**30, 1),
        platform=platform.platform(),
        python=platform.python_version(),
        localstack="embedded" if localstack_pid() else "external (no process figures)",
        # The LocalStack is shared: anything else running on it or the host shows up here.
        load_average=[round(os.getloadavg()[0], 2)],
    )


def cell(style: str, concurrency: int, runs: list[load.OrderRun], marks: dict[str, OrderMarks], usage: Usage) -> Cell:
    """The figures of one style at one concurrency."""
    done = [r for r in runs if r.terminal]
    latencies = [r.latency_ms for r in done if r.latency_ms is not None]
    first = min((r.post_sent for r in runs), default=0.0)
    last = max((r.updated_at for r in done if r.updated_at), default=first)
    span_s = last - first
    traced = [marks[r.order_id] for r in done if r.order_id in marks and marks[r.order_id].complete]
    # Each saga's hand-offs: the outbox's (create_order -> stream -> start_saga) apart from the
    # steps' (through Step Functions or the bus), which is where the styles differ.
    outbox = [h for m in traced for h in m.hops_ms()[: handlers.OUTBOX_HOPS]]
    hops = [h for m in traced for h in m.hops_ms()[handlers.OUTBOX_HOPS :]]
    overhead = [(m.window_ms() - m.handler_ms()) / handlers.HOPS for m in traced]
    cpu_s = sum(usage.cpu_s.values()) if usage.cpu_s else None
    return Cell(
        style=style,
        concurrency=concurrency,
        orders=len(runs),
        terminal=len(done),
        statuses={s: sum(r.status == s for r in runs) for s in sorted({r.status for r in runs if r.status})},
        errors=[r.error for r in runs if r.error][:5],
        traced=len(traced),
        span_s=round(span_s, 3),
        throughput_per_s=round(len(done) / span_s, 2) if span_s > 0 else None,
        latency_ms=stats.summary(latencies),
        saga_window_ms=stats.summary([m.window_ms() for m in traced]),
        handler_ms=stats.summary([m.handler_ms() for m in traced]),
        hop_ms=stats.summary(hops),
        outbox_hop_ms=stats.summary(outbox),
        hops_per_saga=handlers.HOPS,
        step_hops_per_saga=handlers.STEP_HOPS,
        retries=sum(m.retries for m in traced),
        overhead_per_hop_ms=stats.summary(overhead).mean,
        usage=usage,
        cpu_ms_per_order=round(cpu_s * 1000 / len(done), 1) if cpu_s is not None and done else None,
        latencies_ms=[round(x, 1) for x in latencies],
        hops_ms=[round(x, 1) for x in hops],
        outbox_hops_ms=[round(x, 1) for x in outbox],
    )


def run_style(style: str, orders: int, concurrency: list[int], warmup: bool, log) -> list[Cell]:
    sku = load.bench_sku(style)
    started = time.time()
    if warmup:
        # Cold environments would land in the first cell's tail: make a few before measuring.
        log(f"{style}: warm-up, {WARMUP_ORDERS} orders at {WARMUP_ORDERS} in flight")
        load.drive(style, WARMUP_ORDERS, WARMUP_ORDERS, sku)
    measured = []
    for c in concurrency:
        log(f"{style}: {orders} orders at {c} in flight")
        with Sampler(style) as sampler:
            runs = load.drive(style, orders, c, sku)
        measured.append((c, runs, Usage.model_validate(sampler.usage.as_dict())))
    ids = {r.order_id for _, runs, _ in measured for r in runs if r.terminal}
    log(f"{style}: reading handler times from the create_order, start_saga and step logs ({len(ids)} orders)")
    marks = handlers.collect(style, ids, since=started)
    return [cell(style, c, runs, marks, usage) for c, runs, usage in measured]


def ratios(cells: list[Cell]) -> list[Ratio]:
    by = {(c.style, c.concurrency): c for c in cells}
    out = []
    for concurrency in sorted({c.concurrency for c in cells}):
        orch, chor = by.get((ORCHESTRATION, concurrency)), by.get((CHOREOGRAPHY, concurrency))
        if orch and chor:
            figures = {key: stats.ratio(chor.figure(key), orch.figure(key)) for key, _ in FIGURES}
            out.append(Ratio(concurrency=concurrency, figures=figures))
    return out


class FaultsInjected(SystemExit):
    """Fault injection is on for a deployed function: the figures would measure retries."""


def fault_rates(style: str) -> dict[str, str]:
    """SAGA_FAULT_RATE of each function of the style that has one (`python -m tools.operator.faults`)."""
    lam, prefix = aws.client("lambda"), aws.function_name(style, "")  # every function's name starts so
    out = {}
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            rate = ((fn.get("Environment") or {}).get("Variables") or {}).get(FAULT_RATE_VARIABLE)
            if fn["FunctionName"].startswith(prefix) and rate and float(rate) > 0:
                out[fn["FunctionName"]] = rate
    return out


def run_benchmark(
    orders: int, concurrency: list[int], warmup: bool = True, log=print, allow_faults: bool = False
) -> BenchResult:
    started = time.time()
    faults = {}
    for style in aws.STYLES:
        aws.outputs(style)  # fail early, with one line, if a stack is missing
        faults.update(fault_rates(style))
    if faults and not allow_faults:
        raise FaultsInjected(
            f"error: fault injection is on ({', '.join(f'{k}={v}' for k, v in sorted(faults.items()))}): "
            "the figures would be retries. `python -m tools.operator.faults clear` (or --allow-faults)"
        )
    host = machine()
    cells = [c for style in aws.STYLES for c in run_style(style, orders, concurrency, warmup, log)]
    host.load_average.append(round(os.getloadavg()[0], 2))  # 1-minute average, before and after
    return BenchResult(
        date=datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        machine=host,
        config=Config(
            orders=orders,
            concurrency=concurrency,
            warmup=WARMUP_ORDERS if warmup else 0,
            poll_s=load.POLL_S,
            hops_per_saga=handlers.HOPS,
            step_hops_per_saga=handlers.STEP_HOPS,
        ),
        duration_s=round(time.time() - started, 1),
        fault_rates=faults,
        cells=cells,
        ratios=ratios(cells),
    )


def _concurrency(value: str) -> list[int]:
    levels = sorted({int(v) for v in value.split(",") if v.strip()})
    if not levels or levels[0] < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of integers >= 1")
    return levels


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark every saga style on the deployed stacks.")
    parser.add_argument(
        "--orders",
        type=int,
        help=f"measured orders per style and concurrency (default {DEFAULT_ORDERS}, quick {QUICK_ORDERS})",
    )
    parser.add_argument(
        "--concurrency", type=_concurrency, help="orders in flight, e.g. 1,8,32 (default 1,4,16, quick 1,4)"
    )
    parser.add_argument("--quick", action="store_true", help=f"a short run: {QUICK_ORDERS} orders at 1 and 4 in flight")
    parser.add_argument("--no-warmup", action="store_true", help="measure from cold environments too")
    parser.add_argument("--allow-faults", action="store_true", help="run even with SAGA_FAULT_RATE set on a function")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="where to write <date>.json/.png/.md (default bench/results)"
    )
    parser.add_argument(
        "--json",
        metavar="PATH",
        help="also write the result as JSON to PATH; '-' for stdout (the table then goes to stderr)",
    )
    args = parser.parse_args()
    orders = args.orders or (QUICK_ORDERS if args.quick else DEFAULT_ORDERS)
    concurrency = args.concurrency or list(QUICK_CONCURRENCY if args.quick else DEFAULT_CONCURRENCY)
    result = run_benchmark(
        orders, concurrency, warmup=not args.no_warmup, log=report.progress, allow_faults=args.allow_faults
    )
    paths = report.write(result, args.out)
    report.print_table(result, stderr=args.json == "-")
    for path in paths:
        report.progress(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    if args.json == "-":
        print(report.as_json(result))
    elif args.json:
        Path(args.json).write_text(report.as_json(result))
        report.progress(f"wrote {args.json}")
