"""What the saga steps need from the outside world, as small interfaces.

Adapters: `shared.adapters` (DynamoDB, Step Functions, EventBridge) and `tests.fakes` (in memory).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from .domain.idempotency import IdempotencyRecord
from .domain.order import Order, Status
from .domain.payment import LedgerEntry
from .events import OrderCreated


class SagaStore(Protocol):
    def add(self, order: Order, idempotency: IdempotencyRecord | None = None) -> None:
        """Store a new order; raises OrderExists if the id is taken. Storing a CREATED order is
        what starts its saga (the orders table is the outbox: see shared.entrypoints.start_saga).

        With `idempotency`, the record is stored in the same atomic write, unless the customer's
        key is held by a record that has not expired: then nothing is written and
        IdempotencyKeyHeld carries the record that holds it."""

    def get(self, order_id: str) -> Order | None: ...

    def transition(self, order: Order, expected: Status, stock_delta: int = 0, seen: Order | None = None) -> None:
        """Store `order` only if the stored status is still `expected`, and in the same atomic
        write add `stock_delta` to the stock of `order.sku`.

        With `seen` (the order as the event that triggered the step reports it, not read from the
        store; its status is `expected`), only what `order` changed from `seen` is written, and
        only if the stored order holds every field `seen` carries, unchanged, and none it lacks
        (the store's own timestamps and recovery notes aside): the write checks what a read would
        have, so a step can act on its event without reading the order first.

        Raises StaleOrder when the status moved on (or, with `seen`, the stored order is not what
        `seen` says), with the stored order as `current` where the store returns it;
        InsufficientStock when a negative delta would take the stock below zero. On either,
        nothing is written.
        """

    def note(self, order: Order, seen: Order) -> None:
        """Store the reconciler's change of `seen` (a note, or parking it) only if the stored
        order is still `seen` (same status, same last update); raises StaleOrder otherwise."""

    def open_orders(self, updated_before: str) -> list[Order]:
        """Orders not terminal whose last update is older than `updated_before` (ISO time),
        oldest first, from an index of open orders (never a table scan)."""

    def orders_needing_attention(self) -> list[Order]: ...

    def count_needing_attention(self) -> int: ...

    def stock(self, sku: str) -> int: ...

    def set_stock(self, sku: str, units: int) -> None: ...


class PaymentLedger(Protocol):
    """The payment provider, idempotent by orderId: a charge or refund asked twice is done once."""

    def charge(self, order_id: str, amount: Decimal) -> str:
        """The payment id of the order's one charge (taken now or earlier; asking again moves no
        money). Raises PaymentVoided if the order's payment was voided before any charge."""

    def refund(self, order_id: str) -> str | None:
        """The refund id of the order's charge (refunded now or earlier), or None if nothing was
        charged: the order's payment is then voided, so no later charge can go through."""

    def entries(self, order_id: str) -> list[LedgerEntry]: ...

    def every_entry(self) -> dict[str, list[LedgerEntry]]:
        """Every order's entries, by order id (for checks over many orders, not for the steps)."""
        ...


class SagaStarter(Protocol):
    """How a stored order sets the saga going: the only difference between the styles' starts."""

    def start(self, event: OrderCreated) -> object:
        """Start the order's saga (idempotent); whatever it returns is not used."""
        ...
