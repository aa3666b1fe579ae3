import uuid
from decimal import Decimal

import pytest

from shared.domain import inventory, payment, shipping
from shared.domain.order import (
    TERMINAL,
    TRANSITIONS,
    InvalidTransition,
    Order,
    Status,
    camel,
    snake,
)

OPEN = [s for s in Status if s not in TERMINAL]


def placed(**overrides) -> Order:
    order = Order.place("CUST-1", "SKU-1", 2, Decimal("10.00"))
    return order if not overrides else Order(**{**order.__dict__, **overrides})


def test_a_placed_order_is_created_with_a_uuid_and_timestamps():
    order = placed()
    assert order.status is Status.CREATED and len(order.order_id) == 36
    assert order.created_at == order.updated_at != ""


def test_order_ids_are_random_even_for_the_same_request():
    # An idempotency key names its order through a record of its own (shared.domain.idempotency),
    # never through the id: ids cannot be guessed from a key or a customer.
    first = Order.place("CUST-1", "SKU-1", 2, Decimal("10"))
    again = Order.place("CUST-1", "SKU-1", 2, Decimal("10"))
    assert first.order_id != again.order_id
    assert uuid.UUID(first.order_id).version == 4


@pytest.mark.parametrize(
    "path",
    [
        [Status.INVENTORY_RESERVED, Status.PAYMENT_CHARGED, Status.SHIPPING_SCHEDULED],
        [Status.INVENTORY_FAILED],
        [Status.INVENTORY_RESERVED, Status.PAYMENT_FAILED, Status.INVENTORY_RELEASED],
        [
            Status.INVENTORY_RESERVED,
            Status.PAYMENT_CHARGED,
            Status.SHIPPING_FAILED,
            Status.PAYMENT_REFUNDED,
            Status.INVENTORY_RELEASED,
        ],
        # Shipping never answered: refund straight from the charge.
        [
            Status.INVENTORY_RESERVED,
            Status.PAYMENT_CHARGED,
            Status.PAYMENT_REFUNDED,
            Status.INVENTORY_RELEASED,
        ],
        # Payment never answered but did charge: refund from the reservation.
        [Status.INVENTORY_RESERVED, Status.PAYMENT_REFUNDED, Status.INVENTORY_RELEASED],
    ],
)
def test_saga_paths_end_terminal(path):
    order = placed()
    for status in path:
        assert not order.is_terminal
        order = order.advance(status)
    assert order.is_terminal


@pytest.mark.parametrize(
    ("start", "wanted"),
    [
        (Status.CREATED, Status.PAYMENT_CHARGED),
        (Status.CREATED, Status.INVENTORY_RELEASED),
        (Status.INVENTORY_FAILED, Status.INVENTORY_RESERVED),
        (Status.SHIPPING_SCHEDULED, Status.INVENTORY_RELEASED),
        (Status.SHIPPING_SCHEDULED, Status.PAYMENT_REFUNDED),
        (Status.INVENTORY_RELEASED, Status.INVENTORY_RELEASED),
        (Status.PAYMENT_FAILED, Status.SHIPPING_SCHEDULED),
        (Status.PAYMENT_FAILED, Status.PAYMENT_REFUNDED),
        # Compensation runs backwards: never release before the refund.
        (Status.INVENTORY_RESERVED, Status.INVENTORY_RELEASED),
        (Status.PAYMENT_CHARGED, Status.INVENTORY_RELEASED),
        (Status.SHIPPING_FAILED, Status.INVENTORY_RELEASED),
        (Status.SHIPPING_FAILED, Status.SHIPPING_SCHEDULED),
        (Status.PAYMENT_REFUNDED, Status.PAYMENT_CHARGED),
        (Status.NEEDS_ATTENTION, Status.CREATED),
    ],
)
def test_illegal_transitions_are_refused(start, wanted):
    with pytest.raises(InvalidTransition) as caught:
        placed(status=start).advance(wanted)
    assert (caught.value.current, caught.value.wanted) == (start, wanted)


@pytest.mark.parametrize("status", OPEN)
def test_every_open_status_may_be_parked_for_a_person(status):
    parked = placed(status=status).advance(Status.NEEDS_ATTENTION, failure_reason="stuck")
    assert parked.status is Status.NEEDS_ATTENTION and parked.is_terminal


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_a_terminal_status_moves_nowhere(status):
    order = placed(status=status)
    for wanted in Status:
        with pytest.raises(InvalidTransition):
            order.advance(wanted)


