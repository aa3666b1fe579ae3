"""The DynamoDB adapter keeps the port's promises: a status change and its stock change are one
atomic write, guarded by the status the step started from; the sparse WatchList index holds the
orders somebody may have to look at, and only those."""

from dataclasses import replace
from decimal import Decimal

import pytest

from shared.adapters.dynamodb import WATCH_INDEX, DynamoSagaStore
from shared.domain.errors import InsufficientStock, OrderExists, StaleOrder
from shared.domain.order import Order, Status

EARLY, LATE, LATER = (f"2030-01-01T00:00:0{s}.000+00:00" for s in (1, 2, 3))


@pytest.fixture
def store(tables):
    return DynamoSagaStore("orders", "inventory")


@pytest.fixture
def order(store):
    placed = Order.place("CUST-1", "SKU-1", 2, Decimal("19.99"))
    store.add(placed)
    return placed


def test_orders_round_trip(store, order):
    assert store.get(order.order_id) == order
    assert store.get("missing") is None


def test_adding_an_existing_order_fails(store, order):
    with pytest.raises(OrderExists):
        store.add(order)


def test_transition_moves_status_and_stock_together(store, order):
    store.transition(order.advance(Status.INVENTORY_RESERVED), Status.CREATED, stock_delta=-2)
    assert store.get(order.order_id).status is Status.INVENTORY_RESERVED
    assert store.stock("SKU-1") == 3


def test_stale_status_writes_nothing(store, order):
    reserved = order.advance(Status.INVENTORY_RESERVED)
    store.transition(reserved, Status.CREATED, stock_delta=-2)
    with pytest.raises(StaleOrder):
        store.transition(reserved, Status.CREATED, stock_delta=-2)
    assert store.stock("SKU-1") == 3


def test_insufficient_stock_writes_nothing(store, order):
    store.set_stock("SKU-1", 1)
    with pytest.raises(InsufficientStock):
        store.transition(order.advance(Status.INVENTORY_RESERVED), Status.CREATED, stock_delta=-2)
    assert store.get(order.order_id).status is Status.CREATED
    assert store.stock("SKU-1") == 1


def test_taking_stock_of_an_unknown_sku_is_insufficient(store):
    ghost = Order.place("CUST-1", "NEVER", 1, Decimal("1"))
    store.add(ghost)
    with pytest.raises(InsufficientStock):
        store.transition(ghost.advance(Status.INVENTORY_RESERVED), Status.CREATED, stock_delta=-1)
    assert store.stock("NEVER") == 0


def test_releasing_adds_the_units_back(store, order):
    reserved = order.advance(Status.INVENTORY_RESERVED)
    store.transition(reserved, Status.CREATED, stock_delta=-2)
    failed = reserved.advance(Status.PAYMENT_FAILED)
    store.transition(failed, reserved.status)
    store.transition(failed.advance(Status.INVENTORY_RELEASED), failed.status, stock_delta=2)
    assert store.stock("SKU-1") == 5


def test_a_stored_order_is_read_back_with_its_recovery_note(store, order):
    noted = order.noted("resumed from CREATED")
    store.note(noted, seen=order)
    assert store.get(order.order_id) == noted


def watch(tables, order_id: str) -> str | None:
    found = tables.get_item(TableName="orders", Key={"orderId": {"S": order_id}})["Item"]
    return found.get("watch", {}).get("S")


def indexed(tables, watch_value: str) -> set[str]:
    found = tables.query(
        TableName="orders",
        IndexName=WATCH_INDEX,
        KeyConditionExpression="watch = :w",
        ExpressionAttributeValues={":w": {"S": watch_value}},
    )
    return {i["orderId"]["S"] for i in found["Items"]}


def test_the_watch_attribute_follows_the_status(store, order, tables):
    assert watch(tables, order.order_id) == "open"
    reserved = order.advance(Status.INVENTORY_RESERVED)
    store.transition(reserved, Status.CREATED)
    assert watch(tables, order.order_id) == "open"
    store.transition(reserved.advance(Status.NEEDS_ATTENTION), Status.INVENTORY_RESERVED)
    assert watch(tables, order.order_id) == "attention"
    assert indexed(tables, "open") == set() and indexed(tables, "attention") == {order.order_id}


