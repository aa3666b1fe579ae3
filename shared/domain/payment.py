"""The payment decision and the ledger's rules. A stand-in for a payment provider, with one
customer always declined."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .order import Order, new_id

DECLINED_CUSTOMER = "CUST-DECLINE"
CARD_DECLINED_REASON = "card declined"


@dataclass(frozen=True)
class PaymentDecision:
    approved: bool
    reason: str | None = None


def authorize(order: Order) -> PaymentDecision:
    if order.customer_id == DECLINED_CUSTOMER:
        return PaymentDecision(approved=False, reason=CARD_DECLINED_REASON)
    return PaymentDecision(approved=True)


class Entry(StrEnum):
    """The kinds of ledger entry, at most one of each per order (the orderId is the provider's
    idempotency key). VOID closes an order that was never charged, so a late charge (a delivery
    still in flight when the saga compensated) is refused instead of stranding money."""

    CHARGE = "CHARGE"
    REFUND = "REFUND"
    VOID = "VOID"


@dataclass(frozen=True)
class LedgerEntry:
    order_id: str
    entry: Entry
    entry_id: str
    amount: Decimal
    at: str = ""


def new_payment_id() -> str:
    return new_id("PAY")


def new_refund_id() -> str:
    return new_id("REF")


def ledger_violations(order_id: str, entries: list[LedgerEntry], shipped: bool) -> list[str]:
    """What is wrong with one order's ledger entries, given whether the order shipped."""
    kinds = [e.entry for e in entries]
    found = [f"{k} recorded {kinds.count(k)} times" for k in Entry if kinds.count(k) > 1]
    charged = sum(e.amount for e in entries if e.entry is Entry.CHARGE)
    refunded = sum(e.amount for e in entries if e.entry is Entry.REFUND)
    if Entry.REFUND in kinds and Entry.CHARGE not in kinds:
        found.append("refund without a charge")
    if shipped and (Entry.CHARGE not in kinds or Entry.REFUND in kinds):
        found.append("shipped without exactly one charge and no refund")
    if not shipped and charged != refunded:
        found.append(f"not shipped but charged {charged} and refunded {refunded}")
    return [f"order {order_id}: ledger {problem}" for problem in found]
