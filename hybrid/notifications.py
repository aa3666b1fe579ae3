"""The hybrid style's notification service: for each outcome the orchestrated saga publishes
(OrderCompleted, OrderFailed), one customer notification per order, recorded once.

Plain Python, no AWS: the store is a port (`NotificationStore`; DynamoDB in `hybrid.dynamodb`, in
memory in the tests). A delivery may come twice (EventBridge and Lambda retry, a publish retried
after its answer was lost): the first record wins and a duplicate writes nothing. The service
learns the outcome from the event alone: it never reads or writes the order, whose status is the
saga's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

from shared.domain.order import camel, now_iso, snake
from shared.events import SagaEnded

# What the notification service's handler reports once it has recorded a notification.
CUSTOMER_NOTIFIED = "CustomerNotified"
ALREADY_NOTIFIED = "already notified"


@dataclass(frozen=True)
class Notification:
    """A customer notification: which outcome of which order, and when it was recorded."""

    order_id: str
    customer_id: str
    outcome: str  # the event's detail-type: OrderCompleted or OrderFailed
    status: str  # the order's terminal status, as the event reports it
    end: str  # the saga's end state (OrderCompleted, OutOfStock, PaymentFailed...)
    notified_at: str

    @classmethod
    def of(cls, event: SagaEnded, at: str) -> Notification:
        return cls(event.order_id, event.customer_id, event.detail_type(), event.status, event.end, at)

    def as_record(self) -> dict:
        return {camel(k): v for k, v in asdict(self).items()}

    @classmethod
    def from_record(cls, record: dict) -> Notification:
        return cls(**{snake(k): str(v) for k, v in record.items() if snake(k) in cls.__dataclass_fields__})


class NotificationStore(Protocol):
    def add(self, notification: Notification) -> bool:
        """Store `notification` unless its order has one: True if stored, False if the order was
        notified already (nothing is written then)."""

    def get(self, order_id: str) -> Notification | None: ...


def notify_customer(
    event: SagaEnded, store: NotificationStore, now: Callable[[], str] = now_iso
) -> tuple[Notification, bool]:
    """The order's notification of `event`, and whether this delivery recorded it (False: a
    duplicate, already notified)."""
    notification = Notification.of(event, now())
    return notification, store.add(notification)