def test_every_status_is_either_open_or_terminal():
    assert set(TRANSITIONS) == set(OPEN)
    assert {Status.SHIPPING_FAILED, Status.PAYMENT_REFUNDED} <= set(OPEN)
    assert set(TERMINAL) == {
        Status.INVENTORY_FAILED,
        Status.SHIPPING_SCHEDULED,
        Status.INVENTORY_RELEASED,
        Status.NEEDS_ATTENTION,
    }


def test_advance_stamps_a_new_update_time_and_keeps_the_rest():
    order = placed(updated_at="2000-01-01T00:00:00.000+00:00")
    reserved = order.advance(Status.INVENTORY_RESERVED, reservation_id="RES-1")
    assert reserved.updated_at > order.updated_at and reserved.created_at == order.created_at
    assert (reserved.reservation_id, reserved.amount) == ("RES-1", order.amount)


def test_noted_counts_the_attempt_without_moving_the_status():
    order = placed(status=Status.PAYMENT_CHARGED, updated_at="2000-01-01T00:00:00.000+00:00")
    once = order.noted("resumed from PAYMENT_CHARGED")
    twice = once.noted("resumed again")
    assert (once.status, once.recovery_attempts, once.last_recovery) == (
        Status.PAYMENT_CHARGED,
        1,
        "resumed from PAYMENT_CHARGED",
    )
    assert once.updated_at > order.updated_at
    assert (twice.recovery_attempts, twice.last_recovery) == (2, "resumed again")


def test_record_round_trip_uses_camel_case_and_drops_unset_fields():
    order = placed().advance(Status.INVENTORY_RESERVED, reservation_id="RES-1")
    record = order.as_record()
    assert record["reservationId"] == "RES-1" and record["status"] == "INVENTORY_RESERVED"
    assert "paymentId" not in record and "recoveryAttempts" not in record
    assert Order.from_record(record) == order


def test_record_round_trip_keeps_every_field_set():
    order = placed(
        status=Status.PAYMENT_REFUNDED,
        reservation_id="RES-1",
        payment_id="PAY-1",
        refund_id="REF-1",
        failure_reason="address undeliverable",
    ).noted("resumed from PAYMENT_REFUNDED")
    record = order.as_record()
    assert {"refundId", "failureReason", "recoveryAttempts", "lastRecovery", "updatedAt"} <= set(record)
    # As DynamoDB hands numbers back, and with attributes the order does not know (the index key).
    stored = {**record, "recoveryAttempts": Decimal(1), "quantity": Decimal(2), "watch": "open"}
    assert Order.from_record(stored) == order


@pytest.mark.parametrize(
    ("snake_name", "camel_name"),
    [
        ("order_id", "orderId"),
        ("status", "status"),
        ("recovery_attempts", "recoveryAttempts"),
        ("last_recovery", "lastRecovery"),
        ("refund_id", "refundId"),
    ],
)
def test_camel_and_snake_are_inverse(snake_name, camel_name):
    assert camel(snake_name) == camel_name and snake(camel_name) == snake_name


def test_every_field_name_survives_the_round_trip():
    assert all(snake(camel(name)) == name for name in Order.__dataclass_fields__)


def test_stock_never_goes_below_zero():
    assert inventory.can_apply(stock=2, delta=-2)
    assert not inventory.can_apply(stock=1, delta=-2)
    assert inventory.can_apply(stock=0, delta=+3)
    assert not inventory.is_stocked("OUT-OF-STOCK") and inventory.is_stocked("SKU-1")


def test_payment_declines_only_the_declining_customer():
    declined = payment.authorize(placed(customer_id="CUST-DECLINE"))
    approved = payment.authorize(placed())
    assert (declined.approved, declined.reason) == (False, "card declined")
    assert (approved.approved, approved.reason) == (True, None)


def test_payment_and_refund_ids_are_distinct_and_prefixed():
    assert payment.new_payment_id().startswith("PAY-")
    assert payment.new_refund_id().startswith("REF-")
    assert payment.new_payment_id() != payment.new_payment_id()


def test_shipping_refuses_only_the_undeliverable_customer():
    refused = shipping.schedule(placed(customer_id="CUST-UNDELIVERABLE"))
    accepted = shipping.schedule(placed())
    assert (refused.accepted, refused.tracking_number, refused.reason) == (
        False,
        None,
        "address undeliverable",
    )
    assert accepted.accepted and accepted.tracking_number.startswith("TRK-")
    assert accepted.reason is None


def test_tracking_numbers_are_trk_and_eight_upper_hex():
    numbers = {shipping.new_tracking_number() for _ in range(50)}
    assert len(numbers) == 50
    assert all(n[:4] == "TRK-" and len(n) == 12 and n[4:] == n[4:].upper() for n in numbers)
    assert all(int(n[4:], 16) >= 0 for n in numbers)
