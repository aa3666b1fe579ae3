"""Failures the saga reacts to. Their class names are contract: Step Functions catches them by
the Lambda error type, which is the exception's class name."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .order import Order


class SagaError(Exception):
    """A business outcome that ends the saga early (not a bug, not transient): never retried."""


class OutOfStockError(SagaError):
    pass


class PaymentDeclinedError(SagaError):
    pass


class ShippingRefusedError(SagaError):
    pass


class AlreadyShipped(SagaError):
    """Compensation asked for an order that shipped: its answer was lost, but it is done."""


class OrderNeedsAttention(SagaError):
    """The order was parked for a person; no step touches it any more."""


class OrderNotFound(Exception):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} not found")


class StepNotReady(Exception):
    """The order has not reached the state this step starts from: an event arrived early.
    Raising lets the delivery be retried instead of acting on a half-done saga."""


class StaleOrder(Exception):
    """The stored order moved on since it was read: another delivery of the same step won.
    `current` is the stored order the refused write found, when the store returns it (None:
    not returned, or no such order), so the step can answer without reading it again."""

    def __init__(self, order_id: str, current: Order | None = None) -> None:
        super().__init__(order_id)
        self.current = current


class InsufficientStock(Exception):
    """The stock condition failed while reserving."""


class PaymentVoided(Exception):
    """The provider refuses a charge for an order whose payment was voided or refunded."""


class OrderExists(Exception):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} exists")
        self.order_id = order_id


class IdempotencyConflict(Exception):
    """An idempotency key used again for a different order."""
