"""Stock rules."""

from .order import new_id

OUT_OF_STOCK_REASON = "out of stock"
# A SKU that never has stock, so the failure path can be shown on demand.
OUT_OF_STOCK_SKU = "OUT-OF-STOCK"


def is_stocked(sku: str) -> bool:
    return sku != OUT_OF_STOCK_SKU


def can_apply(stock: int, delta: int) -> bool:
    """Stock never goes below zero. Stores enforce this in the same write that changes it."""
    return stock + delta >= 0


def new_reservation_id() -> str:
    return new_id("RES")
