"""The payment ledger's contract, held by the DynamoDB adapter (on moto) and the in-memory fake
alike: idempotent by orderId, and a void blocks any later charge. Then the ledger's rules."""

from decimal import Decimal

import pytest

from shared.adapters.ledger import DynamoPaymentLedger
from shared.domain.errors import PaymentVoided
from shared.domain.payment import Entry, LedgerEntry, ledger_violations
from tests.fakes import InMemoryLedger


@pytest.fixture(params=["dynamodb", "memory"])
def ledger(request):
    if request.param == "memory":
        return InMemoryLedger()
    request.getfixturevalue("tables")
    return DynamoPaymentLedger("payments")


def kinds(ledger, order_id: str) -> list[Entry]:
    return sorted(e.entry for e in ledger.entries(order_id))


def test_a_charge_is_recorded_with_its_amount(ledger):
    payment_id = ledger.charge("o-1", Decimal("19.99"))
    [entry] = ledger.entries("o-1")
    assert payment_id.startswith("PAY-")
    assert (entry.order_id, entry.entry, entry.entry_id, entry.amount) == (
        "o-1",
        Entry.CHARGE,
        payment_id,
        Decimal("19.99"),
    )


def test_charging_twice_takes_the_money_once(ledger):
    first = ledger.charge("o-1", Decimal("10"))
    assert ledger.charge("o-1", Decimal("10")) == first
    assert kinds(ledger, "o-1") == [Entry.CHARGE]


def test_a_refund_returns_the_whole_charge(ledger):
    ledger.charge("o-1", Decimal("12.50"))
    refund_id = ledger.refund("o-1")
    refund = next(e for e in ledger.entries("o-1") if e.entry is Entry.REFUND)
    assert refund_id.startswith("REF-") and refund.entry_id == refund_id
    assert refund.amount == Decimal("12.50")


def test_refunding_twice_returns_the_money_once(ledger):
    ledger.charge("o-1", Decimal("10"))
    first = ledger.refund("o-1")
    assert ledger.refund("o-1") == first
    assert kinds(ledger, "o-1") == [Entry.CHARGE, Entry.REFUND]


def test_a_refund_without_a_charge_voids_the_payment(ledger):
    assert ledger.refund("o-1") is None
    assert kinds(ledger, "o-1") == [Entry.VOID]
    assert ledger.refund("o-1") is None  # voided before: still nothing to refund
    assert kinds(ledger, "o-1") == [Entry.VOID]


def test_a_late_charge_after_a_void_is_refused(ledger):
    ledger.refund("o-1")
    with pytest.raises(PaymentVoided):
        ledger.charge("o-1", Decimal("10"))
    assert kinds(ledger, "o-1") == [Entry.VOID]


def test_entries_are_per_order(ledger):
    ledger.charge("o-1", Decimal("10"))
    ledger.refund("o-1")
    ledger.charge("o-2", Decimal("20"))
    ledger.refund("o-3")
    assert kinds(ledger, "o-1") == [Entry.CHARGE, Entry.REFUND]
    assert [(e.entry, e.amount) for e in ledger.entries("o-2")] == [(Entry.CHARGE, Decimal("20"))]
    assert kinds(ledger, "o-3") == [Entry.VOID]
    assert ledger.entries("o-4") == []
    every = ledger.every_entry()
    assert set(every) == {"o-1", "o-2", "o-3"}
    assert {oid: sorted(e.entry for e in found) for oid, found in every.items()} == {
        oid: kinds(ledger, oid) for oid in ("o-1", "o-2", "o-3")
    }


def test_the_dynamodb_ledger_stamps_each_entry(tables):
    ledger = DynamoPaymentLedger("payments")
    ledger.charge("o-1", Decimal("10"))
    [entry] = ledger.entries("o-1")
    assert entry.at.endswith("+00:00")


def test_a_charge_that_lands_between_the_look_and_the_void_is_refunded(tables, monkeypatch):
    """The refund found no charge, but one was written before its void: refund that one."""
    ledger = DynamoPaymentLedger("payments")
    real_find = ledger._find

    def look_just_before_a_charge(order_id, entry):
        monkeypatch.setattr(ledger, "_find", real_find)  # only the first look misses it
        ledger.charge(order_id, Decimal("10"))
        return None

    monkeypatch.setattr(ledger, "_find", look_just_before_a_charge)
    refund_id = ledger.refund("o-1")
    assert refund_id is not None and refund_id.startswith("REF-")
    assert kinds(ledger, "o-1") == [Entry.CHARGE, Entry.REFUND]


def booked(kind: Entry, amount: str = "10") -> LedgerEntry:
    return LedgerEntry("o-1", kind, f"{kind}-1", Decimal(amount))


@pytest.mark.parametrize(
    ("entries", "shipped"),
    [
        ([booked(Entry.CHARGE)], True),
        ([booked(Entry.CHARGE), booked(Entry.REFUND)], False),
        ([booked(Entry.VOID, "0")], False),
        ([], False),
    ],
)
def test_a_sound_ledger_has_no_violations(entries, shipped):
    assert ledger_violations("o-1", entries, shipped) == []


@pytest.mark.parametrize(
    ("entries", "shipped", "problem"),
    [
        ([booked(Entry.CHARGE)], False, "not shipped but charged 10 and refunded 0"),
        ([booked(Entry.REFUND)], False, "refund without a charge"),
        ([], True, "shipped without exactly one charge and no refund"),
        (
            [booked(Entry.CHARGE), booked(Entry.REFUND)],
            True,
            "shipped without exactly one charge and no refund",
        ),
        ([booked(Entry.CHARGE), booked(Entry.CHARGE)], True, "CHARGE recorded 2 times"),
        (
            [booked(Entry.CHARGE), booked(Entry.REFUND), booked(Entry.REFUND)],
            False,
            "REFUND recorded 2 times",
        ),
        ([booked(Entry.CHARGE), booked(Entry.REFUND, "4")], False, "charged 10 and refunded 4"),
    ],
)
def test_ledger_violations_name_what_is_wrong(entries, shipped, problem):
    found = ledger_violations("o-1", entries, shipped)
    assert any(problem in f for f in found), found
    assert all(f.startswith("order o-1: ledger ") for f in found)
