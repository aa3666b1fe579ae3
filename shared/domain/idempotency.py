"""Idempotency records: how a client's `Idempotency-Key` names the order it placed. Plain Python.

A record belongs to one customer and one key, and says which order the key placed and what was
asked for (a fingerprint of the request). It is stored next to the order, in the same atomic
write, and lives for `TTL`: a POST retried with the same key and the same order inside that
window answers the order already placed; the same key with another order is a conflict. Once
the record expired the key is free again (the store lets DynamoDB's TTL delete it, and treats an
expired record that is still there as absent).

Order ids are random (uuid4) whether or not a key is sent: an id says nothing about the key or
the customer, so knowing a key never lets anyone guess an order's id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from .order import Order

TTL = timedelta(hours=24)


@dataclass(frozen=True)
class IdempotencyRecord:
    customer_id: str
    key: str
    order_id: str
    request_hash: str  # fingerprint(order): what the key was first used for
    placed_at: int  # epoch seconds
    expires_at: int  # epoch seconds: DynamoDB's TTL attribute

    def expired(self, at: int) -> bool:
        return self.expires_at < at


class IdempotencyKeyHeld(Exception):
    """The customer's key names an order already (a record that has not expired): `record`."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(f"idempotency key already used for order {record.order_id}")
        self.record = record


def fingerprint(order: Order) -> str:
    """What the customer asked for, as a short hash: equal for the same request, whatever the
    amount's notation (5, 5.0 and 5.00 are one amount)."""
    amount = format(order.amount.normalize(), "f")
    asked = "\n".join((order.customer_id, order.sku, str(order.quantity), amount))
    return hashlib.sha256(asked.encode()).hexdigest()


def record_for(order: Order, key: str, now: datetime, ttl: timedelta = TTL) -> IdempotencyRecord:
    placed_at = int(now.timestamp())
    return IdempotencyRecord(
        customer_id=order.customer_id,
        key=key,
        order_id=order.order_id,
        request_hash=fingerprint(order),
        placed_at=placed_at,
        expires_at=placed_at + int(ttl.total_seconds()),
    )