@pytest.mark.parametrize(
    "path",
    [
        [Status.INVENTORY_FAILED],
        [Status.INVENTORY_RESERVED, Status.PAYMENT_CHARGED, Status.SHIPPING_SCHEDULED],
        [Status.INVENTORY_RESERVED, Status.PAYMENT_FAILED, Status.INVENTORY_RELEASED],
    ],
)
def test_a_finished_order_leaves_the_index(store, order, tables, path):
    current = order
    for status in path:
        store.transition(current.advance(status), current.status)
        current = current.advance(status)
    assert watch(tables, order.order_id) is None
    assert indexed(tables, "open") == indexed(tables, "attention") == set()
    assert store.open_orders(updated_before=LATER) == [] and store.orders_needing_attention() == []


@pytest.mark.parametrize(
    "status",
    [
        Status.CREATED,
        Status.INVENTORY_RESERVED,
        Status.PAYMENT_CHARGED,
        Status.SHIPPING_FAILED,
        Status.PAYMENT_FAILED,
        Status.PAYMENT_REFUNDED,
    ],
)
def test_every_open_status_is_in_the_index(store, tables, status):
    open_order = replace(Order.place("CUST-1", "SKU-1", 1, Decimal("1")), status=status)
    store.add(open_order)
    assert indexed(tables, "open") == {open_order.order_id}
    assert store.open_orders(updated_before=LATER) == [open_order]


def test_open_orders_are_the_ones_older_than_the_cutoff_oldest_first(store):
    def placed_at(updated_at: str, status: Status = Status.CREATED) -> Order:
        placed = Order.place("CUST-1", "SKU-1", 1, Decimal("1"))
        placed = replace(placed, status=status, updated_at=updated_at)
        store.add(placed)
        return placed

    late, early = placed_at(LATE), placed_at(EARLY, Status.PAYMENT_CHARGED)
    placed_at(LATER)
    placed_at(EARLY, Status.SHIPPING_SCHEDULED)  # finished: never listed
    placed_at(EARLY, Status.NEEDS_ATTENTION)  # parked: listed apart
    assert store.open_orders(updated_before=LATER) == [early, late]
    assert store.open_orders(updated_before=LATE) == [early]
    assert store.open_orders(updated_before=EARLY) == []
    assert [o.status for o in store.orders_needing_attention()] == [Status.NEEDS_ATTENTION]


def test_count_needing_attention_counts_the_parked_orders_only(store):
    assert store.count_needing_attention() == 0
    for status in (Status.NEEDS_ATTENTION, Status.NEEDS_ATTENTION, Status.CREATED, Status.SHIPPING_SCHEDULED):
        store.add(replace(Order.place("CUST-1", "SKU-1", 1, Decimal("1")), status=status))
    assert store.count_needing_attention() == 2


def test_note_stores_the_order_if_nobody_moved_it(store, order):
    noted = order.noted("resumed from CREATED")
    store.note(noted, seen=order)
    stored = store.get(order.order_id)
    assert (stored.recovery_attempts, stored.last_recovery) == (1, "resumed from CREATED")
    assert stored.status is Status.CREATED


def test_note_refuses_an_order_whose_status_moved(store, order):
    reserved = order.advance(Status.INVENTORY_RESERVED)
    store.transition(reserved, Status.CREATED)
    with pytest.raises(StaleOrder):
        store.note(order.noted("resumed from CREATED"), seen=order)
    assert store.get(order.order_id) == reserved


def test_note_refuses_an_order_updated_since_it_was_seen(store, order):
    first = order.noted("resumed from CREATED")
    store.note(first, seen=order)
    with pytest.raises(StaleOrder):
        store.note(order.noted("resumed again"), seen=order)  # same status, older update
    assert store.get(order.order_id) == first


