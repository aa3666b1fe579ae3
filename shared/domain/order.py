"""The order and the only ways its status may move. Plain Python: no AWS, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypedDict, Unpack


class Status(StrEnum):
    CREATED = "CREATED"
    INVENTORY_RESERVED = "INVENTORY_RESERVED"
    INVENTORY_FAILED = "INVENTORY_FAILED"
    PAYMENT_CHARGED = "PAYMENT_CHARGED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    SHIPPING_SCHEDULED = "SHIPPING_SCHEDULED"
    SHIPPING_FAILED = "SHIPPING_FAILED"
    PAYMENT_REFUNDED = "PAYMENT_REFUNDED"
    INVENTORY_RELEASED = "INVENTORY_RELEASED"
    # Parked for a person: the reconciler could not finish the saga (see shared.recovery).
    NEEDS_ATTENTION = "NEEDS_ATTENTION"


TERMINAL = frozenset(
    {
        Status.INVENTORY_FAILED,
        Status.SHIPPING_SCHEDULED,
        Status.INVENTORY_RELEASED,
        Status.NEEDS_ATTENTION,
    }
)

# The saga's state machine. Compensation runs backwards through what was done: a refund before
# the release. A payment or shipping step that failed for good (not a decline or a refusal, but
# retries exhausted) is compensated from where it stopped: INVENTORY_RESERVED and
# PAYMENT_CHARGED may go straight to the refund (which voids a payment that was never taken, and
# then records PAYMENT_FAILED). Every open status may be parked as NEEDS_ATTENTION.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.CREATED: frozenset({Status.INVENTORY_RESERVED, Status.INVENTORY_FAILED}),
    Status.INVENTORY_RESERVED: frozenset({Status.PAYMENT_CHARGED, Status.PAYMENT_FAILED, Status.PAYMENT_REFUNDED}),
    Status.PAYMENT_CHARGED: frozenset({Status.SHIPPING_SCHEDULED, Status.SHIPPING_FAILED, Status.PAYMENT_REFUNDED}),
    Status.SHIPPING_FAILED: frozenset({Status.PAYMENT_REFUNDED}),
    Status.PAYMENT_FAILED: frozenset({Status.INVENTORY_RELEASED}),
    Status.PAYMENT_REFUNDED: frozenset({Status.INVENTORY_RELEASED}),
}
TRANSITIONS = {status: targets | {Status.NEEDS_ATTENTION} for status, targets in TRANSITIONS.items()}


class InvalidTransition(Exception):
    def __init__(self, order_id: str, current: Status, wanted: Status) -> None:
        super().__init__(f"order {order_id}: cannot move from {current} to {wanted}")
        self.current = current
        self.wanted = wanted


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


class Progress(TypedDict, total=False):
    """What a status change may record besides the status (`Order.advance`)."""

    reservation_id: str | None
    payment_id: str | None
    refund_id: str | None
    tracking_number: str | None
    failure_reason: str | None


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    sku: str
    quantity: int
    amount: Decimal
    status: Status = Status.CREATED
    reservation_id: str | None = None
    payment_id: str | None = None
    refund_id: str | None = None
    tracking_number: str | None = None
    failure_reason: str | None = None
    # Set by the reconciler: how often it set this order's saga going again, and what it did
    # last (kept after the order moves on, as a note for people).
    recovery_attempts: int | None = None
    last_recovery: str | None = None
    created_at: str = ""
    updated_at: str = ""

    @classmethod
    def place(cls, customer_id: str, sku: str, quantity: int, amount: Decimal) -> Order:
        """A new order, with a random id (uuid4): an id says nothing about who placed it or how
        (a client's idempotency key names its order through a record of its own: `idempotency`)."""
        now = now_iso()
        return cls(
            order_id=str(uuid.uuid4()),
            customer_id=customer_id,
            sku=sku,
            quantity=quantity,
            amount=amount,
            created_at=now,
            updated_at=now,
        )

    def advance(self, status: Status, **changes: Unpack[Progress]) -> Order:
        if status not in TRANSITIONS.get(self.status, frozenset()):
            raise InvalidTransition(self.order_id, self.status, status)
        return replace(self, status=status, updated_at=now_iso(), **changes)

    def noted(self, action: str) -> Order:
        """The order after the reconciler acted on it, without moving its status."""
        return replace(
            self,
            recovery_attempts=(self.recovery_attempts or 0) + 1,
            last_recovery=action,
            updated_at=now_iso(),
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    def as_record(self) -> dict:
        """The order as stored and as shown by the API: camelCase keys, unset fields left out."""
        fields = {k: v for k, v in asdict(self).items() if v is not None}
        fields["status"] = str(self.status)
        return {camel(k): v for k, v in fields.items()}

    @classmethod
    def from_record(cls, record: dict) -> Order:
        fields = {snake(k): v for k, v in record.items() if snake(k) in cls.__dataclass_fields__}
        fields["status"] = Status(fields["status"])
        fields["quantity"] = int(fields["quantity"])
        fields["amount"] = Decimal(str(fields["amount"]))
        if fields.get("recovery_attempts") is not None:
            fields["recovery_attempts"] = int(fields["recovery_attempts"])
        return cls(**fields)


def camel(name: str) -> str:
    """`reservation_id` -> `reservationId`: the one converter between Python and record names."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def snake(name: str) -> str:
    """`reservationId` -> `reservation_id`."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
