"""The failure reasons a customer is shown: a fixed set, never the text the saga stored.

The stored `failureReason` is for operators (`make stuck`): it may carry a caught error's message
("payment did not complete: Task timed out after 10.00 seconds") or the reconciler's note ("stuck
in CREATED after 5 recovery attempts (...)"). The API shows `public_reason(order)` instead, one of
`PUBLIC_REASONS`:

    out of stock                the SKU had not enough stock: nothing reserved, nothing charged
    card declined               the payment was declined: the stock was given back
    address undeliverable       shipping refused the order: refunded, then the stock given back
    payment did not complete    the payment step failed for good: voided or refunded, stock back
    shipping did not complete   the shipping step failed for good after the charge: refunded, stock back
    needs attention             the saga could not finish on its own: a person looks at it
"""

from __future__ import annotations

from .inventory import OUT_OF_STOCK_REASON
from .order import Order, Status
from .payment import CARD_DECLINED_REASON
from .shipping import UNDELIVERABLE_REASON

PAYMENT_INCOMPLETE_REASON = "payment did not complete"
SHIPPING_INCOMPLETE_REASON = "shipping did not complete"
NEEDS_ATTENTION_REASON = "needs attention"
# The domain's own answers, shown as they are.
_ANSWERS = (OUT_OF_STOCK_REASON, CARD_DECLINED_REASON, UNDELIVERABLE_REASON)
# A step that failed for good: stored with the caught error after the phrase, shown without it.
_INCOMPLETE = (PAYMENT_INCOMPLETE_REASON, SHIPPING_INCOMPLETE_REASON)
PUBLIC_REASONS = frozenset({*_ANSWERS, *_INCOMPLETE, NEEDS_ATTENTION_REASON})


def public_reason(order: Order) -> str | None:
    """The member of PUBLIC_REASONS that says why `order` failed, or None if it has not."""
    if order.status is Status.NEEDS_ATTENTION:
        return NEEDS_ATTENTION_REASON
    stored = order.failure_reason
    if not stored:
        return None
    if stored in _ANSWERS:
        return stored
    for phrase in _INCOMPLETE:
        if stored.startswith(phrase):
            return phrase
    # Text the saga did not write for customers (an error's message): say which step stopped.
    if order.status is Status.INVENTORY_FAILED:
        return OUT_OF_STOCK_REASON
    return SHIPPING_INCOMPLETE_REASON if order.payment_id else PAYMENT_INCOMPLETE_REASON
