"""The operator's view: per style, the orders still open (age, last step, what the reconciler
did), the orders parked for a person, the dead-letter queue's depth and the alarms.

    python -m tools.operator.stuck [--style S] [--json]

Reads through the runtime's own adapter (the store's index of open orders, no table scan).
Exits 0; the tables say what needs doing.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from rich.table import Table

from shared.domain.order import Order, now_iso
from tools import aws
from tools.console import console


def age_seconds(order: Order, now: datetime) -> float:
    return (now - datetime.fromisoformat(order.updated_at)).total_seconds()


def row(order: Order, now: datetime) -> dict:
    return {
        "orderId": order.order_id,
        "status": str(order.status),
        "idleSeconds": round(age_seconds(order, now), 1),
        "createdAt": order.created_at,
        "recoveryAttempts": order.recovery_attempts or 0,
        "lastRecovery": order.last_recovery or "",
        "reason": order.failure_reason or "",
    }


def alarms(style: str) -> list[dict]:
    prefix = aws.outputs(style).get("AlarmNamePrefix") or f"{aws.STACKS[style]}-"
    found = aws.client("cloudwatch").describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]
    return [{"name": a["AlarmName"], "state": a["StateValue"]} for a in found]


def dlq_depth(style: str) -> int | None:
    url = aws.outputs(style).get("DeadLetterQueueUrl")
    if not url:
        return None
    found = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(found["Attributes"]["ApproximateNumberOfMessages"])


def view(style: str) -> dict:
    store, now = aws.store(style), datetime.now(UTC)
    return {
        "style": style,
        "open": [row(o, now) for o in store.open_orders(updated_before=now_iso())],
        "needsAttention": [row(o, now) for o in store.orders_needing_attention()],
        "deadLetterQueue": dlq_depth(style),
        "alarms": alarms(style),
    }


def print_view(v: dict) -> None:
    out = console()
    columns = ("order", "status", "idle s", "recovery attempts", "last recovery")
    table = Table(title=f"{v['style']}: {len(v['open'])} open order(s)")
    for column in columns:
        table.add_column(column)
    for r in v["open"]:
        table.add_row(
            r["orderId"], r["status"], f"{r['idleSeconds']:.0f}", str(r["recoveryAttempts"]), r["lastRecovery"]
        )
    out.print(table)
    parked = Table(title=f"{v['style']}: {len(v['needsAttention'])} order(s) waiting for a person")
    for column in ("order", "since", "reason"):
        parked.add_column(column)
    for r in v["needsAttention"]:
        parked.add_row(r["orderId"], r["createdAt"], r["reason"])
    out.print(parked)
    firing = [a["name"] for a in v["alarms"] if a["state"] == "ALARM"]
    out.print(
        f"dead-letter queue: {v['deadLetterQueue']} message(s); "
        f"alarms: {len(v['alarms'])}, in ALARM: {', '.join(firing) or 'none'}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", choices=aws.STYLES, action="append")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args()
    views = [view(style) for style in args.style or aws.STYLES]
    if args.json:
        print(json.dumps(views, indent=2))
        return
    for v in views:
        print_view(v)


if __name__ == "__main__":
    main()
