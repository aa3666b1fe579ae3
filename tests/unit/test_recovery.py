"""The reconciler's rules, on the in-memory store and a scripted saga driver."""

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shared import recovery
from shared.domain.order import TERMINAL, Order, Status
from shared.events import (
    ROUTES,
    InventoryReserved,
    OrderCreated,
    PaymentCharged,
    PaymentFailed,
    PaymentRefunded,
    ShippingFailed,
)
from shared.recovery import Action, SagaState, decide, reconcile, waiting_on
from tests.fakes import InMemorySagaStore, ScriptedDriver

STUCK_AFTER = timedelta(minutes=2)
OPEN = [s for s in Status if s not in TERMINAL]
NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def fresh_now(monkeypatch):
    """Each test's NOW is when it starts: the reconciler's notes are stamped with the clock."""
    monkeypatch.setattr(f"{__name__}.NOW", datetime.now(UTC))


@pytest.fixture
def store():
    return InMemorySagaStore(stock={"SKU-1": 5})


@pytest.fixture
def driver():
    return ScriptedDriver(SagaState.STOPPED)


def stored(store, status: Status, age: timedelta, attempts: int | None = None, **fields) -> Order:
    """An order in `status` (with what the saga recorded to get there), placed and last updated
    `age` ago."""
    order = Order.place("CUST-1", "SKU-1", 2, Decimal("25.5"))
    at = (NOW - age).isoformat(timespec="milliseconds")
    order = replace(
        order,
        status=status,
        created_at=at,
        updated_at=at,
        recovery_attempts=attempts,
        **{**recorded(status), **fields},
    )
    store.add(order)
    return order


def recorded(status: Status) -> dict:
    fields = {}
    if status is not Status.CREATED:
        fields["reservation_id"] = "RES-1"
    if status in (Status.PAYMENT_CHARGED, Status.SHIPPING_FAILED, Status.PAYMENT_REFUNDED):
        fields["payment_id"] = "PAY-1"
    if status in (Status.SHIPPING_FAILED, Status.PAYMENT_REFUNDED):
        fields["failure_reason"] = "address undeliverable"
    if status is Status.PAYMENT_REFUNDED:
        fields["refund_id"] = "REF-1"
    if status is Status.PAYMENT_FAILED:
        fields["failure_reason"] = "card declined"
    return fields


def run(store, driver, now=None, max_attempts=recovery.DEFAULT_MAX_ATTEMPTS):
    now = now or NOW
    return reconcile(store, driver, now, stuck_after=STUCK_AFTER, max_attempts=max_attempts)


# decide


@pytest.mark.parametrize(
    ("saga", "attempts", "action"),
    [
        (SagaState.RUNNING, None, Action.LEFT),
        (SagaState.RUNNING, 9, Action.LEFT),
        (SagaState.STOPPED, None, Action.RESUMED),
        (SagaState.STOPPED, 2, Action.RESUMED),
        (SagaState.STOPPED, 3, Action.PARKED),
        (SagaState.UNKNOWN, None, Action.RESUMED),
        (SagaState.UNKNOWN, 4, Action.PARKED),
    ],
)
def test_decide(saga, attempts, action):
    order = replace(Order.place("CUST-1", "SKU-1", 1, Decimal("1")), recovery_attempts=attempts)
    assert decide(order, saga, max_attempts=3) is action


# reconcile


def test_an_order_younger_than_stuck_after_is_left_alone(store, driver):
    young = stored(store, Status.INVENTORY_RESERVED, timedelta(minutes=1))
    assert run(store, driver).recoveries == []
    assert driver.resumed == [] and store.get(young.order_id) == young


def test_a_saga_still_running_is_left_running(store):
    driver = ScriptedDriver(SagaState.RUNNING)
    order = stored(store, Status.PAYMENT_CHARGED, timedelta(minutes=5), attempts=9)
    [left] = run(store, driver).recoveries
    assert (left.order_id, left.status, left.action) == (
        order.order_id,
        Status.PAYMENT_CHARGED,
        Action.LEFT,
    )
    assert driver.resumed == [] and store.get(order.order_id) == order


