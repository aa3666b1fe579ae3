from tools.invariants import violations


def record(status, quantity=1, customer="CUST-1", **fields):
    return {"orderId": f"o-{status}", "status": status, "quantity": quantity, "customerId": customer, **fields}


SHIPPED = record("SHIPPING_SCHEDULED", 2, reservationId="R", paymentId="P", trackingNumber="T")


def test_a_consistent_run_has_no_violations():
    records = [SHIPPED, record("INVENTORY_FAILED"), record("INVENTORY_RELEASED", customer="CUST-DECLINE", reservationId="R")]
    assert violations(records, stock_before=5, stock_after=3) == []


def test_lost_or_doubled_units_are_violations():
    assert any("units lost or doubled" in v for v in violations([SHIPPED], 5, 4))
    assert any("units lost or doubled" in v for v in violations([SHIPPED], 5, 2))


def test_stuck_orders_and_charged_but_unshipped_are_violations():
    found = violations([record("PAYMENT_CHARGED"), record("CREATED")], 5, 5)
    assert sum("not terminal" in v for v in found) == 2


def test_shipping_without_payment_or_a_shipped_decline_are_violations():
    found = violations([record("SHIPPING_SCHEDULED", customer="CUST-DECLINE")], 5, 4)
    assert any("without payment" in v for v in found)
    assert any("declined card" in v for v in found)


def test_negative_stock_is_a_violation():
    assert any("below zero" in v for v in violations([], 0, -1))
