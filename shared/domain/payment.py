"""The payment decision. A stand-in for a payment provider, with one customer always declined."""

from dataclasses import dataclass

from .order import Order, new_id

DECLINED_CUSTOMER = "CUST-DECLINE"
CARD_DECLINED_REASON = "card declined"


@dataclass(frozen=True)
class PaymentDecision:
    approved: bool
    payment_id: str | None = None
    reason: str | None = None


def authorize(order: Order) -> PaymentDecision:
    if order.customer_id == DECLINED_CUSTOMER:
        return PaymentDecision(approved=False, reason=CARD_DECLINED_REASON)
    return PaymentDecision(approved=True, payment_id=new_id("PAY"))