@pytest.mark.parametrize("saga", [SagaState.STOPPED, SagaState.UNKNOWN])
def test_a_stopped_saga_is_resumed_and_the_attempt_noted(store, saga):
    driver = ScriptedDriver(saga)
    order = stored(store, Status.INVENTORY_RESERVED, timedelta(minutes=5))
    [resumed] = run(store, driver).recoveries
    assert (resumed.action, resumed.status) == (Action.RESUMED, Status.INVENTORY_RESERVED)
    assert resumed.detail == f"resumed {order.order_id}"
    noted = store.get(order.order_id)
    assert noted.status is Status.INVENTORY_RESERVED and noted.updated_at > order.updated_at
    assert (noted.recovery_attempts, noted.last_recovery) == (
        1,
        "resumed from INVENTORY_RESERVED",
    )
    assert driver.resumed == [noted]  # the driver sees the attempt it makes


def test_a_resumed_order_is_not_resumed_again_until_stuck_after_has_passed(store, driver):
    order = stored(store, Status.PAYMENT_CHARGED, timedelta(minutes=5))
    run(store, driver)
    assert run(store, driver).recoveries == []
    assert run(store, driver, now=NOW + STUCK_AFTER / 2).recoveries == []
    [again] = run(store, driver, now=NOW + STUCK_AFTER + timedelta(seconds=1)).recoveries
    assert again.action is Action.RESUMED
    assert store.get(order.order_id).recovery_attempts == 2 and len(driver.resumed) == 2


def test_after_max_attempts_the_order_is_parked_for_a_person(store, driver):
    order = stored(store, Status.PAYMENT_CHARGED, timedelta(minutes=5), attempts=3)
    [parked] = run(store, driver, max_attempts=3).recoveries
    assert (parked.action, parked.status) == (Action.PARKED, Status.PAYMENT_CHARGED)
    assert parked.detail == "stuck in PAYMENT_CHARGED after 3 recovery attempts"
    stored_order = store.get(order.order_id)
    assert stored_order.status is Status.NEEDS_ATTENTION
    assert stored_order.failure_reason == parked.detail
    assert driver.resumed == [] and store.orders_needing_attention() == [stored_order]
    assert run(store, driver, now=NOW + timedelta(hours=1)).recoveries == []


def test_a_parked_order_keeps_why_the_saga_had_failed(store, driver):
    stored(store, Status.SHIPPING_FAILED, timedelta(minutes=5), attempts=5)
    [parked] = run(store, driver, max_attempts=5).recoveries
    assert parked.detail == "stuck in SHIPPING_FAILED after 5 recovery attempts (address undeliverable)"


def test_the_last_attempt_before_the_limit_is_still_a_resume(store, driver):
    order = stored(store, Status.CREATED, timedelta(minutes=5), attempts=2)
    [resumed] = run(store, driver, max_attempts=3).recoveries
    assert resumed.action is Action.RESUMED
    assert store.get(order.order_id).recovery_attempts == 3


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_terminal_orders_are_ignored(store, driver, status):
    order = stored(store, status, timedelta(days=1), attempts=99)
    found = run(store, driver)
    assert found.recoveries == [] and found.oldest_open_seconds == 0.0
    assert driver.resumed == [] and store.get(order.order_id) == order


def test_every_stuck_open_order_is_resumed_oldest_first(store, driver):
    orders = [stored(store, s, timedelta(minutes=10 - i)) for i, s in enumerate(OPEN)]
    recoveries = run(store, driver).recoveries
    assert [r.order_id for r in recoveries] == [o.order_id for o in orders]
    assert {r.action for r in recoveries} == {Action.RESUMED}


def test_an_order_that_moved_while_being_noted_is_skipped(store, driver, monkeypatch):
    moving = stored(store, Status.INVENTORY_RESERVED, timedelta(minutes=6))
    still = stored(store, Status.CREATED, timedelta(minutes=5))
    listed = store.open_orders

    def list_then_move(updated_before):
        found = listed(updated_before)
        store.transition(moving.advance(Status.PAYMENT_CHARGED, payment_id="PAY-1"), moving.status)
        return found  # a copy of `moving` now out of date

    monkeypatch.setattr(store, "open_orders", list_then_move)
    recoveries = run(store, driver).recoveries
    assert [r.order_id for r in recoveries] == [still.order_id]
    assert [o.order_id for o in driver.resumed] == [still.order_id]
    assert store.get(moving.order_id).recovery_attempts is None


