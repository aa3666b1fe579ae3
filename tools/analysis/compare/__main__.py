"""Trace the saga through both deployed styles and compare them side by side.

    python -m tools.analysis.compare                       # run the four scenarios on both styles
    python -m tools.analysis.compare --orders orchestration:ID choreography:ID ...   # trace given orders

Prints per scenario the steps of both styles aligned, latencies, counts and cost; writes the
HTML report (report/compare.html) and, with --json, the trace model. Exits 1 if a trace stays
incomplete or the two styles' final records differ.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import requests
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import TypeAdapter
from rich.console import Console

from tools import aws
from tools.analysis.compare import capture, console, report
from tools.analysis.compare.comparison import Comparison, compare
from tools.analysis.compare.model import Capture, Trace
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
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for each order and its trace")
    return parser.parse_args(argv)


def run_scenarios(names: list[str], warmup: bool, timeout: float, out: Console) -> list[tuple[str, str, dict]]:
    """Runs every scenario on both styles; (style, scenario, record) of each measured order."""
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


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    stream = sys.stderr if args.json == "-" else sys.stdout
    # Piped output gets room for the widest table instead of rich's default 80 columns.
    out = Console(file=stream, width=None if stream.isatty() else 120)
    styles = sorted({style for style, _ in args.orders}) if args.orders else list(aws.STYLES)
    for style in styles:
        aws.outputs(style)  # fails with one line (NotDeployed) before anything runs
    if args.orders:
        orders = [(style, None, order_id) for style, order_id in args.orders]
    else:
        orders = run_scenarios(args.scenario or list(SCENARIOS), args.warmup, args.timeout, out)
    traced = trace_all(orders, args.timeout, out)
    comparisons = pair([t for t, _ in traced])

    if args.json != "-":
        console.print_all(comparisons, out)
    out.print(f"report: {report.write(comparisons, args.html)}")
    if args.json:
        data = TypeAdapter(list[Comparison]).dump_json(comparisons, indent=2).decode()
        if args.json == "-":
            print(data)
        else:
            Path(args.json).write_text(data)
            out.print(f"trace model: {args.json}")
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
