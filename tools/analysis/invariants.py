"""The saga's guarantees, checked on final records, stock and the payment ledger, and the hybrid's
customer notifications. Used by `make chaos` and the e2e invariant suite; each check returns the
violations it finds (an empty list when all is well)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set

from hybrid.notifications import Notification
from shared.contract import TERMINAL_STATUSES
from shared.domain.order import Status
from shared.domain.payment import DECLINED_CUSTOMER, LedgerEntry, ledger_violations
from shared.domain.shipping import UNDELIVERABLE_CUSTOMER
from shared.events import OrderCompleted, OrderFailed

SHIPPED = str(Status.SHIPPING_SCHEDULED)
RELEASED = str(Status.INVENTORY_RELEASED)
PARKED = str(Status.NEEDS_ATTENTION)
# The outcome the hybrid's state machine publishes for each status an order ends in.
ANNOUNCED = {
    SHIPPED: OrderCompleted.detail_type(),
    RELEASED: OrderFailed.detail_type(),
    str(Status.INVENTORY_FAILED): OrderFailed.detail_type(),
}
# Customers whose orders can never ship, and how each must end.
NEVER_SHIPS = {
    DECLINED_CUSTOMER: {RELEASED, str(Status.INVENTORY_FAILED)},
    UNDELIVERABLE_CUSTOMER: {RELEASED, str(Status.INVENTORY_FAILED)},
}


def violations(
    records: Iterable[dict],
    stock_before: int,
    stock_after: int,
    ledger: Mapping[str, list[LedgerEntry]] | None = None,
) -> list[str]:
    """Every way `records` (final order records of one SKU), the stock and, if given, each order's
    ledger entries break the saga's guarantees."""
    records = list(records)
    found = [problem for r in records for problem in _record_violations(r)]
    if ledger is not None:
        for r in records:
            found += ledger_violations(r["orderId"], ledger.get(r["orderId"], []), r["status"] == SHIPPED)
    shipped_units = sum(r["quantity"] for r in records if r["status"] == SHIPPED)
    if stock_after < 0:
        found.append(f"stock below zero: {stock_after}")
    if stock_before - shipped_units != stock_after:
        found.append(
            f"stock {stock_before} - shipped {shipped_units} should be {stock_before - shipped_units}, "
            f"is {stock_after} (units lost or doubled)"
        )
    return found


def notification_violations(
    records: Iterable[dict], notified: Mapping[str, Notification | None], dead_letters: Set[str] = frozenset()
) -> list[str]:
    """How the hybrid's notifications break their guarantee, given each order's final record and
    its notification (None: none): every order that reached an end is notified once (the table
    holds one per order), with the outcome and the status it ended in, unless its outcome is
    parked in the dead-letter queue (`dead_letters`: order ids), where an operator sees it; an
    order parked for a person reached no end, and is not notified."""
    found = []
    for r in records:
        where, status = f"order {r['orderId']} ({r['status']})", r["status"]
        notification = notified.get(r["orderId"])
        if status not in ANNOUNCED:
            if notification is not None:
                found.append(f"{where}: notified {notification.outcome} without reaching an end")
            continue
        if notification is None:
            if r["orderId"] not in dead_letters:
                found.append(f"{where}: no customer notification, and none in the dead-letter queue")
            continue
        if (notification.outcome, notification.status) != (ANNOUNCED[status], status):
            found.append(f"{where}: notified {notification.outcome} with status {notification.status}")
    return found


def _record_violations(r: dict) -> list[str]:
    where, status = f"order {r['orderId']} ({r['status']})", r["status"]
    found = []
    if status not in TERMINAL_STATUSES:
        found.append(f"{where}: not terminal")
    if status == PARKED:
        found.append(f"{where}: parked for a person: {r.get('failureReason')}")
    if status == SHIPPED and not (r.get("paymentId") and r.get("trackingNumber") and r.get("reservationId")):
        found.append(f"{where}: shipped without payment, reservation or tracking number")
    if status == RELEASED and not r.get("reservationId"):
        found.append(f"{where}: released without a reservation")
    if status == RELEASED and r.get("paymentId") and not r.get("refundId"):
        found.append(f"{where}: released after a charge that was not refunded")
    expected_ends = NEVER_SHIPS.get(r["customerId"])
    if expected_ends and status not in expected_ends:
        found.append(f"{where}: customer {r['customerId']} can never ship, must end released or never reserved")
    return found