def test_an_order_noted_by_another_round_meanwhile_is_skipped(store, driver, monkeypatch):
    order = stored(store, Status.CREATED, timedelta(minutes=5))
    listed = store.open_orders

    def list_then_note(updated_before):
        found = listed(updated_before)
        store.note(order.noted("resumed by another reconciler"), seen=order)
        return found

    monkeypatch.setattr(store, "open_orders", list_then_note)
    assert run(store, driver).recoveries == [] and driver.resumed == []
    assert store.get(order.order_id).last_recovery == "resumed by another reconciler"


def test_a_park_that_finds_the_order_moved_on_is_skipped(store, driver, monkeypatch):
    order = stored(store, Status.CREATED, timedelta(minutes=5), attempts=5)
    listed = store.open_orders

    def list_then_move(updated_before):
        found = listed(updated_before)
        store.transition(order.advance(Status.INVENTORY_RESERVED, reservation_id="R"), order.status)
        return found

    monkeypatch.setattr(store, "open_orders", list_then_move)
    assert run(store, driver, max_attempts=5).recoveries == []
    assert store.get(order.order_id).status is Status.INVENTORY_RESERVED


def test_oldest_open_seconds_is_the_age_of_the_oldest_open_order(store, driver):
    stored(store, Status.CREATED, timedelta(seconds=90))
    stored(store, Status.PAYMENT_CHARGED, timedelta(seconds=300))
    stored(store, Status.SHIPPING_SCHEDULED, timedelta(seconds=5000))  # finished
    assert run(store, driver).oldest_open_seconds == pytest.approx(300, abs=0.01)


def test_oldest_open_seconds_counts_orders_not_yet_stuck(store, driver):
    stored(store, Status.CREATED, timedelta(seconds=90))
    found = run(store, driver)
    assert found.recoveries == []
    assert found.oldest_open_seconds == pytest.approx(90, abs=0.01)


def test_oldest_open_seconds_is_zero_with_nothing_open(store, driver):
    assert run(store, driver).oldest_open_seconds == 0.0


def test_an_order_resumed_again_and_again_still_ages(store, driver):
    """Each recovery attempt updates the order; its age counts from when it was placed."""
    order = stored(store, Status.INVENTORY_RESERVED, timedelta(minutes=20))
    store.orders[order.order_id] = replace(
        order, updated_at=(NOW - timedelta(seconds=1)).isoformat(timespec="milliseconds")
    )
    assert run(store, driver).oldest_open_seconds == pytest.approx(1200, abs=0.01)


def test_the_round_counts_the_orders_parked_for_a_person(store, driver):
    stored(store, Status.NEEDS_ATTENTION, timedelta(hours=1))
    stored(store, Status.CREATED, timedelta(minutes=30), attempts=recovery.DEFAULT_MAX_ATTEMPTS)
    found = run(store, driver, max_attempts=recovery.DEFAULT_MAX_ATTEMPTS)
    assert found.needing_attention == 2


# waiting_on


@pytest.mark.parametrize(
    ("status", "event", "step"),
    [
        (Status.CREATED, OrderCreated, "reserve_inventory"),
        (Status.INVENTORY_RESERVED, InventoryReserved, "charge_payment"),
        (Status.PAYMENT_CHARGED, PaymentCharged, "notify_shipping"),
        (Status.SHIPPING_FAILED, ShippingFailed, "refund_payment"),
        (Status.PAYMENT_FAILED, PaymentFailed, "release_inventory"),
        (Status.PAYMENT_REFUNDED, PaymentRefunded, "release_inventory"),
    ],
)
def test_waiting_on_is_the_event_that_starts_the_next_step(store, status, event, step):
    order = stored(store, status, timedelta(minutes=5))
    waited = waiting_on(order)
    assert type(waited) is event and waited.order_id == order.order_id
    assert event in ROUTES[step]


