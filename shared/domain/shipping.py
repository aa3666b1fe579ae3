"""Shipping: a tracking number per shipped order, and one customer whose address never takes
a delivery, so the compensation of two completed steps can be shown on demand."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from .order import Order

TRACKING_PREFIX = "TRK-"
UNDELIVERABLE_CUSTOMER = "CUST-UNDELIVERABLE"
UNDELIVERABLE_REASON = "address undeliverable"


@dataclass(frozen=True)
class ShippingDecision:
    accepted: bool
    tracking_number: str | None = None
    reason: str | None = None


def schedule(order: Order) -> ShippingDecision:
    if order.customer_id == UNDELIVERABLE_CUSTOMER:
        return ShippingDecision(accepted=False, reason=UNDELIVERABLE_REASON)
    return ShippingDecision(accepted=True, tracking_number=new_tracking_number())


def new_tracking_number() -> str:
    return TRACKING_PREFIX + secrets.token_hex(4).upper()
