"""Send scenario orders through a deployed style's API and wait for each to finish.

    python -m tools.operator.trigger [--style orchestration|choreography|hybrid]
                                     [--scenario happy|out-of-stock|declined|undeliverable]

Prints each order's final record as JSON. Exits non-zero if an order does not reach a terminal
status before the deadline, or reaches another outcome than its scenario's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from dataclasses import dataclass

import requests

from shared.contract import TERMINAL_STATUSES
from tools import aws
from tools.operator.scenarios import SCENARIOS, Scenario


@dataclass
class Run:
    style: str
    scenario: Scenario
    record: dict
    seconds: float
    stock_before: int
    stock_after: int

    @property
    def as_expected(self) -> bool:
        return (self.record.get("status"), self.record.get("failureReason")) == (
            self.scenario.status,
            self.scenario.failure_reason,
        )


class TriggerFailed(SystemExit):
    pass


def place_order(style: str, order: dict) -> requests.Response:
    return requests.post(aws.orders_url(style), json=order, timeout=30)


def wait_for_terminal(style: str, order_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    record: dict = {}
    while time.monotonic() < deadline:
        record = aws.read_order(style, order_id)
        if record["status"] in TERMINAL_STATUSES:
            return record
        time.sleep(0.2)
    raise TriggerFailed(f"error: {style} order {order_id} still {record.get('status')} after {timeout:.0f} s")


def stock(style: str, sku: str) -> int:
    return aws.store(style).stock(sku)


def stocked_sku(style: str, units: int, prefix: str) -> str:
    """A new SKU holding `units`, so a run's stock checks are not disturbed by other orders."""
    sku = f"{prefix}-{uuid.uuid4().hex[:8].upper()}"
    aws.store(style).set_stock(sku, units)
    return sku


def run(style: str, scenario: Scenario, timeout: float = 60) -> Run:
    before = stock(style, scenario.order["sku"])
    started = time.monotonic()
    answer = place_order(style, scenario.order)
    if answer.status_code != 201:
        raise TriggerFailed(f"error: {style} API answered {answer.status_code}: {answer.text}")
    record = wait_for_terminal(style, answer.json()["orderId"], timeout)
    elapsed = time.monotonic() - started
    return Run(style, scenario, record, elapsed, before, stock(style, scenario.order["sku"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", choices=aws.STYLES, action="append")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per order")
    args = parser.parse_args()
    failures = 0
    for style in args.style or aws.STYLES:
        for name in args.scenario or SCENARIOS:
            result = run(style, SCENARIOS[name], args.timeout)
            shown = {
                "style": style,
                "scenario": name,
                "seconds": round(result.seconds, 2),
                "stock": [result.stock_before, result.stock_after],
                "order": result.record,
            }
            print(json.dumps(shown, indent=2))
            if not result.as_expected:
                failures += 1
                print(f"error: expected {result.scenario.status}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
