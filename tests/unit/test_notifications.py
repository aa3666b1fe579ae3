"""The hybrid's notification service: the outcome events the state machine publishes, the rule
(one notification per order, the first delivery wins), and its Lambda on moto."""

from typing import get_args

import boto3
import pytest
from pydantic import ValidationError

from hybrid import notifications
from hybrid.dynamodb import DynamoNotificationStore
from hybrid.handlers import notify_customer
from hybrid.notifications import Notification
from hybrid.notifications import notify_customer as record
from shared.contract import TERMINAL_STATUSES
from shared.domain.order import Status
from shared.events import OUTCOMES, OUTCOMES_BY_NAME, OrderCompleted, OrderFailed
from tests.unit.lambda_events import LambdaContext, bus_event
from tools.analysis.invariants import notification_violations

COMPLETED = {"orderId": "o-1", "customerId": "CUST-1", "end": "OrderCompleted", "status": "SHIPPING_SCHEDULED"}
FAILED = {"orderId": "o-2", "customerId": "CUST-DECLINE", "end": "PaymentFailed", "status": "INVENTORY_RELEASED"}


# --- the outcome events ---------------------------------------------------------------------------


def test_an_outcome_is_found_by_its_detail_type_and_comes_from_the_orders_saga():
    assert {"OrderCompleted": OrderCompleted, "OrderFailed": OrderFailed} == OUTCOMES_BY_NAME
    assert {event.source for event in OUTCOMES} == {"saga.orders"}
    assert OrderCompleted.model_validate(COMPLETED).to_json_dict() == COMPLETED
    assert OrderFailed.model_validate(FAILED).to_json_dict() == FAILED


def test_statuses_are_terminal_and_split_between_shipped_and_not():
    completed = set(get_args(OrderCompleted.model_fields["status"].annotation))
    failed = set(get_args(OrderFailed.model_fields["status"].annotation))
    assert completed == {str(Status.SHIPPING_SCHEDULED)}
    assert failed == {str(Status.INVENTORY_FAILED), str(Status.INVENTORY_RELEASED)}
    # Parked orders are a person's: the state machine fails instead of reaching an end.
    assert completed | failed == TERMINAL_STATUSES - {str(Status.NEEDS_ATTENTION)}


def test_every_end_of_the_state_machine_publishes_a_valid_outcome():
    from hybrid.infra.stack import outcome_detail, outcome_of
    from orchestration.infra.stack import ENDS

    for end in ENDS:
        detail = {k.removesuffix(".$"): v for k, v in outcome_detail(end).items()}
        event = outcome_of(end).model_validate({**detail, "orderId": "o-1", "customerId": "CUST-1"})
        assert (event.end, event.status) == (end.state, str(end.status))


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (OrderCompleted, {**COMPLETED, "status": "INVENTORY_FAILED"}, "status"),
        (OrderFailed, {**FAILED, "status": "SHIPPING_SCHEDULED"}, "status"),
        (OrderFailed, {**FAILED, "status": "NEEDS_ATTENTION"}, "status"),
        (OrderFailed, {**FAILED, "orderId": "not an id"}, "orderId"),
        (OrderFailed, {**FAILED, "customerId": " "}, "customerId"),
        (OrderCompleted, {**COMPLETED, "end": "x" * 65}, "end"),
        (OrderCompleted, {**COMPLETED, "surprise": 1}, "surprise"),
    ],
)
def test_a_malformed_outcome_names_the_bad_field(model, body, field):
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    assert [e["loc"][0] for e in caught.value.errors()] == [field]


@pytest.mark.parametrize("missing", sorted(COMPLETED))
def test_an_outcome_needs_every_field(missing):
    with pytest.raises(ValidationError):
        OrderCompleted.model_validate({k: v for k, v in COMPLETED.items() if k != missing})


# --- the rule: one notification per order, in memory ------------------------------------------------


class MemoryNotifications:
    def __init__(self) -> None:
        self.items: dict[str, Notification] = {}

    def add(self, notification: Notification) -> bool:
        if notification.order_id in self.items:
            return False
        self.items[notification.order_id] = notification
        return True

    def get(self, order_id: str) -> Notification | None:
        return self.items.get(order_id)


def test_an_outcome_is_recorded_once_and_a_duplicate_changes_nothing():
    store = MemoryNotifications()
    first, recorded = record(OrderFailed.model_validate(FAILED), store, now=lambda: "2026-01-01T00:00:00.000+00:00")
    assert recorded
    assert first == Notification(
        "o-2", "CUST-DECLINE", "OrderFailed", "INVENTORY_RELEASED", "PaymentFailed", first.notified_at
    )
    again, recorded = record(OrderFailed.model_validate(FAILED), store, now=lambda: "2026-01-01T00:00:09.000+00:00")
    assert not recorded and again.notified_at != first.notified_at
    assert store.get("o-2") == first  # the first record wins


