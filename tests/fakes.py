"""In-memory stand-ins for the ports, with the same guarantees as the real adapters."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from shared.domain import inventory
from shared.domain.errors import InsufficientStock, OrderExists, PaymentVoided, StaleOrder
from shared.domain.idempotency import IdempotencyKeyHeld, IdempotencyRecord
from shared.domain.order import Order, Status
from shared.domain.payment import Entry, LedgerEntry, new_payment_id, new_refund_id
from shared.events import Message, OrderCreated
from shared.recovery import SagaState


class InMemorySagaStore:
    def __init__(self, stock: dict[str, int] | None = None) -> None:
        self.orders: dict[str, Order] = {}
        self.stock_by_sku: dict[str, int] = dict(stock or {})
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.writes = 0

    def add(self, order: Order, idempotency: IdempotencyRecord | None = None) -> None:
        if order.order_id in self.orders:
            raise OrderExists(order.order_id)
        if idempotency is not None:
            held = self.idempotency.get((idempotency.customer_id, idempotency.key))
            if held is not None and not held.expired(idempotency.placed_at):
                raise IdempotencyKeyHeld(held)
            self.idempotency[idempotency.customer_id, idempotency.key] = idempotency
        self.orders[order.order_id] = order
        self.writes += 1

    def get(self, order_id: str) -> Order | None:
        return self.orders.get(order_id)

    def transition(self, order: Order, expected: Status, stock_delta: int = 0, seen: Order | None = None) -> None:
        stored = self.orders.get(order.order_id)
        if stored is None or stored.status is not expected:
            raise StaleOrder(order.order_id, stored)
        if seen is not None and _carried(stored) != _carried(seen):
            raise StaleOrder(order.order_id, stored)
        if stock_delta < 0 and not inventory.can_apply(self.stock(order.sku), stock_delta):
            raise InsufficientStock(order.sku)
        if seen is not None:
            # Only what the step changed: the store keeps its own timestamps and notes.
            changed = {f: getattr(order, f) for f in _CARRIED if getattr(order, f) != getattr(seen, f)}
            order = replace(stored, updated_at=order.updated_at, **changed)
        self.orders[order.order_id] = order
        if stock_delta:
            self.stock_by_sku[order.sku] = self.stock(order.sku) + stock_delta
        self.writes += 1

    def note(self, order: Order, seen: Order) -> None:
        stored = self.orders.get(order.order_id)
        if stored is None or (stored.status, stored.updated_at) != (seen.status, seen.updated_at):
            raise StaleOrder(order.order_id)
        self.orders[order.order_id] = order

    def open_orders(self, updated_before: str) -> list[Order]:
        found = [o for o in self.orders.values() if not o.is_terminal]
        return sorted((o for o in found if o.updated_at < updated_before), key=lambda o: o.updated_at)

    def orders_needing_attention(self) -> list[Order]:
        return [o for o in self.orders.values() if o.status is Status.NEEDS_ATTENTION]

    def count_needing_attention(self) -> int:
        return len(self.orders_needing_attention())

    def stock(self, sku: str) -> int:
        return self.stock_by_sku.get(sku, 0)

    def set_stock(self, sku: str, units: int) -> None:
        self.stock_by_sku[sku] = units


# What an event carries of an order: all but the store's own timestamps and recovery notes.
_CARRIED = tuple(
    f for f in Order.__dataclass_fields__ if f not in {"created_at", "updated_at", "recovery_attempts", "last_recovery"}
)


def _carried(order: Order) -> tuple:
    return tuple(getattr(order, f) for f in _CARRIED)


class InMemoryLedger:
    def __init__(self) -> None:
        self.book: dict[tuple[str, Entry], LedgerEntry] = {}

    def charge(self, order_id: str, amount: Decimal) -> str:
        if (order_id, Entry.CHARGE) in self.book:
            return self.book[order_id, Entry.CHARGE].entry_id
        if (order_id, Entry.VOID) in self.book or (order_id, Entry.REFUND) in self.book:
            raise PaymentVoided(order_id)
        return self._write(LedgerEntry(order_id, Entry.CHARGE, new_payment_id(), amount))

    def refund(self, order_id: str) -> str | None:
        charge = self.book.get((order_id, Entry.CHARGE))
        if charge is None:
            self.book.setdefault((order_id, Entry.VOID), LedgerEntry(order_id, Entry.VOID, "V", Decimal(0)))
            return None
        if (order_id, Entry.REFUND) in self.book:
            return self.book[order_id, Entry.REFUND].entry_id
        return self._write(LedgerEntry(order_id, Entry.REFUND, new_refund_id(), charge.amount))

    def entries(self, order_id: str) -> list[LedgerEntry]:
        return [e for (oid, _), e in self.book.items() if oid == order_id]

    def every_entry(self) -> dict[str, list[LedgerEntry]]:
        return {oid: self.entries(oid) for oid, _ in self.book}

    def _write(self, entry: LedgerEntry) -> str:
        self.book[entry.order_id, entry.entry] = entry
        return entry.entry_id


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

    def start(self, event: OrderCreated) -> None:
        self.publish(event)


class ScriptedDriver:
    """A SagaDriver whose saga is in a given state; records what it was asked to resume."""

    def __init__(self, state: SagaState = SagaState.STOPPED, interrupted: tuple[str, ...] = ()) -> None:
        self.saga_state = state
        self.resumed: list[Order] = []
        self.runs_interrupted = list(interrupted)  # order ids whose last run ended badly

    def state(self, order: Order) -> SagaState:
        if order.order_id in self.runs_interrupted:
            return SagaState.INTERRUPTED
        return self.saga_state

    def interrupted(self, since) -> list[str]:
        return self.runs_interrupted

    def resume(self, order: Order) -> str:
        self.resumed.append(order)
        return f"resumed {order.order_id}"
