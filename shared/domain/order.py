"""The order and the only ways its status may move. Plain Python: no AWS, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum


class Status(StrEnum):
    CREATED = "CREATED"
    INVENTORY_RESERVED = "INVENTORY_RESERVED"
    INVENTORY_FAILED = "INVENTORY_FAILED"
    PAYMENT_CHARGED = "PAYMENT_CHARGED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    SHIPPING_SCHEDULED = "SHIPPING_SCHEDULED"
    INVENTORY_RELEASED = "INVENTORY_RELEASED"


TERMINAL = frozenset({Status.INVENTORY_FAILED, Status.SHIPPING_SCHEDULED, Status.INVENTORY_RELEASED})

# The saga's state machine. Releasing straight from INVENTORY_RESERVED covers a payment step
# that crashed without deciding: the stock must still come back.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.CREATED: frozenset({Status.INVENTORY_RESERVED, Status.INVENTORY_FAILED}),
    Status.INVENTORY_RESERVED: frozenset(
        {Status.PAYMENT_CHARGED, Status.PAYMENT_FAILED, Status.INVENTORY_RELEASED}
    ),
    Status.PAYMENT_CHARGED: frozenset({Status.SHIPPING_SCHEDULED}),
    Status.PAYMENT_FAILED: frozenset({Status.INVENTORY_RELEASED}),
}

class InvalidTransition(Exception):
    def __init__(self, order_id: str, current: Status, wanted: Status) -> None:
        super().__init__(f"order {order_id}: cannot move from {current} to {wanted}")
        self.current = current
        self.wanted = wanted


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


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
    tracking_number: str | None = None
    failure_reason: str | None = None
    created_at: str = ""
    updated_at: str = ""

    @classmethod
    def place(
        cls, customer_id: str, sku: str, quantity: int, amount: Decimal, idempotency_key: str = ""
    ) -> Order:
        """A new order. With a client's idempotency key the id is derived from it, so a retried
        request names the same order instead of placing a second one."""
        now = _now()
        return cls(
            order_id=_order_id(customer_id, idempotency_key),
            customer_id=customer_id,
            sku=sku,
            quantity=quantity,
            amount=amount,
            created_at=now,
            updated_at=now,
        )

    def advance(self, status: Status, **changes: object) -> Order:
        if status not in TRANSITIONS.get(self.status, frozenset()):
            raise InvalidTransition(self.order_id, self.status, status)
        return replace(self, status=status, updated_at=_now(), **changes)

    def same_request(self, other: Order) -> bool:
        mine = (self.customer_id, self.sku, self.quantity, self.amount)
        return mine == (other.customer_id, other.sku, other.quantity, other.amount)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    def as_record(self) -> dict:
        """The order as stored and as shown by the API: camelCase keys, unset fields left out."""
        fields = {k: v for k, v in asdict(self).items() if v is not None}
        fields["status"] = str(self.status)
        return {_camel(k): v for k, v in fields.items()}

    @classmethod
    def from_record(cls, record: dict) -> Order:
        fields = {_snake(k): v for k, v in record.items() if _snake(k) in cls.__dataclass_fields__}
        fields["status"] = Status(fields["status"])
        fields["quantity"] = int(fields["quantity"])
        fields["amount"] = Decimal(str(fields["amount"]))
        return cls(**fields)


# Fixed namespace for ids derived from idempotency keys (uuid5 needs one).
_ORDER_NAMESPACE = uuid.UUID("6f1c6a4e-2b0d-4c43-9d59-5a1f3f0b8e21")


def _order_id(customer_id: str, idempotency_key: str) -> str:
    if not idempotency_key:
        return str(uuid.uuid4())
    return str(uuid.uuid5(_ORDER_NAMESPACE, f"{customer_id}/{idempotency_key}"))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
