"""Randomized resilience run on the deployed stacks: many orders against low stock, with faults
injected into every step and duplicate deliveries, then every guarantee checked.

    python -m tools.chaos [--orders 40] [--seed 7] [--fault-rate 0.2] [--duplicates 0.25]

The seed fixes the orders (scenario mix, quantities) and which of them are delivered twice, so
a run can be repeated; the fault draws happen inside the Lambdas. Exits non-zero on any
invariant violation.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from tools import aws, dlq, faults, invariants, trigger

MIX = (("happy", 7), ("declined", 2), ("out-of-stock", 1))
CUSTOMERS = {"happy": "CUST-1", "declined": "CUST-DECLINE", "out-of-stock": "CUST-1"}


@dataclass
class ChaosResult:
    style: str
    orders: int
    stock_before: int
    stock_after: int = 0
    duplicates: int = 0
    faults: int = 0
    redriven: int = 0
    records: list[dict] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    @property
    def compensations(self) -> int:
        return sum(r["status"] == "INVENTORY_RELEASED" for r in self.records)


def plan(rng: random.Random, orders: int, sku: str) -> list[dict]:
    names = rng.choices([n for n, _ in MIX], weights=[w for _, w in MIX], k=orders)
    return [
        {"customerId": CUSTOMERS[n], "sku": "OUT-OF-STOCK" if n == "out-of-stock" else sku,
         "quantity": rng.randint(1, 3), "amount": round(rng.uniform(5, 500), 2)}
        for n in names
    ]  # fmt: skip


def deliver_again(style: str, record: dict) -> None:
    """The saga's start delivered a second time, as at-least-once delivery may."""
    created = {k: record[k] for k in ("orderId", "customerId", "sku", "quantity", "amount")}
    out = aws.outputs(style)
    if style == "choreography":
        aws.client("events").put_events(Entries=[{
            "EventBusName": out["EventBusName"], "Source": "saga.orders",
            "DetailType": "OrderCreated", "Detail": json.dumps(created),
        }])  # fmt: skip
        return
    sfn = aws.client("stepfunctions")
    try:
        sfn.start_execution(stateMachineArn=out["StateMachineArn"], name=record["orderId"], input=json.dumps(created))
    except sfn.exceptions.ExecutionAlreadyExists:
        pass


def count_faults(style: str, since_ms: int) -> int:
    logs, total = aws.client("logs"), 0
    for step in faults.STEPS:
        group = f"/aws/lambda/{faults.function_name(style, step)}"
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=since_ms)
        # Filtered here too: LocalStack ignores startTime.
        total += sum("TransientFault: injected fault" in e["message"] and e["timestamp"] >= since_ms
                     for p in pages for e in p["events"])  # fmt: skip
    return total


def run(style: str, orders: int, seed: int, fault_rate: float, duplicate_share: float,
        timeout: float = 120) -> ChaosResult:  # fmt: skip
    rng = random.Random(f"{seed}-{style}")
    result = ChaosResult(style, orders, stock_before=max(1, orders // 2))
    sku = trigger.stocked_sku(style, result.stock_before, prefix="CHAOS")
    bodies = plan(rng, orders, sku)
    since_ms = int(time.time() * 1000) - 1000
    faults.set_rate(style, fault_rate)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda body: trigger.place_order(style, body), bodies))
        order_ids = [a.json()["orderId"] for a in answers if a.status_code == 201]
        refused = [f"{a.status_code} {a.text[:120]}" for a in answers if a.status_code != 201]
        twice = rng.sample(order_ids, k=int(len(order_ids) * duplicate_share))
        for record in settle(style, twice, timeout):
            deliver_again(style, record)
        result.duplicates = len(twice)
        result.records = settle_with_redrive(style, order_ids, timeout, result)
    finally:
        faults.set_rate(style, 0)
    result.stock_after = trigger.stock(style, sku)
    result.faults = count_faults(style, since_ms)
    result.violations = invariants.violations(result.records, result.stock_before, result.stock_after)
    if refused:
        result.violations.append(f"{len(refused)} orders refused by the API: {'; '.join(refused)}")
    return result


def settle(style: str, order_ids: list[str], timeout: float) -> list[dict]:
    """Each order's record once terminal, or as it stands when the shared deadline passes."""
    deadline = time.monotonic() + timeout
    records = []
    for oid in order_ids:
        try:
            records.append(trigger.wait_for_terminal(style, oid, max(1.0, deadline - time.monotonic())))
        except trigger.TriggerFailed:
            records.append(trigger.current(style, oid))
    return records


def settle_with_redrive(style: str, order_ids: list[str], timeout: float, result: ChaosResult) -> list[dict]:
    records = settle(style, order_ids, timeout)
    stuck = [r["orderId"] for r in records if r["status"] not in trigger.TERMINAL_STATUSES]
    if not stuck or style != "choreography":
        return records
    # Choreography parks what failed all its retries in the dead-letter queue: redrive it.
    queue = aws.outputs(style)["DeadLetterQueueUrl"]
    result.redriven = dlq.redrive(queue, dlq.receive_all(queue))
    return settle(style, order_ids, timeout)


def report(results: list[ChaosResult]) -> None:
    table = Table(title="chaos: invariants under faults, duplicates and concurrency")
    columns = ("style", "orders", "faults injected", "duplicates", "redriven from DLQ",
               "compensations", "stock before → after", "violations")  # fmt: skip
    for column in columns:
        table.add_column(column)
    for r in results:
        table.add_row(r.style, str(r.orders), str(r.faults), str(r.duplicates), str(r.redriven),
                      str(r.compensations), f"{r.stock_before} → {r.stock_after}",
                      f"[{'red' if r.violations else 'green'}]{len(r.violations)}")  # fmt: skip
    console = Console()
    console.print(table)
    for r in results:
        for violation in r.violations:
            console.print(f"[red]{r.style}: {violation}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--duplicates", type=float, default=0.25, help="share of orders delivered twice")
    parser.add_argument("--style", choices=aws.STYLES, action="append")
    args = parser.parse_args()
    results = [run(s, args.orders, args.seed, args.fault_rate, args.duplicates) for s in args.style or aws.STYLES]
    report(results)
    sys.exit(1 if any(r.violations for r in results) else 0)


if __name__ == "__main__":
    main()
