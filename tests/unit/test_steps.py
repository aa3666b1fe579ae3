"""The saga's rules, on in-memory adapters: every path, every failure, every duplicate."""

from decimal import Decimal

import pytest

from shared import steps
from shared.domain.errors import IdempotencyConflict, OrderNotFound, StepNotReady
from shared.domain.order import Status
from shared.events import (
    InventoryFailed,
    InventoryReleased,
    InventoryReserved,
    OrderCreated,
    OrderRequest,
    PaymentCharged,
    PaymentFailed,
    ShippingScheduled,
)
from tests.fakes import InMemorySagaStore, RecordingStarter


def request(**overrides) -> OrderRequest:
    fields = {"customerId": "CUST-1", "sku": "SKU-1", "quantity": 2, "amount": 25.5}
    return OrderRequest.model_validate({**fields, **overrides})


@pytest.fixture
def store():
    return InMemorySagaStore(stock={"SKU-1": 5})


def run_saga(store, **overrides):
    """The saga as both styles run it: each step's outcome triggers the next."""
    starter = RecordingStarter()
    order, _ = steps.create_order(request(**overrides), store, starter)
    outcome = steps.reserve_inventory(starter.started[0], store)
    trail = [outcome]
    if isinstance(outcome, InventoryReserved):
        outcome = steps.charge_payment(outcome, store)
        trail.append(outcome)
        step = steps.notify_shipping if isinstance(outcome, PaymentCharged) else steps.release_inventory
        trail.append(step(outcome, store))
    return store.get(order.order_id), trail


def test_create_order_stores_it_created_and_starts_the_saga(store):
    starter = RecordingStarter()
    order, _ = steps.create_order(request(), store, starter)
    assert store.get(order.order_id).status is Status.CREATED
    assert starter.started == [steps.outcome_event(order, OrderCreated)]


def test_create_order_takes_the_order_back_when_the_saga_cannot_start(store):
    with pytest.raises(ConnectionError):
        steps.create_order(request(), store, RecordingStarter(fail=True))
    assert store.orders == {}


def test_happy_path_ships_and_takes_the_stock(store):
    order, trail = run_saga(store)
    assert [type(e) for e in trail] == [InventoryReserved, PaymentCharged, ShippingScheduled]
    assert order.status is Status.SHIPPING_SCHEDULED
    assert order.reservation_id.startswith("RES-") and order.payment_id.startswith("PAY-")
    assert trail[-1].tracking_number == order.tracking_number
    assert store.stock("SKU-1") == 3


def test_out_of_stock_sku_fails_without_touching_stock(store):
    order, trail = run_saga(store, sku="OUT-OF-STOCK")
    assert [type(e) for e in trail] == [InventoryFailed]
    assert (order.status, order.failure_reason) == (Status.INVENTORY_FAILED, "out of stock")
    assert store.stock_by_sku == {"SKU-1": 5}


def test_not_enough_stock_fails_and_leaves_stock_as_it_was(store):
    order, _ = run_saga(store, quantity=6)
    assert (order.status, order.failure_reason) == (Status.INVENTORY_FAILED, "out of stock")
    assert store.stock("SKU-1") == 5


def test_unknown_sku_has_no_stock(store):
    order, _ = run_saga(store, sku="SKU-NEVER-STOCKED")
    assert order.status is Status.INVENTORY_FAILED


def test_declined_card_releases_the_reservation(store):
    order, trail = run_saga(store, customerId="CUST-DECLINE")
    assert [type(e) for e in trail] == [InventoryReserved, PaymentFailed, InventoryReleased]
    assert order.status is Status.INVENTORY_RELEASED
    assert order.failure_reason == "card declined" and order.reservation_id
    assert order.payment_id is None
    assert store.stock("SKU-1") == 5


def test_every_step_delivered_twice_has_its_effect_once(store):
    starter = RecordingStarter()
    order, _ = steps.create_order(request(customerId="CUST-DECLINE"), store, starter)
    created = starter.started[0]
    reserved = steps.reserve_inventory(created, store)
    assert steps.reserve_inventory(created, store) == reserved
    assert store.stock("SKU-1") == 3
    failed = steps.charge_payment(reserved, store)
    assert steps.charge_payment(reserved, store) == failed
    released = steps.release_inventory(failed, store)
    assert steps.release_inventory(failed, store) == released
    assert store.stock("SKU-1") == 5
    # A late duplicate of the first event changes nothing either.
    assert steps.reserve_inventory(created, store).reservation_id == reserved.reservation_id
    assert store.stock("SKU-1") == 5 and store.get(order.order_id).status is Status.INVENTORY_RELEASED


