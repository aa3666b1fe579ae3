"""Trace the saga through every deployed style and compare them side by side.

    python -m tools.analysis.compare                       # run the four scenarios on every style
    python -m tools.analysis.compare --orders orchestration:ID choreography:ID ...   # trace given orders
    python -m tools.analysis.compare --static              # only what the code and templates show (offline)

Prints per scenario the steps of the styles aligned, latencies (measured, and projected on AWS),
counts and cost, then which style to use on these numbers; writes the HTML report
(report/compare.html), each saga's trace as OpenTelemetry JSON and Chrome trace events
(report/traces/) and, with --json, the trace model. Exits 1 if a trace stays incomplete or the
styles' final records differ.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import requests
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import TypeAdapter
from rich.console import Console

from tools import aws
from tools.analysis.compare import capture, console, decision, exports, report, static
from tools.analysis.compare.comparison import Comparison, compare
from tools.analysis.compare.model import Capture, Trace
from tools.analysis.compare.projection import project
from tools.operator import trigger
from tools.operator.scenarios import SCENARIOS

REPORT = Path("report/compare.html")


def parse_order(value: str) -> tuple[str, str]:
    style, _, order_id = value.partition(":")
    if style not in aws.STYLES or not order_id:
        raise argparse.ArgumentTypeError(f"{value!r}: expected STYLE:ORDER_ID, STYLE one of {', '.join(aws.STYLES)}")
    return style, order_id


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.analysis.compare", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--orders",
        nargs="+",
        type=parse_order,
        metavar="STYLE:ID",
        help="trace these orders instead of running the scenarios",
    )
    parser.add_argument(
        "--scenario", choices=list(SCENARIOS), action="append", help="only these scenarios (default: all)"
    )
    parser.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="skip the unmeasured first round that warms every function up (cold starts then show)",
    )
    parser.add_argument("--html", type=Path, default=REPORT, help=f"the HTML report (default {REPORT})")
    parser.add_argument("--json", metavar="PATH", help="write the comparisons (trace model) as JSON; '-' for stdout")
    parser.add_argument("--captures", type=Path, metavar="DIR", help="also save what AWS recorded, one JSON per order")
    parser.add_argument(
        "--traces",
        type=Path,
        metavar="DIR",
        help="where each saga's trace goes as OTLP/JSON and Chrome trace events (default: traces/ beside the report)",
    )
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for each order and its trace")
    parser.add_argument(
        "--static",
        action="store_true",
        help="only the static comparison (code lines, resources, IAM, flow: from the code and a synth; no LocalStack);"
        " --json then writes it",
    )
    return parser.parse_args(argv)


def run_scenarios(names: list[str], warmup: bool, timeout: float, out: Console) -> list[tuple[str, str, dict]]:
    """Runs every scenario on every style; (style, scenario, record) of each measured order."""
    if warmup:
        for name in names:
            for style in aws.STYLES:
                with out.status(f"warming up: {name} on {style}…"):
                    trigger.run(style, SCENARIOS[name], timeout)
    orders = []
    for name in names:
        for style in aws.STYLES:
            with out.status(f"{name}: {style} running…"):
                result = trigger.run(style, SCENARIOS[name], timeout)
            if not result.as_expected:
                out.print(f"[yellow]warning: {style} {name} ended {result.record.get('status')}[/]")
            orders.append((style, name, result.record))
    return orders


def trace_all(
    orders: list[tuple[str, str | None, dict | str]], timeout: float, out: Console
) -> list[tuple[Trace, Capture]]:
    traced = []
    for style, scenario, order in orders:
        record = order if isinstance(order, dict) else None
        order_id = record["orderId"] if record else order
        with out.status(f"tracing {style} order {order_id}…"):
            traced.append(capture.trace(style, order_id, record, scenario=scenario, timeout=timeout))
    return traced


def pair(traces: list[Trace]) -> list[Comparison]:
    """Per scenario, the n-th trace of one style beside the n-th of the other."""
    by_scenario: dict[str, dict[str, list[Trace]]] = defaultdict(lambda: defaultdict(list))
    for t in traces:
        by_scenario[t.scenario][t.style].append(t)
    order = {name: i for i, name in enumerate(SCENARIOS)}
    comparisons = []
    for scenario in sorted(by_scenario, key=lambda s: order.get(s, len(order))):
        styles = by_scenario[scenario]
        for n in range(max(len(v) for v in styles.values())):
            label = scenario if n == 0 else f"{scenario} ({n + 1})"
            comparisons.append(compare(label, {s: styles[s][n] for s in aws.STYLES if n < len(styles[s])}))
    return comparisons


def static_only(args: argparse.Namespace, out: Console) -> int:
    with out.status("synthesizing the stacks…"):
        measured = static.measure()
    if args.json != "-":
        out.print(static.tables(measured))
    if args.json:
        write_json(args.json, measured.model_dump_json(indent=2), out, "static comparison")
    return 0


def measure_static(out: Console) -> static.StaticComparison | None:
    """The static comparison, or None (said in one line) if the stacks do not synthesize: the
    traces are worth printing anyway."""
    try:
        with out.status("synthesizing the stacks for the static comparison…"):
            return static.measure()
    except (static.SynthFailed, OSError, subprocess.SubprocessError) as error:
        out.print(f"[yellow]warning: no static comparison: {str(error).splitlines()[0]}[/]")
        return None


def write_json(path: str, data: str, out: Console, what: str) -> None:
    if path == "-":
        print(data)
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(data)
        out.print(f"{what}: {path}")


def trace_model_json(comparisons: list[Comparison]) -> str:
    """The comparisons (trace model), each with its projection on AWS per style (projection.py)."""
    dumped = TypeAdapter(list[Comparison]).dump_python(comparisons, mode="json")
    for comparison, data in zip(comparisons, dumped, strict=True):
        data["projection"] = {
            style: [p.model_dump(mode="json") for p in project(trace)] for style, trace in comparison.traces.items()
        }
    return json.dumps(dumped, indent=2)


def export_traces(comparisons: list[Comparison], directory: Path, out: Console) -> None:
    exports.write(comparisons, directory)
    out.print(f"traces in {directory}/ (*.otlp.json: OpenTelemetry; *.chrome.json: Perfetto, chrome://tracing):")
    for comparison in comparisons:
        for names in exports.file_names(comparison).values():
            out.print(f"  {', '.join(names.values())}")


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    stream = sys.stderr if args.json == "-" else sys.stdout
    # Piped output gets room for the widest table instead of rich's default 80 columns.
    out = Console(file=stream, width=None if stream.isatty() else 120)
    if args.static:
        return static_only(args, out)
    styles = sorted({style for style, _ in args.orders}) if args.orders else list(aws.STYLES)
    for style in styles:
        aws.outputs(style)  # fails with one line (NotDeployed) before anything runs
    if args.orders:
        orders = [(style, None, order_id) for style, order_id in args.orders]
    else:
        orders = run_scenarios(args.scenario or list(SCENARIOS), args.warmup, args.timeout, out)
    traced = trace_all(orders, args.timeout, out)
    comparisons = pair([t for t, _ in traced])
    statics = measure_static(out)
    verdicts = decision.decide(comparisons, decision.change_places(statics) if statics else None)
    # Beside the report; none beside /dev/null (a run that only wants the JSON).
    traces = args.traces or (None if str(args.html) == os.devnull else args.html.parent / "traces")

    if args.json != "-":
        console.print_all(comparisons, out)
        if statics:
            out.print(static.tables(statics))
        out.print(console.decision_summary(verdicts))
    if traces:
        export_traces(comparisons, traces, out)
    out.print(f"report: {report.write(comparisons, args.html, statics=statics, decision=verdicts, traces=traces)}")
    if args.json:
        data = trace_model_json(comparisons)
        if args.json == "-":
            print(data)
        else:
            Path(args.json).write_text(data)
            out.print(f"trace model: {args.json}")
            if statics:  # beside it: the trace model stays a list of comparisons
                path = str(Path(args.json).with_suffix(".static.json"))
                write_json(path, statics.model_dump_json(indent=2), out, "static comparison")
    if args.captures:
        args.captures.mkdir(parents=True, exist_ok=True)
        for t, c in traced:
            (args.captures / f"{t.style}-{t.scenario or 'order'}-{t.order_id}.json").write_text(
                c.model_dump_json(indent=1)
            )
        out.print(f"captures: {args.captures}/")
    incomplete = [t for t, _ in traced if not t.complete]
    disagree = [c.scenario for c in comparisons if c.agree is False]
    return 1 if incomplete or disagree else 0


def entry() -> None:
    try:
        sys.exit(main())
    except (requests.RequestException, BotoCoreError, ClientError) as error:
        sys.exit(f"error: {type(error).__name__}: {error}".splitlines()[0])
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    entry()
