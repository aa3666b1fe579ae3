"""The saga's guarantees, checked on final records and stock. Used by `make chaos` and the e2e
invariant suite; each check returns the violations it finds (an empty list when all is well)."""

from __future__ import annotations

from collections.abc import Iterable

from shared.domain.order import TERMINAL
from shared.domain.payment import DECLINED_CUSTOMER

TERMINAL_STATUSES = {str(s) for s in TERMINAL}
DECLINED_ENDS = {"INVENTORY_RELEASED", "INVENTORY_FAILED"}


def violations(records: Iterable[dict], stock_before: int, stock_after: int) -> list[str]:
    records = list(records)
    found = []
    shipped_units = 0
    for r in records:
        where = f"order {r['orderId']} ({r['status']})"
        if r["status"] not in TERMINAL_STATUSES:
            found.append(f"{where}: not terminal")
        if r["status"] == "SHIPPING_SCHEDULED":
            shipped_units += r["quantity"]
            if not (r.get("paymentId") and r.get("trackingNumber") and r.get("reservationId")):
                found.append(f"{where}: shipped without payment, reservation or tracking number")
        if r["status"] == "INVENTORY_RELEASED" and not r.get("reservationId"):
            found.append(f"{where}: released without a reservation")
        if r["customerId"] == DECLINED_CUSTOMER and r["status"] not in DECLINED_ENDS:
            found.append(f"{where}: a declined card must end released or never reserved")
    if stock_after < 0:
        found.append(f"stock below zero: {stock_after}")
    if stock_before - shipped_units != stock_after:
        found.append(
            f"stock {stock_before} - shipped {shipped_units} should be {stock_before - shipped_units}, "
            f"is {stock_after} (units lost or doubled)"
        )
    return found
