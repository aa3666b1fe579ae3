"""The failure reasons a customer sees: a fixed set (shared.domain.reasons), whatever text the saga
stored; the stored text stays on the record for operators. The rules, then GET /orders/{orderId}."""

import json
from dataclasses import replace
from decimal import Decimal

import pytest

from shared import steps
from shared.adapters.dynamodb import DynamoSagaStore
from shared.domain.order import Order, Status
from shared.domain.reasons import PUBLIC_REASONS, public_reason
from shared.entrypoints import get_order
from shared.events import OrderCreated, OrderRequest, StepFailed
from tests.fakes import InMemoryLedger, InMemorySagaStore
from tests.unit.lambda_events import LambdaContext, api_request

# Written out here on purpose: the set is part of the API's contract (README).
PUBLIC = {
    "out of stock",
    "card declined",
    "address undeliverable",
    "payment did not complete",
    "shipping did not complete",
    "needs attention",
}
TIMEOUT = "Task timed out after 10.00 seconds"
PAID = {"payment_id": "P"}
REFUNDED, RELEASED, PARKED = Status.PAYMENT_REFUNDED, Status.INVENTORY_RELEASED, Status.NEEDS_ATTENTION


def order(status: Status, reason: str | None, **fields) -> Order:
    placed = Order.place("CUST-1", "SKU-1", 1, Decimal("5"))
    return replace(placed, status=status, failure_reason=reason, **fields)


def test_the_public_set_is_the_documented_one():
    assert PUBLIC_REASONS == PUBLIC


@pytest.mark.parametrize(
    ("stored", "status", "fields", "shown"),
    [
        (None, Status.SHIPPING_SCHEDULED, {}, None),
        (None, Status.CREATED, {}, None),
        ("out of stock", Status.INVENTORY_FAILED, {}, "out of stock"),
        ("card declined", Status.INVENTORY_RELEASED, {}, "card declined"),
        ("address undeliverable", Status.INVENTORY_RELEASED, {"payment_id": "P"}, "address undeliverable"),
        (f"payment did not complete: {TIMEOUT}", Status.INVENTORY_RELEASED, {}, "payment did not complete"),
        ("payment did not complete", Status.PAYMENT_FAILED, {}, "payment did not complete"),
        (f"shipping did not complete: {TIMEOUT}", REFUNDED, PAID, "shipping did not complete"),
        # The reconciler's note, with the order's earlier reason inside it.
        ("stuck in CREATED after 5 recovery attempts", Status.NEEDS_ATTENTION, {}, "needs attention"),
        ("stuck in PAYMENT_FAILED after 5 recovery attempts (card declined)", PARKED, {}, "needs attention"),
        # Text the saga did not write for customers: the step that stopped, never the text.
        ("KeyError: 'stock' at line 12", Status.INVENTORY_RELEASED, {}, "payment did not complete"),
        ("botocore timeout talking to 10.0.0.12", RELEASED, PAID, "shipping did not complete"),
        ("ValidationException: something", Status.INVENTORY_FAILED, {}, "out of stock"),
    ],
)
def test_each_stored_reason_is_shown_as_one_of_the_set(stored, status, fields, shown):
    assert public_reason(order(status, stored, **fields)) == shown


def test_every_reason_the_steps_record_maps_to_itself_or_its_phrase():
    """Drive the steps down each failure path (fakes): what they store is shown from the set."""
    store, ledger = InMemorySagaStore({"SKU-1": 5}), InMemoryLedger()
    placed = {
        name: steps.create_order(OrderRequest.model_validate(body), store)[0]
        for name, body in {
            "out-of-stock": {"customerId": "CUST-1", "sku": "OUT-OF-STOCK", "quantity": 1, "amount": 5},
            "declined": {"customerId": "CUST-DECLINE", "sku": "SKU-1", "quantity": 1, "amount": 5},
            "lost": {"customerId": "CUST-1", "sku": "SKU-1", "quantity": 1, "amount": 5},
        }.items()
    }
    for name, placed_order in placed.items():
        reserved = steps.reserve_inventory(steps.outcome_event(placed_order, OrderCreated), store)
        if name == "declined":
            failed = steps.charge_payment(reserved, store, ledger)
            steps.release_inventory(failed, store)
        elif name == "lost":  # the charge never answered: the orchestrator's Catch compensates
            caught = StepFailed.model_validate({"orderId": placed_order.order_id, "reason": TIMEOUT})
            steps.release_inventory(steps.refund_payment(caught, store, ledger), store)
    shown = {name: public_reason(store.get(o.order_id)) for name, o in placed.items()}
    assert shown == {"out-of-stock": "out of stock", "declined": "card declined", "lost": "payment did not complete"}
    assert TIMEOUT in store.get(placed["lost"].order_id).failure_reason  # kept for operators


# --- GET /orders/{orderId} ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def open_api(monkeypatch):
    monkeypatch.setenv("CUSTOMER_IDENTITY", "body")


def get(order_id: str) -> dict:
    event = api_request("GET", f"/orders/{order_id}", resource="/orders/{orderId}")
    answer = get_order.handler(event, LambdaContext())
    assert answer["statusCode"] == 200
    return json.loads(answer["body"])


@pytest.mark.parametrize(
    ("status", "stored", "shown"),
    [
        (Status.INVENTORY_RELEASED, f"payment did not complete: {TIMEOUT}", "payment did not complete"),
        (Status.NEEDS_ATTENTION, "stuck in CREATED after 5 recovery attempts", "needs attention"),
        (Status.INVENTORY_RELEASED, "card declined", "card declined"),
    ],
)
def test_get_shows_the_public_reason_and_the_record_keeps_the_text(tables, status, stored, shown):
    store = DynamoSagaStore("orders", "inventory")
    kept = order(status, stored)
    store.add(kept)
    record = get(kept.order_id)
    assert record["failureReason"] == shown
    assert TIMEOUT not in json.dumps(record) and "recovery attempts" not in json.dumps(record)
    assert store.get(kept.order_id).failure_reason == stored
    assert {k: v for k, v in record.items() if k != "failureReason"} == {
        k: v for k, v in json.loads(json.dumps(kept.as_record(), default=float)).items() if k != "failureReason"
    }


def test_an_order_that_has_not_failed_shows_no_reason(tables):
    store = DynamoSagaStore("orders", "inventory")
    kept = order(Status.SHIPPING_SCHEDULED, None, tracking_number="TRK-1")
    store.add(kept)
    assert "failureReason" not in get(kept.order_id)