def test_a_notification_round_trips_as_a_record():
    notification = Notification.of(OrderCompleted.model_validate(COMPLETED), "2026-01-01T00:00:00.000+00:00")
    record_ = notification.as_record()
    assert record_ == {**COMPLETED, "outcome": "OrderCompleted", "notifiedAt": "2026-01-01T00:00:00.000+00:00"}
    assert Notification.from_record(record_) == notification


# --- the Lambda, with its DynamoDB adapter on moto -----------------------------------------------------


@pytest.fixture
def table(aws, monkeypatch):
    boto3.client("dynamodb").create_table(
        TableName="notifications",
        KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("NOTIFICATIONS_TABLE", "notifications")
    monkeypatch.delenv("ORDERS_TABLE", raising=False)  # it never needs the orders
    yield DynamoNotificationStore("notifications")
    notify_customer.store.cache_clear()


def deliver(detail_type: str, detail: dict) -> dict:
    return notify_customer.handler(bus_event(detail_type, "saga.orders", detail), LambdaContext())


def logged(caplog) -> list[tuple[str, str | None, str | None]]:
    """(message, step, outcome or reason) of each line the handler logged."""
    return [
        (r.getMessage(), getattr(r, "step", None), getattr(r, "outcome", None) or getattr(r, "reason", None))
        for r in caplog.records
    ]


def test_the_handler_records_the_outcome_and_logs_like_a_step(table, caplog):
    answer = deliver("OrderCompleted", COMPLETED)
    stored = table.get("o-1")
    assert stored is not None and stored.as_record() == answer
    assert (stored.outcome, stored.status, stored.end, stored.customer_id) == (
        "OrderCompleted",
        "SHIPPING_SCHEDULED",
        "OrderCompleted",
        "CUST-1",
    )
    assert logged(caplog) == [
        ("step started", "notify_customer", None),
        ("step done", "notify_customer", notifications.CUSTOMER_NOTIFIED),
    ]


def test_a_duplicate_delivery_is_skipped_and_the_first_record_stays(table, caplog):
    deliver("OrderFailed", FAILED)
    first = table.get("o-2")
    deliver("OrderFailed", FAILED)
    assert table.get("o-2") == first
    assert logged(caplog)[-1] == ("step skipped", "notify_customer", notifications.ALREADY_NOTIFIED)


def test_another_detail_type_is_a_wiring_error(table):
    with pytest.raises(ValueError, match="does not react to OrderCreated"):
        deliver("OrderCreated", COMPLETED)
    assert table.get("o-1") is None


def test_a_malformed_outcome_is_refused_and_nothing_is_recorded(table):
    with pytest.raises(ValidationError):
        deliver("OrderFailed", {**FAILED, "status": "SHIPPING_SCHEDULED"})
    assert table.get("o-2") is None


# --- the invariant `make chaos` checks on them ---------------------------------------------------------


def ended(order_id: str, status: str) -> dict:
    return {"orderId": order_id, "status": status}


def notification(order_id: str, outcome: str, status: str) -> Notification:
    return Notification(order_id, "CUST-1", outcome, status, "End", "2026-01-01T00:00:00.000+00:00")


def test_every_ended_order_notified_with_its_outcome_is_no_violation():
    records = [ended("a", "SHIPPING_SCHEDULED"), ended("b", "INVENTORY_FAILED"), ended("c", "INVENTORY_RELEASED")]
    notified = {
        "a": notification("a", "OrderCompleted", "SHIPPING_SCHEDULED"),
        "b": notification("b", "OrderFailed", "INVENTORY_FAILED"),
        "c": notification("c", "OrderFailed", "INVENTORY_RELEASED"),
    }
    assert notification_violations(records, notified) == []


def test_a_missing_or_wrong_notification_is_a_violation_unless_its_outcome_is_parked():
    records = [ended("a", "SHIPPING_SCHEDULED"), ended("b", "INVENTORY_RELEASED"), ended("c", "INVENTORY_FAILED")]
    notified = {"a": None, "b": notification("b", "OrderCompleted", "SHIPPING_SCHEDULED"), "c": None}
    found = notification_violations(records, notified, dead_letters={"c"})
    assert found == [
        "order a (SHIPPING_SCHEDULED): no customer notification, and none in the dead-letter queue",
        "order b (INVENTORY_RELEASED): notified OrderCompleted with status SHIPPING_SCHEDULED",
    ]


def test_an_order_that_reached_no_end_is_not_notified():
    parked = notification("p", "OrderFailed", "INVENTORY_RELEASED")
    records = [ended("p", "NEEDS_ATTENTION"), ended("q", "PAYMENT_CHARGED")]
    found = notification_violations(records, {"p": parked, "q": None})
    assert found == ["order p (NEEDS_ATTENTION): notified OrderFailed without reaching an end"]
