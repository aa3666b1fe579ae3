"""The four orders every demo, test and comparison runs, with the outcome each must reach."""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.payment import DECLINED_CUSTOMER
from shared.domain.shipping import UNDELIVERABLE_CUSTOMER, UNDELIVERABLE_REASON

DEMO_SKU = "DEMO-SKU"
DEMO_STOCK = 1000


@dataclass(frozen=True)
class Scenario:
    name: str
    order: dict
    status: str
    failure_reason: str | None = None


_BASE = {"customerId": "CUST-1", "sku": DEMO_SKU, "quantity": 2, "amount": 49.9}

SCENARIOS = {
    s.name: s
    for s in (
        Scenario("happy", _BASE, "SHIPPING_SCHEDULED"),
        Scenario("out-of-stock", {**_BASE, "sku": "OUT-OF-STOCK"}, "INVENTORY_FAILED", "out of stock"),
        Scenario("declined", {**_BASE, "customerId": DECLINED_CUSTOMER}, "INVENTORY_RELEASED", "card declined"),
        Scenario(
            "undeliverable", {**_BASE, "customerId": UNDELIVERABLE_CUSTOMER}, "INVENTORY_RELEASED", UNDELIVERABLE_REASON
        ),
    )
}
