"""The two things the saga steps need from the outside world, as small interfaces.

Adapters: `shared.adapters.dynamodb` (real), `tests.fakes` (in memory), and one starter per style.
"""

from __future__ import annotations

from typing import Protocol

from .domain.order import Order, Status
from .events import Message, OrderCreated


class SagaStore(Protocol):
    def add(self, order: Order) -> None:
        """Store a new order; raises OrderExists if the id is taken."""

    def get(self, order_id: str) -> Order | None: ...

    def remove(self, order_id: str) -> None: ...

    def transition(self, order: Order, expected: Status, stock_delta: int = 0) -> None:
        """Store `order` only if the stored status is still `expected`, and in the same atomic
        write add `stock_delta` to the stock of `order.sku`.

        Raises StaleOrder when the status moved on, InsufficientStock when a negative delta
        would take the stock below zero. On either, nothing is written.
        """

    def stock(self, sku: str) -> int: ...

    def set_stock(self, sku: str, units: int) -> None: ...


class SagaStarter(Protocol):
    """How a new order sets the saga going: the only difference between the styles' APIs."""

    def start(self, event: OrderCreated) -> None: ...


class EventPublisher(Protocol):
    def publish(self, event: Message) -> None: ...