def test_duplicate_payment_and_shipping_keep_the_first_ids(store):
    order, trail = run_saga(store)
    reserved, charged, shipped = trail
    assert steps.charge_payment(reserved, store).payment_id == order.payment_id
    assert steps.notify_shipping(charged, store).tracking_number == order.tracking_number
    assert store.get(order.order_id) == order


def test_a_step_that_loses_a_race_reports_the_winner(store, monkeypatch):
    starter = RecordingStarter()
    order, _ = steps.create_order(request(), store, starter)
    winner = steps.reserve_inventory(starter.started[0], store)  # the other delivery commits
    reads = iter([order])  # ...after this one had read the order, still CREATED
    real_get = store.get
    monkeypatch.setattr(store, "get", lambda order_id: next(reads, None) or real_get(order_id))
    loser = steps.reserve_inventory(starter.started[0], store)
    assert loser == winner
    assert store.stock("SKU-1") == 3


def test_compensation_also_runs_when_payment_crashed_undecided(store):
    starter = RecordingStarter()
    steps.create_order(request(), store, starter)
    reserved = steps.reserve_inventory(starter.started[0], store)
    crash = PaymentFailed.model_validate({**reserved.to_json_dict(), "reason": "payment crashed"})
    released = steps.release_inventory(crash, store)
    assert released.reason == "payment crashed" and store.stock("SKU-1") == 5


def test_steps_refuse_events_that_arrive_before_their_turn(store):
    starter = RecordingStarter()
    steps.create_order(request(), store, starter)
    created = starter.started[0].to_json_dict()
    reserved = {**created, "reservationId": "RES-x"}
    with pytest.raises(StepNotReady):
        steps.charge_payment(InventoryReserved.model_validate(reserved), store)
    with pytest.raises(StepNotReady):
        steps.notify_shipping(PaymentCharged.model_validate({**reserved, "paymentId": "P"}), store)
    with pytest.raises(StepNotReady):
        steps.release_inventory(PaymentFailed.model_validate({**reserved, "reason": "r"}), store)
    assert store.stock("SKU-1") == 5


def test_a_step_for_an_unknown_order_fails_loudly(store):
    ghost = OrderCreated.model_validate(
        {"orderId": "nope", "customerId": "C", "sku": "SKU-1", "quantity": 1, "amount": Decimal("1")}
    )
    with pytest.raises(OrderNotFound):
        steps.reserve_inventory(ghost, store)


def test_a_retried_request_with_the_same_key_names_the_same_order(store):
    starter = RecordingStarter()
    first, placed = steps.create_order(request(), store, starter, idempotency_key="k-1")
    again, placed_again = steps.create_order(request(), store, starter, idempotency_key="k-1")
    assert (placed, placed_again) == (True, False) and again == first
    assert len(store.orders) == 1
    # Still CREATED: the saga is started again, which both styles treat as one start.
    assert starter.started == [steps.outcome_event(first, OrderCreated)] * 2


def test_a_retry_after_the_saga_moved_on_starts_nothing(store):
    starter = RecordingStarter()
    first, _ = steps.create_order(request(), store, starter, idempotency_key="k-1")
    steps.reserve_inventory(starter.started[0], store)
    steps.create_order(request(), store, starter, idempotency_key="k-1")
    assert len(starter.started) == 1 and store.stock("SKU-1") == 3


def test_a_key_reused_for_another_order_is_a_conflict(store):
    steps.create_order(request(), store, RecordingStarter(), idempotency_key="k-1")
    with pytest.raises(IdempotencyConflict):
        steps.create_order(request(quantity=3), store, RecordingStarter(), idempotency_key="k-1")
    assert len(store.orders) == 1


def test_keys_are_per_customer(store):
    a, _ = steps.create_order(request(), store, RecordingStarter(), idempotency_key="k-1")
    b, _ = steps.create_order(request(customerId="CUST-2"), store, RecordingStarter(), idempotency_key="k-1")
    assert a.order_id != b.order_id