def test_waiting_on_carries_what_the_order_recorded(store):
    order = stored(store, Status.PAYMENT_REFUNDED, timedelta(minutes=5))
    waited = waiting_on(order)
    assert (waited.payment_id, waited.refund_id, waited.reason) == (
        "PAY-1",
        "REF-1",
        "address undeliverable",
    )


def test_every_open_status_waits_on_something():
    assert set(recovery.WAITING_ON) == set(OPEN)


class FailingFor(ScriptedDriver):
    """Resumes every saga but the one of `order_id`, whose resume raises."""

    def __init__(self, order_id: str) -> None:
        super().__init__()
        self.order_id = order_id

    def resume(self, order: Order) -> str:
        if order.order_id == self.order_id:
            raise TimeoutError("read timed out")
        return super().resume(order)


def test_one_failed_recovery_does_not_stop_the_others(store):
    bad = stored(store, Status.INVENTORY_RESERVED, timedelta(minutes=9))
    good = stored(store, Status.PAYMENT_CHARGED, timedelta(minutes=8))
    done = run(store, FailingFor(bad.order_id))
    assert [(r.order_id, r.action) for r in done.recoveries] == [
        (bad.order_id, Action.FAILED),
        (good.order_id, Action.RESUMED),
    ]
    assert done.failures == [done.recoveries[0]] and done.failures[0].detail == "TimeoutError: read timed out"
    assert store.get(bad.order_id).recovery_attempts == 1  # the claim stands: the failure counts as an attempt


class WaitingForEachOther(ScriptedDriver):
    """Each resume waits until `n` resumes are under way at once."""

    def __init__(self, n: int) -> None:
        super().__init__(SagaState.STOPPED)
        self.together = threading.Barrier(n, timeout=5)

    def resume(self, order: Order) -> str:
        self.together.wait()
        return super().resume(order)


def test_stuck_orders_are_recovered_several_at_once(store):
    n = 4  # up to recovery.RECOVERY_WORKERS at once
    orders = [stored(store, Status.INVENTORY_RESERVED, timedelta(minutes=5 + i)) for i in range(n)]
    done = run(store, WaitingForEachOther(n))
    assert [(r.order_id, r.action) for r in done.recoveries] == [(o.order_id, Action.RESUMED) for o in orders[::-1]]


# finished orders whose last run was interrupted


def test_a_finished_order_whose_last_run_was_interrupted_is_run_again(store):
    done = stored(store, Status.INVENTORY_FAILED, timedelta(seconds=5), failure_reason="out of stock")
    driver = ScriptedDriver(interrupted=(done.order_id,))
    [again] = run(store, driver).recoveries
    assert (again.order_id, again.status, again.action) == (done.order_id, Status.INVENTORY_FAILED, Action.RESUMED)
    noted = store.get(done.order_id)
    assert noted.status is Status.INVENTORY_FAILED and noted.recovery_attempts == 1
    assert driver.resumed == [noted]


def test_a_finished_order_whose_later_run_finished_is_left_alone(store):
    done = stored(store, Status.SHIPPING_SCHEDULED, timedelta(seconds=5), payment_id="PAY-1")
    driver = ScriptedDriver(interrupted=(done.order_id,))
    driver.state = lambda order: SagaState.STOPPED  # its latest execution succeeded
    assert run(store, driver).recoveries == [] and driver.resumed == []


def test_an_interrupted_finished_order_is_run_again_at_most_max_attempts(store):
    done = stored(store, Status.INVENTORY_FAILED, timedelta(seconds=5), attempts=3)
    driver = ScriptedDriver(interrupted=(done.order_id,))
    assert run(store, driver, max_attempts=3).recoveries == [] and driver.resumed == []


def test_an_interrupted_run_of_an_open_order_is_left_to_the_first_pass(store):
    young = stored(store, Status.INVENTORY_RESERVED, timedelta(seconds=5))
    driver = ScriptedDriver(interrupted=(young.order_id,))
    assert run(store, driver).recoveries == [] and driver.resumed == []
