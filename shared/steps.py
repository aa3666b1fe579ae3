"""The saga's steps, once, for both styles: each takes the event that triggers it and returns the
event that reports its outcome. Handlers in orchestration/ and choreography/ only wire them.

Every step is idempotent. The order's status is the guard: a step writes only if the order is
still in the status it starts from, in the same atomic write as any stock change. A repeated
delivery finds the status moved on and returns the outcome already recorded, without side effects,
so stock is never reserved or released twice and no order is charged, refunded or shipped twice
(the payment ledger, idempotent by orderId, guards the money the same way).

Recorded outcomes are derived from the order alone, so a saga started again from its first step
on an order in any state (the reconciler does this) replays what happened and goes on from where
it stopped: each step answers with the outcome that leads to the next step still to run.

reserve_inventory and notify_shipping act on the order as their event reports it, without reading
it first: their write is conditional on the stored order being exactly that (SagaStore.transition
with `seen`), which is the check a read would have made, in the same atomic write; a refused
write brings the stored order back, and the step answers from it as above. charge_payment reads
the order first: the ledger moves money before the order's write, so only a stored order may say
how much.

Compensation runs in reverse order of what was done: refund the payment, then release the stock.
It starts from what was recorded, not from the error that led there: a charge whose answer was
lost is refunded, an order that shipped is never compensated.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import get_args, get_type_hints

from .domain import idempotency, inventory, payment, shipping
from .domain.errors import (
    AlreadyShipped,
    IdempotencyConflict,
    InsufficientStock,
    OrderNeedsAttention,
    OrderNotFound,
    PaymentVoided,
    StaleOrder,
    StepNotReady,
)
from .domain.order import Order, Status
from .domain.reasons import PAYMENT_INCOMPLETE_REASON, SHIPPING_INCOMPLETE_REASON
from .events import (
    InventoryFailed,
    InventoryReleased,
    InventoryReserved,
    Message,
    OrderCreated,
    OrderRequest,
    PaymentCharged,
    PaymentFailed,
    PaymentRefunded,
    ShippingFailed,
    ShippingScheduled,
    StepFailed,
    fit_reason,
)
from .ports import PaymentLedger, SagaStarter, SagaStore

# Why a compensation runs when the step it follows failed for good without an answer:
# PAYMENT_INCOMPLETE_REASON, SHIPPING_INCOMPLETE_REASON (shared.domain.reasons, what customers see).
_SHIPPED = (Status.SHIPPING_SCHEDULED,)
_COMPENSATING = (
    Status.SHIPPING_FAILED,
    Status.PAYMENT_REFUNDED,
    Status.PAYMENT_FAILED,
    Status.INVENTORY_RELEASED,
)


def create_order(
    request: OrderRequest,
    store: SagaStore,
    idempotency_key: str = "",
    now: datetime | None = None,
    ttl: timedelta = idempotency.TTL,
) -> tuple[Order, bool]:
    """The order and whether this call placed it (False: a retry of an earlier request).

    The one write the API makes: the stored order starts its own saga (`start_saga`, fed by the
    orders table's stream), so there is no second write that a crash could leave undone. With a
    client's idempotency key, the key's record (`shared.domain.idempotency`, kept for `ttl`) goes
    in the same atomic write: a retry finds the order the key placed, never a second one."""
    order = Order.place(request.customer_id, request.sku, request.quantity, request.amount)
    if not idempotency_key:
        store.add(order)
        return order, True
    record = idempotency.record_for(order, idempotency_key, now or datetime.now(UTC), ttl)
    try:
        store.add(order, record)
    except idempotency.IdempotencyKeyHeld as held:
        if held.record.request_hash != record.request_hash:
            raise IdempotencyConflict(str(held)) from None
        # The order as it stands, even if parked: a retried request is answered, not refused.
        existing = store.get(held.record.order_id)
        if existing is None:
            raise OrderNotFound(held.record.order_id) from None
        return existing, False
    return order, True


def start_saga(order: Order, starter: SagaStarter) -> bool:
    """Start the saga of a newly stored order; False if there is nothing to start. Starting is
    idempotent in both styles (execution named by orderId; idempotent consumers)."""
    if order.status is not Status.CREATED:
        return False
    starter.start(outcome_event(order, OrderCreated))
    return True


def reserve_inventory(event: OrderCreated, store: SagaStore) -> InventoryReserved | InventoryFailed:
    return _on_seen(event, Status.CREATED, store, _reserve)


def _reserve(order: Order, store: SagaStore) -> InventoryReserved | InventoryFailed:
    if order.status is not Status.CREATED:
        return _recorded_reservation(order)
    if inventory.is_stocked(order.sku):
        reserved = order.advance(Status.INVENTORY_RESERVED, reservation_id=inventory.new_reservation_id())
        try:
            return _commit(store, order, reserved, InventoryReserved, _recorded_reservation, -order.quantity)
        except InsufficientStock:
            pass
    failed = order.advance(Status.INVENTORY_FAILED, failure_reason=inventory.OUT_OF_STOCK_REASON)
    return _commit(store, order, failed, InventoryFailed, _recorded_reservation)


def charge_payment(event: InventoryReserved, store: SagaStore, ledger: PaymentLedger) -> PaymentCharged | PaymentFailed:
    order = _load(store, event.order_id)
    if order.status is not Status.INVENTORY_RESERVED:
        return _recorded_payment(order)
    decision = payment.authorize(order)
    if not decision.approved:
        failed = order.advance(Status.PAYMENT_FAILED, failure_reason=decision.reason)
        return _commit(store, order, failed, PaymentFailed, _recorded_payment)
    try:
        payment_id = ledger.charge(order.order_id, order.amount)
    except PaymentVoided:
        # The saga was compensated while this delivery was in flight: report what it recorded.
        return _recorded_payment(_load(store, order.order_id))
    charged = order.advance(Status.PAYMENT_CHARGED, payment_id=payment_id)
    return _commit(store, order, charged, PaymentCharged, _recorded_payment)


def notify_shipping(event: PaymentCharged, store: SagaStore) -> ShippingScheduled | ShippingFailed:
    return _on_seen(event, Status.PAYMENT_CHARGED, store, _notify)


def _notify(order: Order, store: SagaStore) -> ShippingScheduled | ShippingFailed:
    if order.status is not Status.PAYMENT_CHARGED:
        return _recorded_shipping(order)
    decision = shipping.schedule(order)
    if decision.accepted:
        shipped = order.advance(Status.SHIPPING_SCHEDULED, tracking_number=decision.tracking_number)
        return _commit(store, order, shipped, ShippingScheduled, _recorded_shipping)
    failed = order.advance(Status.SHIPPING_FAILED, failure_reason=decision.reason)
    return _commit(store, order, failed, ShippingFailed, _recorded_shipping)


def refund_payment(
    event: ShippingFailed | StepFailed, store: SagaStore, ledger: PaymentLedger
) -> PaymentRefunded | PaymentFailed:
    """Compensation of the charge, from whatever the order recorded: a charge is refunded (once);
    a payment that never completed is voided and recorded as failed; a shipped order is left."""
    order = _load(store, event.order_id)
    if order.status not in (
        Status.SHIPPING_FAILED,
        Status.PAYMENT_CHARGED,
        Status.INVENTORY_RESERVED,
    ):
        return _recorded_refund(order)
    reason = order.failure_reason or _incomplete_reason(order, event.reason)
    refund_id = ledger.refund(order.order_id)
    if refund_id is None:
        failed = order.advance(Status.PAYMENT_FAILED, failure_reason=reason)
        return _commit(store, order, failed, PaymentFailed, _recorded_refund)
    # A charge whose answer was lost is known to the ledger only: record its id with the refund.
    payment_id = order.payment_id or _charge_id(ledger, order.order_id)
    refunded = order.advance(Status.PAYMENT_REFUNDED, payment_id=payment_id, refund_id=refund_id, failure_reason=reason)
    return _commit(store, order, refunded, PaymentRefunded, _recorded_refund)


def release_inventory(event: PaymentFailed | PaymentRefunded | StepFailed, store: SagaStore) -> InventoryReleased:
    """Compensation: give back what reserve_inventory took, exactly once, after the payment is
    settled (failed, or refunded)."""
    order = _load(store, event.order_id)
    if order.status is Status.INVENTORY_RELEASED:
        return outcome_event(order, InventoryReleased)
    _require(order, Status.PAYMENT_FAILED, Status.PAYMENT_REFUNDED)
    released = order.advance(Status.INVENTORY_RELEASED, failure_reason=order.failure_reason or event.reason)
    return _commit(store, order, released, InventoryReleased, _recorded_release, +order.quantity)


def outcomes(step: Callable[..., object]) -> tuple[type[Message], ...]:
    """The events `step` may answer with: the members of its return annotation. Choreography lets
    a step's function publish these and no others (choreography.infra.stack)."""
    answer = get_type_hints(step)["return"]
    found = get_args(answer) or (answer,)
    if not all(isinstance(event, type) and issubclass(event, Message) for event in found):
        raise TypeError(f"{step.__name__} does not answer with events: {answer}")
    return found


def outcome_event[E: Message](order: Order, event_type: type[E]) -> E:
    """The event reporting `order` as it stands; fields the event does not carry are dropped."""
    record = order.as_record()
    record["reason"] = order.failure_reason
    wanted = {f.alias or name for name, f in event_type.model_fields.items()}
    return event_type.model_validate({k: v for k, v in record.items() if k in wanted})


def _commit[E: Message, R: Message](
    store: SagaStore,
    before: Order,
    after: Order,
    event_type: type[E],
    recorded: Callable[[Order], R],
    stock_delta: int = 0,
) -> E | R:
    """`after` stored and reported as `event_type`; if another delivery (or the reconciler) moved
    the order first, the outcome it recorded instead, as the step's `recorded` reports it.
    `before` seen in an event (not read) is written only if the store still holds just that."""
    seen = before if not before.updated_at else None
    try:
        store.transition(after, expected=before.status, stock_delta=stock_delta, seen=seen)
    except StaleOrder as stale:
        current = _checked(stale.current) if stale.current else _load(store, before.order_id)
        if current.status is before.status:
            raise _NotAsSeen(current) from None
        return recorded(current)
    return outcome_event(after, event_type)


class _NotAsSeen(Exception):
    """The stored order is in the status the event said, but not the order it reported."""

    def __init__(self, stored: Order) -> None:
        super().__init__(stored.order_id)
        self.stored = stored


def _on_seen[R](event: Message, status: Status, store: SagaStore, step: Callable[[Order, SagaStore], R]) -> R:
    """`step` on the order as `event` reports it (in `status`), not read from the store. Should
    the store hold another order in that status (an event that does not match it), the step runs
    again on the stored order, as if it had read it first."""
    try:
        return step(_seen(event, status), store)
    except _NotAsSeen as found:
        return step(found.stored, store)


def _seen(event: Message, status: Status) -> Order:
    """The order as `event` reports it. Without the store's timestamps (left empty), which is how
    `_commit` tells it from an order read from the store."""
    return Order.from_record({**event.model_dump(by_alias=True, exclude_none=True), "status": str(status)})


def _load(store: SagaStore, order_id: str) -> Order:
    order = store.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return _checked(order)


def _checked(order: Order) -> Order:
    if order.status is Status.NEEDS_ATTENTION:
        raise OrderNeedsAttention(f"order {order.order_id} waits for a person: {order.failure_reason}")
    return order


def _charge_id(ledger: PaymentLedger, order_id: str) -> str:
    return next(e.entry_id for e in ledger.entries(order_id) if e.entry is payment.Entry.CHARGE)


def _require(order: Order, *statuses: Status) -> None:
    if order.status not in statuses:
        raise StepNotReady(f"order {order.order_id} is {order.status}, expected {statuses}")


def _incomplete_reason(order: Order, caught: str | None) -> str:
    """Why a compensation runs, with the caught error's message if any, cut to fit an event."""
    why = SHIPPING_INCOMPLETE_REASON if order.payment_id else PAYMENT_INCOMPLETE_REASON
    caught = fit_reason(caught or "")
    return fit_reason(f"{why}: {caught}") if caught else why


def _recorded_reservation(order: Order) -> InventoryReserved | InventoryFailed:
    if order.status is Status.INVENTORY_FAILED:
        return outcome_event(order, InventoryFailed)
    return outcome_event(order, InventoryReserved)


def _recorded_payment(order: Order) -> PaymentCharged | PaymentFailed:
    if order.payment_id:
        return outcome_event(order, PaymentCharged)
    if order.status in _COMPENSATING:
        return outcome_event(order, PaymentFailed)
    raise StepNotReady(f"order {order.order_id} is {order.status}, payment has not run")


def _recorded_shipping(order: Order) -> ShippingScheduled | ShippingFailed:
    if order.status in _SHIPPED:
        return outcome_event(order, ShippingScheduled)
    if order.status in _COMPENSATING and order.payment_id:
        return outcome_event(order, ShippingFailed)
    raise StepNotReady(f"order {order.order_id} is {order.status}, not charged")


def _recorded_refund(order: Order) -> PaymentRefunded | PaymentFailed:
    if order.status in _SHIPPED:
        raise AlreadyShipped(f"order {order.order_id} shipped: nothing to compensate")
    if order.refund_id:
        return outcome_event(order, PaymentRefunded)
    if order.status in _COMPENSATING:
        return outcome_event(order, PaymentFailed)
    raise StepNotReady(f"order {order.order_id} is {order.status}, nothing to refund yet")


def _recorded_release(order: Order) -> InventoryReleased:
    return outcome_event(order, InventoryReleased)
