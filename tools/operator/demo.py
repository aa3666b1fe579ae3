"""The demo: each scenario through every deployed style, final records side by side."""

from __future__ import annotations

import sys

from rich.table import Table

from tools import aws
from tools.analysis.compare.records import same_outcome  # shared with `make compare`
from tools.console import console as make_console
from tools.operator import trigger
from tools.operator.scenarios import SCENARIOS

FIELDS = ("status", "failureReason", "reservationId", "paymentId", "trackingNumber")


def shown(record: dict, field: str) -> str:
    value = record.get(field)
    return "—" if value is None else str(value)


def main() -> None:
    console = make_console()  # wide enough that no id is cropped in a log or CI
    failures = 0
    for name, scenario in SCENARIOS.items():
        runs = {}
        for style in aws.STYLES:
            with console.status(f"{name}: {style} running…"):
                runs[style] = trigger.run(style, scenario)
        table = Table(title=f"{name}: {scenario.order}", title_justify="left")
        table.add_column("field")
        for style, result in runs.items():
            table.add_column(f"{style} ({result.seconds:.2f} s)")
        for field in FIELDS:
            table.add_row(field, *(shown(r.record, field) for r in runs.values()))
        table.add_row("stock before → after", *(f"{r.stock_before} → {r.stock_after}" for r in runs.values()))
        console.print(table)
        first, *others = (r.record for r in runs.values())
        agree = all(same_outcome(first, other) for other in others)
        expected = all(r.as_expected for r in runs.values())
        console.print(
            f"  records agree: {'yes' if agree else 'NO'}; expected outcome: "
            f"{'yes' if expected else 'NO'} ({scenario.status})\n"
        )
        failures += (not agree) + (not expected)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
