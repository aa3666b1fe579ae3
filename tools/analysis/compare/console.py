"""The comparison as rich tables: per scenario, the steps side by side, then the totals."""

from __future__ import annotations

import sys
from decimal import Decimal

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from shared.contract import CHOREOGRAPHY, HYBRID, ORCHESTRATION
from tools.analysis.compare.comparison import Comparison, StepCell, StepRow, StyleSummary
from tools.analysis.compare.decision import Decision
from tools.analysis.compare.latency import LATENCY_RECORDED, LATENCY_SOURCE, LATENCY_TABLE
from tools.analysis.compare.prices import PRICE_TABLE, PRICES_RECORDED, PRICES_SOURCE
from tools.analysis.compare.projection import project

COLD = "*"
NOT_TIMED = "n/a"
COLORS = {ORCHESTRATION: "cyan", CHOREOGRAPHY: "magenta", HYBRID: "green"}
RELAY_NOTE = (
    "start_saga: the outbox relay, fed by the orders table's stream; its hand-off runs from create_order's "
    f"write to the saga started (stream delivery and the start call), its handler is {NOT_TIMED} (one log line)"
)


def ms(value: float) -> str:
    return f"{value:,.0f}"


def dollars(value: Decimal | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


def _numbers(cell: StepCell | None) -> tuple[str, str]:
    if cell is None:
        return ("—", "—")
    handler = NOT_TIMED if cell.handler_ms is None else ms(cell.handler_ms)
    return (ms(cell.handoff_ms) + (COLD if cell.cold else ""), handler)


def outcome(row: StepRow, styles: list[str]) -> str:
    """The step's outcome, once if every style that ran it agrees (the usual case), else per style
    (a style that did not run it shows dashes in its columns: the hybrid's notify_customer)."""
    shown = {}
    for style in styles:
        cell = row.cells.get(style)
        if cell is not None:
            shown[style] = cell.outcome + (f" ×{cell.attempts}" if cell.attempts > 1 else "")
    if len(set(shown.values())) <= 1:
        return next(iter(shown.values()), "not run")
    return " / ".join(f"{s[:5]}: {o}" for s, o in shown.items())


def steps_table(comparison: Comparison) -> Table:
    styles = list(comparison.summaries)
    table = Table(title="steps, in the order they ran (ms)", title_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column("step")
    table.add_column("outcome")
    for style in styles:
        color = COLORS.get(style, "white")
        table.add_column(f"{style}\nhand-off", justify="right", header_style=f"bold {color}")
        table.add_column("\nhandler", justify="right", header_style=f"bold {color}")
    for number, row in enumerate(comparison.rows, 1):
        numbers = [part for style in styles for part in _numbers(row.cells.get(style))]
        table.add_row(str(number), row.step, outcome(row, styles), *numbers)
    return table


def _metrics(s: StyleSummary) -> dict[str, str]:
    c = s.counts
    workflow = " + ".join(name for name, n in (("Step Functions", c.transitions), ("EventBridge", c.events)) if n)
    return {
        "end to end ms": ms(s.total_ms),
        "steps run": str(c.steps),
        "Lambda invocations": str(c.invocations),
        "hops": str(c.hops),
        "events on the bus": str(c.events),
        "state transitions": str(c.transitions),
        "retries": str(c.retries),
        "compensation": s.compensation or "—",
        "$/M: wiring": f"{workflow} {dollars(s.cost.workflow)}",
        "$/M: Lambda requests": dollars(s.cost.lambda_requests),
        "$/M: total": dollars(s.cost.total),
        "$/M: as Express": dollars(s.cost.express + s.cost.lambda_requests) if s.cost.express is not None else "—",
    }


def totals_table(comparison: Comparison) -> Table:
    table = Table(title="totals", title_justify="left")
    table.add_column("")
    metrics = {style: _metrics(s) for style, s in comparison.summaries.items()}
    for style in metrics:
        table.add_column(style, justify="right")
    for name in next(iter(metrics.values())):
        table.add_row(name, *(m[name] for m in metrics.values()))
    return table


def verdict(comparison: Comparison) -> Text:
    if comparison.agree is None:
        return Text("final records: only one style traced", style="dim")
    if comparison.agree:
        return Text("final records agree field by field (generated ids: present in each)", style="green")
    return Text(f"final records DIFFER on: {', '.join(comparison.differences)}", style="bold red")


def render(comparison: Comparison) -> Group:
    ids = ", ".join(f"{style} {s.order_id}" for style, s in comparison.summaries.items())
    parts = [
        Text(f"\n{comparison.scenario or 'order'}", style="bold underline"),
        Text(ids, style="dim"),
        steps_table(comparison),
        totals_table(comparison),
        projection_table(comparison),
        verdict(comparison),
    ]
    for style, trace in comparison.traces.items():
        for span in (s for s in trace.spans if s.kind == "recovery"):
            parts.append(Text(f"{style}: the reconciler acted on the order: {span.detail}", style="yellow"))
    for style, s in comparison.summaries.items():
        for warning in s.warnings:
            parts.append(Text(f"warning: {style} trace incomplete: {warning}", style="yellow"))
    return Group(*parts)


def prices_table() -> Table:
    table = Table(title=f"prices ({PRICES_SOURCE}; recorded {PRICES_RECORDED})", title_justify="left")
    table.add_column("service")
    table.add_column("price")
    for service, price in PRICE_TABLE:
        table.add_row(service, price)
    return table


def projection_table(comparison: Comparison) -> Table:
    """End to end as measured here beside its projection on AWS (projection.py)."""
    table = Table(title="end to end: measured here, projected on AWS (ms)", title_justify="left")
    for name in ("", "on AWS as", "measured", "AWS p50", "AWS p99"):
        table.add_column(name, justify="left" if name in ("", "on AWS as") else "right")
    table.add_column("published hops on the path")
    for style, trace in comparison.traces.items():
        for p in project(trace):
            hops = ", ".join(f"{n}× {hop}" for hop, n in p.hops.items())
            table.add_row(style, p.workflow, ms(trace.total_ms), ms(p.p50_ms), ms(p.p99_ms), hops)
    return table


def latency_table() -> Table:
    title = f"published hop latencies ({LATENCY_SOURCE}; recorded {LATENCY_RECORDED})"
    table = Table(title=title, title_justify="left")
    table.add_column("hop")
    table.add_column("latency")
    for hop, figures in LATENCY_TABLE:
        table.add_row(hop, figures)
    return table


def decision_summary(decision: Decision) -> Table:
    """The decision page in short: one verdict per criterion (each style's numbers: in the report)."""
    table = Table(
        title=f"which style? the verdicts on this run's numbers (latency and cost: the {decision.scenario or 'order'} "
        "scenario; per style: the report's decision page)",
        title_justify="left",
    )
    table.add_column("criterion", style="bold")
    table.add_column("verdict")
    for criterion in decision.criteria:
        table.add_row(criterion.name, criterion.verdict)
    return table


def print_all(comparisons: list[Comparison], console: Console | None = None) -> None:
    # Piped output gets room for the widest table instead of rich's default 80 columns.
    console = console or Console(width=None if sys.stdout.isatty() else 120)
    for comparison in comparisons:
        console.print(render(comparison))
    console.print(Text(f"{COLD} cold start: the function's first invocation, paid in the hand-off", style="dim"))
    console.print(Text(RELAY_NOTE, style="dim"))
    console.print(prices_table())
    console.print(latency_table())
