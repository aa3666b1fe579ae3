"""No order left behind, on the deployed stacks: orders put in the orders table as a crash would
leave them are finished by the outbox relay or the reconciler, in both styles, with stock and
the payment ledger consistent; the operator's view shows open and parked orders."""

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shared.domain.order import Order, Status
from tools import aws
from tools.operator import trigger

# The reconciler runs every minute: a planted order must be finished within a few periods.
RECOVERY_TIMEOUT = 200


def planted(style: str, sku: str, status: Status, minutes_idle: float = 30, **fields) -> Order:
    """An order stored as a crash would leave it: mid-saga, nothing running, idle for a while."""
    at = (datetime.now(UTC) - timedelta(minutes=minutes_idle)).isoformat(timespec="milliseconds")
    values = {
        "order_id": str(uuid.uuid4()),
        "customer_id": "CUST-1",
        "sku": sku,
        "quantity": 2,
        "amount": Decimal("12.5"),
        "status": status,
        "created_at": at,
        "updated_at": at,
        **fields,
    }
    order = Order(**values)
    aws.store(style).add(order)
    return order


@pytest.fixture(scope="module")
def crashed(deployed):
    """Per style: a SKU with 10 units, and orders left behind by crashes in several states."""
    found = {}
    for style in aws.STYLES:
        sku = trigger.stocked_sku(style, 10, prefix="CRASH")
        store, ledger = aws.store(style), aws.ledger(style)
        store.set_stock(sku, 10 - 2 - 2)  # the two reserved orders below took their units
        reserved = planted(style, sku, Status.INVENTORY_RESERVED, reservation_id="RES-1")
        charged_id = str(uuid.uuid4())  # charged, and the answer lost: the ledger has the charge
        payment_id = ledger.charge(charged_id, Decimal("12.5"))
        planted(
            style,
            sku,
            Status.PAYMENT_CHARGED,
            order_id=charged_id,
            customer_id="CUST-UNDELIVERABLE",
            reservation_id="RES-2",
            payment_id=payment_id,
        )
        created = planted(style, sku, Status.CREATED)
        found[style] = (sku, [reserved.order_id, charged_id, created.order_id])
    return found


@pytest.mark.parametrize("style", aws.STYLES)
def test_orders_left_by_a_crash_are_finished_on_their_own(crashed, style):
    sku, order_ids = crashed[style]
    records = [trigger.wait_for_terminal(style, oid, RECOVERY_TIMEOUT) for oid in order_ids]
    reserved, charged, created = records
    assert reserved["status"] == "SHIPPING_SCHEDULED" and reserved["recoveryAttempts"] == 1
    # Undeliverable after the charge: refunded, then released; the ledger nets to zero.
    assert (charged["status"], charged["failureReason"]) == ("INVENTORY_RELEASED", "address undeliverable")
    assert charged["refundId"] and charged["recoveryAttempts"] == 1
    # A CREATED order is started by the outbox relay as soon as it is stored.
    assert created["status"] == "SHIPPING_SCHEDULED" and "recoveryAttempts" not in created
    assert trigger.stock(style, sku) == 10 - 2 - 2
    kinds = sorted(str(e.entry) for e in aws.ledger(style).entries(charged["orderId"]))
    assert kinds == ["CHARGE", "REFUND"]


def test_the_operators_view_lists_open_and_parked_orders(deployed):
    style = "choreography"
    sku = trigger.stocked_sku(style, 0, prefix="VIEW")
    parked = planted(style, sku, Status.NEEDS_ATTENTION, failure_reason="stuck in CREATED after 5 recovery attempts")
    waiting = planted(
        style,
        sku,
        Status.PAYMENT_FAILED,
        minutes_idle=0,
        reservation_id="R",
        customer_id="CUST-DECLINE",
        failure_reason="card declined",
    )
    shown = subprocess.run(
        [sys.executable, "-m", "tools.operator.stuck", "--style", style, "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    [view] = json.loads(shown.stdout)
    assert parked.order_id in [r["orderId"] for r in view["needsAttention"]]
    assert waiting.order_id in [r["orderId"] for r in view["open"]]
    assert parked.order_id not in [r["orderId"] for r in view["open"]]
    assert view["deadLetterQueue"] is not None and view["alarms"]
