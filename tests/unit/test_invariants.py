from decimal import Decimal

from shared.domain.payment import Entry, LedgerEntry
from tools.analysis.invariants import violations


def record(status, quantity=1, customer="CUST-1", **fields):
    return {"orderId": f"o-{status}", "status": status, "quantity": quantity, "customerId": customer, **fields}


SHIPPED = record("SHIPPING_SCHEDULED", 2, reservationId="R", paymentId="P", trackingNumber="T")
REFUNDED = record("INVENTORY_RELEASED", customer="CUST-UNDELIVERABLE", reservationId="R", paymentId="P", refundId="F")


def entry(order: dict, kind: Entry, amount: str = "10") -> LedgerEntry:
    return LedgerEntry(order["orderId"], kind, f"{kind}-1", Decimal(amount))


def test_a_consistent_run_has_no_violations():
    declined = record("INVENTORY_RELEASED", customer="CUST-DECLINE", reservationId="R")
    ledger = {
        SHIPPED["orderId"]: [entry(SHIPPED, Entry.CHARGE)],
        REFUNDED["orderId"]: [entry(REFUNDED, Entry.CHARGE), entry(REFUNDED, Entry.REFUND)],
    }
    records = [SHIPPED, REFUNDED, record("INVENTORY_FAILED"), declined]
    assert violations(records, stock_before=5, stock_after=3, ledger=ledger) == []


def test_lost_or_doubled_units_are_violations():
    assert any("units lost or doubled" in v for v in violations([SHIPPED], 5, 4))
    assert any("units lost or doubled" in v for v in violations([SHIPPED], 5, 2))


def test_stuck_and_parked_orders_are_violations():
    found = violations([record("PAYMENT_CHARGED"), record("CREATED"), record("NEEDS_ATTENTION")], 5, 5)
    assert sum("not terminal" in v for v in found) == 2
    assert any("parked for a person" in v for v in found)


def test_shipping_without_payment_or_a_shipped_decline_are_violations():
    found = violations([record("SHIPPING_SCHEDULED", customer="CUST-DECLINE")], 5, 4)
    assert any("without payment" in v for v in found)
    assert any("can never ship" in v for v in found)


def test_a_charge_kept_on_a_released_order_is_a_violation():
    kept = record("INVENTORY_RELEASED", reservationId="R", paymentId="P")
    found = violations([kept], 5, 5, ledger={kept["orderId"]: [entry(kept, Entry.CHARGE)]})
    assert any("not refunded" in v for v in found)
    assert any("not shipped but charged 10 and refunded 0" in v for v in found)


def test_ledger_doubles_and_refunds_of_shipped_orders_are_violations():
    doubled = [entry(SHIPPED, Entry.CHARGE), entry(SHIPPED, Entry.CHARGE), entry(SHIPPED, Entry.REFUND)]
    found = violations([SHIPPED], 5, 3, ledger={SHIPPED["orderId"]: doubled})
    assert any("CHARGE recorded 2 times" in v for v in found)
    assert any("shipped without exactly one charge and no refund" in v for v in found)


def test_negative_stock_is_a_violation():
    assert any("below zero" in v for v in violations([], 0, -1))