def test_note_refuses_an_order_that_is_not_there(store):
    ghost = Order.place("CUST-1", "SKU-1", 1, Decimal("1"))
    with pytest.raises(StaleOrder):
        store.note(ghost.noted("resumed"), seen=ghost)
    assert store.get(ghost.order_id) is None


def as_event_reports(order: Order) -> Order:
    """The order as a step's event carries it: no timestamps, no recovery notes."""
    return replace(order, created_at="", updated_at="", recovery_attempts=None, last_recovery=None)


def test_a_transition_from_what_an_event_saw_writes_only_the_change(store, order, tables):
    store.set_stock("SKU-1", 5)
    store.note(order.noted("resumed from CREATED"), seen=order)
    seen = as_event_reports(order)
    store.transition(seen.advance(Status.INVENTORY_RESERVED, reservation_id="RES-1"), Status.CREATED, -2, seen=seen)
    stored = store.get(order.order_id)
    assert (stored.status, stored.reservation_id, stored.created_at) == (
        Status.INVENTORY_RESERVED,
        "RES-1",
        order.created_at,
    )
    assert (stored.recovery_attempts, stored.last_recovery) == (1, "resumed from CREATED")
    assert stored.updated_at >= order.updated_at and watch(tables, order.order_id) == "open"
    assert store.stock("SKU-1") == 3


@pytest.mark.parametrize(
    "differs",
    [
        {"quantity": 3},
        {"sku": "SKU-2"},
        {"amount": Decimal("19.98")},
        {"customer_id": "CUST-2"},
        {"reservation_id": "RES-X"},  # a field the stored order does not have
    ],
)
def test_a_transition_from_an_event_that_does_not_match_the_order_writes_nothing(store, order, differs):
    store.set_stock("SKU-1", 5)
    seen = replace(as_event_reports(order), **differs)
    with pytest.raises(StaleOrder) as refused:
        store.transition(seen.advance(Status.INVENTORY_RESERVED), Status.CREATED, -2, seen=seen)
    assert refused.value.current == order
    assert store.get(order.order_id) == order and store.stock("SKU-1") == 5


def test_a_transition_from_an_event_missing_a_recorded_field_writes_nothing(store, order):
    reserved = order.advance(Status.INVENTORY_RESERVED, reservation_id="RES-1")
    store.transition(reserved, Status.CREATED)
    seen = replace(as_event_reports(reserved), reservation_id=None)
    with pytest.raises(StaleOrder) as refused:
        store.transition(seen.advance(Status.PAYMENT_CHARGED, payment_id="PAY-1"), Status.INVENTORY_RESERVED, seen=seen)
    assert refused.value.current == reserved


def test_a_refused_transition_returns_the_stored_order(store, order):
    reserved = order.advance(Status.INVENTORY_RESERVED)
    store.transition(reserved, Status.CREATED)
    with pytest.raises(StaleOrder) as again:
        store.transition(reserved, Status.CREATED)
    assert again.value.current == reserved
    seen = as_event_reports(order)
    with pytest.raises(StaleOrder) as from_event:
        store.transition(seen.advance(Status.INVENTORY_FAILED), Status.CREATED, seen=seen)
    assert from_event.value.current == reserved


def test_a_transition_from_an_event_for_a_missing_order_writes_nothing(store):
    seen = as_event_reports(Order.place("CUST-1", "SKU-1", 1, Decimal("1")))
    with pytest.raises(StaleOrder) as refused:
        store.transition(seen.advance(Status.INVENTORY_FAILED), Status.CREATED, seen=seen)
    assert refused.value.current is None
    assert store.get(seen.order_id) is None


def test_a_transition_from_an_event_to_a_finished_status_leaves_the_index(store, order, tables):
    seen = as_event_reports(order)
    store.transition(seen.advance(Status.INVENTORY_FAILED, failure_reason="out of stock"), Status.CREATED, seen=seen)
    assert watch(tables, order.order_id) is None and indexed(tables, "open") == set()
    assert store.get(order.order_id).failure_reason == "out of stock"
