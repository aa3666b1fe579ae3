"""The saga's guarantees, checked on final records, stock and the payment ledger. Used by
`make chaos` and the e2e invariant suite; each check returns the violations it finds (an empty
list when all is well)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shared.contract import TERMINAL_STATUSES
from shared.domain.order import Status
from shared.domain.payment import DECLINED_CUSTOMER, LedgerEntry, ledger_violations
from shared.domain.shipping import UNDELIVERABLE_CUSTOMER

SHIPPED = str(Status.SHIPPING_SCHEDULED)
RELEASED = str(Status.INVENTORY_RELEASED)
PARKED = str(Status.NEEDS_ATTENTION)
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
