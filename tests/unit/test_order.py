from decimal import Decimal

import pytest

from shared.domain import inventory, payment, shipping
from shared.domain.order import InvalidTransition, Order, Status


def placed(**overrides) -> Order:
    order = Order.place("CUST-1", "SKU-1", 2, Decimal("10.00"))
    return order if not overrides else Order(**{**order.__dict__, **overrides})


def test_a_placed_order_is_created_with_a_uuid_and_timestamps():
    order = placed()
    assert order.status is Status.CREATED and len(order.order_id) == 36
    assert order.created_at == order.updated_at != ""


@pytest.mark.parametrize(
    "path",
    [
        [Status.INVENTORY_RESERVED, Status.PAYMENT_CHARGED, Status.SHIPPING_SCHEDULED],
        [Status.INVENTORY_FAILED],
        [Status.INVENTORY_RESERVED, Status.PAYMENT_FAILED, Status.INVENTORY_RELEASED],
        [Status.INVENTORY_RESERVED, Status.INVENTORY_RELEASED],
    ],
)
def test_saga_paths_end_terminal(path):
    order = placed()
    for status in path:
        order = order.advance(status)
    assert order.is_terminal


@pytest.mark.parametrize(
    ("start", "wanted"),
    [
        (Status.CREATED, Status.PAYMENT_CHARGED),
        (Status.CREATED, Status.INVENTORY_RELEASED),
        (Status.INVENTORY_FAILED, Status.INVENTORY_RESERVED),
        (Status.SHIPPING_SCHEDULED, Status.INVENTORY_RELEASED),
        (Status.INVENTORY_RELEASED, Status.INVENTORY_RELEASED),
        (Status.PAYMENT_FAILED, Status.SHIPPING_SCHEDULED),
    ],
)
def test_illegal_transitions_are_refused(start, wanted):
    with pytest.raises(InvalidTransition):
        placed(status=start).advance(wanted)


def test_record_round_trip_uses_camel_case_and_drops_unset_fields():
    order = placed().advance(Status.INVENTORY_RESERVED, reservation_id="RES-1")
    record = order.as_record()
    assert record["reservationId"] == "RES-1" and record["status"] == "INVENTORY_RESERVED"
    assert "paymentId" not in record
    assert Order.from_record(record) == order


def test_stock_never_goes_below_zero():
    assert inventory.can_apply(stock=2, delta=-2)
    assert not inventory.can_apply(stock=1, delta=-2)
    assert inventory.can_apply(stock=0, delta=+3)
    assert not inventory.is_stocked("OUT-OF-STOCK") and inventory.is_stocked("SKU-1")


def test_payment_declines_only_the_declining_customer():
    declined = payment.authorize(placed(customer_id="CUST-DECLINE"))
    approved = payment.authorize(placed())
    assert (declined.approved, declined.reason, declined.payment_id) == (
        False,
        "card declined",
        None,
    )
    assert approved.approved and approved.payment_id.startswith("PAY-")


def test_tracking_numbers_are_trk_and_eight_upper_hex():
    numbers = {shipping.new_tracking_number() for _ in range(50)}
    assert len(numbers) == 50
    assert all(n[:4] == "TRK-" and len(n) == 12 and n[4:] == n[4:].upper() for n in numbers)
    assert all(int(n[4:], 16) >= 0 for n in numbers)
