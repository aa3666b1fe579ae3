"""The comparison as rich tables: per scenario, the steps side by side, then the totals."""

from __future__ import annotations

import sys
from decimal import Decimal

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from shared.contract import ORCHESTRATION
from tools.analysis.compare.comparison import Comparison, StepCell, StepRow, StyleSummary
from tools.analysis.compare.prices import PRICE_TABLE, PRICES_RECORDED, PRICES_SOURCE

COLD = "*"
NOT_TIMED = "n/a"
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
    """The step's outcome, once if every style agrees (the usual case), else per style."""
    shown = []
    for style in styles:
        cell = row.cells.get(style)
        shown.append("not run" if cell is None else cell.outcome + (f" ×{cell.attempts}" if cell.attempts > 1 else ""))
    return shown[0] if len(set(shown)) == 1 else " / ".join(f"{s[:5]}: {o}" for s, o in zip(styles, shown, strict=True))


def steps_table(comparison: Comparison) -> Table:
    styles = list(comparison.summaries)
    table = Table(title="steps, in the order they ran (ms)", title_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column("step")
    table.add_column("outcome")
    for style in styles:
        color = "cyan" if style == ORCHESTRATION else "magenta"
        table.add_column(f"{style}\nhand-off", justify="right", header_style=f"bold {color}")
        table.add_column("\nhandler", justify="right", header_style=f"bold {color}")
    for number, row in enumerate(comparison.rows, 1):
        numbers = [part for style in styles for part in _numbers(row.cells.get(style))]
        table.add_row(str(number), row.step, outcome(row, styles), *numbers)
    return table


def _metrics(s: StyleSummary) -> dict[str, str]:
    c = s.counts
    workflow = "EventBridge" if c.events and not c.transitions else "Step Functions"
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
        return Text("final records agree field by field (generated ids: present in both)", style="green")
    return Text(f"final records DIFFER on: {', '.join(comparison.differences)}", style="bold red")


def render(comparison: Comparison) -> Group:
    ids = ", ".join(f"{style} {s.order_id}" for style, s in comparison.summaries.items())
    parts = [
        Text(f"\n{comparison.scenario or 'order'}", style="bold underline"),
        Text(ids, style="dim"),
        steps_table(comparison),
        totals_table(comparison),
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


def print_all(comparisons: list[Comparison], console: Console | None = None) -> None:
    # Piped output gets room for the widest table instead of rich's default 80 columns.
    console = console or Console(width=None if sys.stdout.isatty() else 120)
    for comparison in comparisons:
        console.print(render(comparison))
    console.print(Text(f"{COLD} cold start: the function's first invocation, paid in the hand-off", style="dim"))
    console.print(Text(RELAY_NOTE, style="dim"))
    console.print(prices_table())
