"""The saga's steps, once, for both styles: each takes the event that triggers it and returns the
event that reports its outcome. Handlers in orchestration/ and choreography/ only wire them.

Every step is idempotent. The order's status is the guard: a step writes only if the order is
still in the status it starts from, in the same atomic write as any stock change. A repeated
delivery finds the status moved on and returns the outcome already recorded, without side effects,
so stock is never reserved or released twice and no order is charged or shipped twice.
"""

from __future__ import annotations

from .domain import inventory, payment, shipping
from .domain.errors import (
    IdempotencyConflict,
    InsufficientStock,
    OrderExists,
    OrderNotFound,
    StaleOrder,
    StepNotReady,
)
from .domain.order import Order, Status
from .events import (
    InventoryFailed,
    InventoryReleased,
    InventoryReserved,
    Message,
    OrderCreated,
    OrderRequest,
    PaymentCharged,
    PaymentFailed,
    ShippingScheduled,
)
from .ports import SagaStarter, SagaStore


def create_order(
    request: OrderRequest, store: SagaStore, starter: SagaStarter, idempotency_key: str = ""
) -> tuple[Order, bool]:
    """The order and whether this call placed it (False: a retry of an earlier request)."""
    order = Order.place(
        request.customer_id, request.sku, request.quantity, request.amount, idempotency_key
    )
    try:
        store.add(order)
    except OrderExists:
        return _placed_before(order, store, starter), False
    try:
        starter.start(outcome_event(order, OrderCreated))
    except Exception:
        # An order whose saga never started would sit in CREATED forever: take it back.
        store.remove(order.order_id)
        raise
    return order, True


def _placed_before(order: Order, store: SagaStore, starter: SagaStarter) -> Order:
    existing = _load(store, order.order_id)
    if not existing.same_request(order):
        raise IdempotencyConflict(f"idempotency key already used for order {order.order_id}")
    if existing.status is Status.CREATED:
        # The earlier request may have died before starting the saga. Starting is idempotent
        # in both styles (named execution; idempotent consumers), so this never runs it twice.
        starter.start(outcome_event(existing, OrderCreated))
    return existing


def reserve_inventory(event: OrderCreated, store: SagaStore) -> InventoryReserved | InventoryFailed:
    order = _load(store, event.order_id)
    if order.status is not Status.CREATED:
        return _recorded_reservation(order)
    if inventory.is_stocked(order.sku):
        reserved = order.advance(
            Status.INVENTORY_RESERVED, reservation_id=inventory.new_reservation_id()
        )
        try:
            return _commit(store, order, reserved, InventoryReserved, -order.quantity)
        except InsufficientStock:
            pass
    failed = order.advance(Status.INVENTORY_FAILED, failure_reason=inventory.OUT_OF_STOCK_REASON)
    return _commit(store, order, failed, InventoryFailed)


def charge_payment(event: InventoryReserved, store: SagaStore) -> PaymentCharged | PaymentFailed:
    order = _load(store, event.order_id)
    if order.status is not Status.INVENTORY_RESERVED:
        return _recorded_payment(order)
    decision = payment.authorize(order)
    if decision.approved:
        charged = order.advance(Status.PAYMENT_CHARGED, payment_id=decision.payment_id)
        return _commit(store, order, charged, PaymentCharged)
    failed = order.advance(Status.PAYMENT_FAILED, failure_reason=decision.reason)
    return _commit(store, order, failed, PaymentFailed)


def notify_shipping(event: PaymentCharged, store: SagaStore) -> ShippingScheduled:
    order = _load(store, event.order_id)
    if order.status is Status.SHIPPING_SCHEDULED:
        return outcome_event(order, ShippingScheduled)
    _require(order, Status.PAYMENT_CHARGED)
    shipped = order.advance(
        Status.SHIPPING_SCHEDULED, tracking_number=shipping.new_tracking_number()
    )
    return _commit(store, order, shipped, ShippingScheduled)


def release_inventory(event: PaymentFailed, store: SagaStore) -> InventoryReleased:
    """Compensation: give back what reserve_inventory took, exactly once."""
    order = _load(store, event.order_id)
    if order.status is Status.INVENTORY_RELEASED:
        return outcome_event(order, InventoryReleased)
    _require(order, Status.PAYMENT_FAILED, Status.INVENTORY_RESERVED)
    released = order.advance(
        Status.INVENTORY_RELEASED, failure_reason=order.failure_reason or event.reason
    )
    return _commit(store, order, released, InventoryReleased, +order.quantity)


def outcome_event[E: Message](order: Order, event_type: type[E]) -> E:
    """The event reporting `order` as it stands; fields the event does not carry are dropped."""
    record = order.as_record()
    record["reason"] = order.failure_reason
    wanted = {f.alias or name for name, f in event_type.model_fields.items()}
    return event_type.model_validate({k: v for k, v in record.items() if k in wanted})


def _commit[E: Message](
    store: SagaStore, before: Order, after: Order, event_type: type[E], stock_delta: int = 0
) -> E:
    try:
        store.transition(after, expected=before.status, stock_delta=stock_delta)
    except StaleOrder:
        # A concurrent delivery of this same step got there first; report what it recorded.
        current = _load(store, before.order_id)
        return _RECORDED[event_type](current)
    return outcome_event(after, event_type)


def _load(store: SagaStore, order_id: str) -> Order:
    order = store.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


def _require(order: Order, *statuses: Status) -> None:
    if order.status not in statuses:
        raise StepNotReady(f"order {order.order_id} is {order.status}, expected {statuses}")


def _recorded_reservation(order: Order) -> InventoryReserved | InventoryFailed:
    if order.status is Status.INVENTORY_FAILED:
        return outcome_event(order, InventoryFailed)
    return outcome_event(order, InventoryReserved)


def _recorded_payment(order: Order) -> PaymentCharged | PaymentFailed:
    if order.status in (Status.PAYMENT_CHARGED, Status.SHIPPING_SCHEDULED):
        return outcome_event(order, PaymentCharged)
    if order.status in (Status.PAYMENT_FAILED, Status.INVENTORY_RELEASED):
        return outcome_event(order, PaymentFailed)
    raise StepNotReady(f"order {order.order_id} is {order.status}, payment has not run")


_RECORDED = {
    InventoryReserved: _recorded_reservation,
    InventoryFailed: _recorded_reservation,
    PaymentCharged: _recorded_payment,
    PaymentFailed: _recorded_payment,
    ShippingScheduled: lambda order: outcome_event(order, ShippingScheduled),
    InventoryReleased: lambda order: outcome_event(order, InventoryReleased),
}
