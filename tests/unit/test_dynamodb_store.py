"""The DynamoDB adapter keeps the port's promises: a status change and its stock change are one
atomic write, guarded by the status the step started from."""

from decimal import Decimal

import pytest

from shared.adapters.dynamodb import DynamoSagaStore
from shared.domain.errors import InsufficientStock, OrderExists, StaleOrder
from shared.domain.order import Order, Status


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
    store.transition(reserved.advance(Status.INVENTORY_RELEASED), reserved.status, stock_delta=2)
    assert store.stock("SKU-1") == 5


def test_remove_deletes_the_order(store, order):
    store.remove(order.order_id)
    assert store.get(order.order_id) is None
