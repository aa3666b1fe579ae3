"""Chaos's settling: every order read until it ends, several at a time, in the orders' order; an
order still open once no other has ended for `patience` s is taken as it stands."""

import time

from tools import aws
from tools.analysis import chaos
from tools.operator import trigger


def test_settling_waits_while_orders_end_and_takes_the_rest_as_they_stand(monkeypatch):
    ends_at = {"o-1": 0.0, "o-2": 0.3, "o-3": float("inf")}  # o-3 never ends
    start = time.monotonic()

    def wait_for_terminal(style: str, order_id: str, timeout: float) -> dict:
        due = start + ends_at[order_id]
        if due - time.monotonic() > timeout:
            time.sleep(timeout)
            raise trigger.TriggerFailed(f"{order_id} still open")
        time.sleep(max(0.0, due - time.monotonic()))
        return {"orderId": order_id, "status": "COMPLETED"}

    monkeypatch.setattr(trigger, "wait_for_terminal", wait_for_terminal)
    monkeypatch.setattr(aws, "read_order", lambda style, order_id: {"orderId": order_id, "status": "PAYMENT_CHARGED"})
    records = chaos.settle("choreography", ["o-3", "o-1", "o-2"], patience=1.0)
    took = time.monotonic() - start
    assert [(r["orderId"], r["status"]) for r in records] == [
        ("o-3", "PAYMENT_CHARGED"),
        ("o-1", "COMPLETED"),
        ("o-2", "COMPLETED"),
    ]
    assert 1.3 <= took < 4.0  # patience counted from o-2's end, not from the start
