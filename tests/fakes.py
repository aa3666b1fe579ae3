"""In-memory stand-ins for the ports, with the same guarantees as the real adapters."""

from __future__ import annotations

from shared.domain import inventory
from shared.domain.errors import InsufficientStock, OrderExists, StaleOrder
from shared.domain.order import Order, Status
from shared.events import Message, OrderCreated


class InMemorySagaStore:
    def __init__(self, stock: dict[str, int] | None = None) -> None:
        self.orders: dict[str, Order] = {}
        self.stock_by_sku: dict[str, int] = dict(stock or {})
        self.writes = 0

    def add(self, order: Order) -> None:
        if order.order_id in self.orders:
            raise OrderExists(order.order_id)
        self.orders[order.order_id] = order
        self.writes += 1

    def get(self, order_id: str) -> Order | None:
        return self.orders.get(order_id)

    def remove(self, order_id: str) -> None:
        self.orders.pop(order_id, None)

    def transition(self, order: Order, expected: Status, stock_delta: int = 0) -> None:
        stored = self.orders.get(order.order_id)
        if stored is None or stored.status is not expected:
            raise StaleOrder(order.order_id)
        if stock_delta < 0 and not inventory.can_apply(self.stock(order.sku), stock_delta):
            raise InsufficientStock(order.sku)
        self.orders[order.order_id] = order
        if stock_delta:
            self.stock_by_sku[order.sku] = self.stock(order.sku) + stock_delta
        self.writes += 1

    def stock(self, sku: str) -> int:
        return self.stock_by_sku.get(sku, 0)

    def set_stock(self, sku: str, units: int) -> None:
        self.stock_by_sku[sku] = units


class RecordingStarter:
    def __init__(self, fail: bool = False) -> None:
        self.started: list[OrderCreated] = []
        self.fail = fail

    def start(self, event: OrderCreated) -> None:
        if self.fail:
            raise ConnectionError("saga could not be started")
        self.started.append(event)


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[Message] = []

    def publish(self, event: Message) -> None:
        self.published.append(event)
