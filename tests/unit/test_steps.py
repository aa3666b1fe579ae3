"""The saga's rules, on in-memory adapters: every path, every failure, every duplicate, and a
restart from the first step on an order in any state."""

from dataclasses import replace
from decimal import Decimal

import pytest

from shared import steps
from shared.domain.errors import (
    AlreadyShipped,
    IdempotencyConflict,
    OrderNeedsAttention,
    OrderNotFound,
    StepNotReady,
)
from shared.domain.order import Order, Status
from shared.domain.payment import Entry, ledger_violations
from shared.events import (
    ROUTES,
    InventoryFailed,
    InventoryReleased,
    InventoryReserved,
    OrderCreated,
    OrderRequest,
    PaymentCharged,
    PaymentFailed,
    PaymentRefunded,
    ShippingFailed,
    ShippingScheduled,
    StepFailed,
)
from tests.fakes import InMemoryLedger, InMemorySagaStore, RecordingStarter

# Which step each event starts, as both styles wire them.
NEXT_STEP = {trigger: step for step, triggers in ROUTES.items() for trigger in triggers}


def request(**overrides) -> OrderRequest:
    fields = {"customerId": "CUST-1", "sku": "SKU-1", "quantity": 2, "amount": 25.5}
    return OrderRequest.model_validate({**fields, **overrides})


@pytest.fixture
def store():
    return InMemorySagaStore(stock={"SKU-1": 5})


@pytest.fixture
def ledger():
    return InMemoryLedger()


def run_step(name: str, event, store, ledger):
    step = getattr(steps, name)
    if name in ("charge_payment", "refund_payment"):
        return step(event, store, ledger)
    return step(event, store)


def drive(event, store, ledger, steps_to_run: int | None = None) -> list:
    """The saga as both styles run it: each outcome triggers the step routed to it, until an
    outcome nobody reacts to (or after `steps_to_run` steps: the saga stopped there)."""
    trail = []
    while type(event) in NEXT_STEP and steps_to_run != len(trail):
        event = run_step(NEXT_STEP[type(event)], event, store, ledger)
        trail.append(event)
    return trail


def place(store, **overrides) -> OrderCreated:
    order, placed = steps.create_order(request(**overrides), store)
    assert placed
    starter = RecordingStarter()
    assert steps.start_saga(order, starter)
    return starter.started[0]


def run_saga(store, ledger, **overrides):
    created = place(store, **overrides)
    trail = drive(created, store, ledger)
    return store.get(created.order_id), trail


def crash_next_write(store, monkeypatch):
    """The next store write is lost with the answer of whatever was done before it."""
    real = store.transition

    def crash(*args, **kwargs):
        monkeypatch.setattr(store, "transition", real)
        raise ConnectionError("connection reset")

    monkeypatch.setattr(store, "transition", crash)


def step_failed(order_id: str, reason: str = "States.Timeout") -> StepFailed:
    return StepFailed.model_validate({"orderId": order_id, "reason": reason})


def net_zero(ledger, order_id: str) -> bool:
    entries = ledger.entries(order_id)
    return not ledger_violations(order_id, entries, shipped=False)


# Creating and starting


def test_create_order_stores_it_created_and_starts_nothing(store):
    order, placed = steps.create_order(request(), store)
    assert placed and store.get(order.order_id) == order
    assert order.status is Status.CREATED and store.writes == 1


def test_start_saga_starts_a_created_order_with_its_order_created_event(store):
    order, _ = steps.create_order(request(), store)
    starter = RecordingStarter()
    assert steps.start_saga(order, starter) is True
    assert starter.started == [steps.outcome_event(order, OrderCreated)]


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.CREATED])
def test_start_saga_starts_nothing_for_an_order_already_under_way(status):
    order = replace(Order.place("CUST-1", "SKU-1", 1, Decimal("1")), status=status)
    starter = RecordingStarter()
    assert steps.start_saga(order, starter) is False
    assert starter.started == []


def test_a_retried_request_with_the_same_key_returns_the_existing_order(store):
    first, placed = steps.create_order(request(), store, idempotency_key="k-1")
    again, placed_again = steps.create_order(request(), store, idempotency_key="k-1")
    assert (placed, placed_again) == (True, False) and again == first
    assert len(store.orders) == 1


def test_a_retry_after_the_saga_moved_on_returns_the_order_as_it_is_now(store, ledger):
    first, _ = steps.create_order(request(), store, idempotency_key="k-1")
    drive(steps.outcome_event(first, OrderCreated), store, ledger)
    again, placed = steps.create_order(request(), store, idempotency_key="k-1")
    assert not placed and again.status is Status.SHIPPING_SCHEDULED
    assert store.stock("SKU-1") == 3 and len(ledger.entries(first.order_id)) == 1


def test_a_retry_of_a_parked_order_returns_it(store):
    first, _ = steps.create_order(request(), store, idempotency_key="k-1")
    parked = first.advance(Status.NEEDS_ATTENTION, failure_reason="stuck")
    store.transition(parked, Status.CREATED)
    again, placed = steps.create_order(request(), store, idempotency_key="k-1")
    assert (again, placed) == (parked, False)


def test_a_key_reused_for_another_order_is_a_conflict(store):
    first, _ = steps.create_order(request(), store, idempotency_key="k-1")
    with pytest.raises(IdempotencyConflict):
        steps.create_order(request(quantity=3), store, idempotency_key="k-1")
    assert list(store.orders.values()) == [first]


def test_keys_are_per_customer(store):
    a, _ = steps.create_order(request(), store, idempotency_key="k-1")
    b, _ = steps.create_order(request(customerId="CUST-2"), store, idempotency_key="k-1")
    assert a.order_id != b.order_id and len(store.orders) == 2


# The paths


def test_happy_path_ships_takes_the_stock_and_charges_once(store, ledger):
    order, trail = run_saga(store, ledger)
    assert [type(e) for e in trail] == [InventoryReserved, PaymentCharged, ShippingScheduled]
    assert order.status is Status.SHIPPING_SCHEDULED
    assert order.reservation_id.startswith("RES-") and order.payment_id.startswith("PAY-")
    assert trail[-1].tracking_number == order.tracking_number
    assert store.stock("SKU-1") == 3
    [charge] = ledger.entries(order.order_id)
    assert (charge.entry, charge.entry_id, charge.amount) == (
        Entry.CHARGE,
        order.payment_id,
        Decimal("25.5"),
    )


def test_out_of_stock_sku_fails_without_touching_stock(store, ledger):
    order, trail = run_saga(store, ledger, sku="OUT-OF-STOCK")
    assert [type(e) for e in trail] == [InventoryFailed]
    assert (order.status, order.failure_reason) == (Status.INVENTORY_FAILED, "out of stock")
    assert store.stock_by_sku == {"SKU-1": 5} and ledger.book == {}


def test_not_enough_stock_fails_and_leaves_stock_as_it_was(store, ledger):
    order, _ = run_saga(store, ledger, quantity=6)
    assert (order.status, order.failure_reason) == (Status.INVENTORY_FAILED, "out of stock")
    assert store.stock("SKU-1") == 5


def test_unknown_sku_has_no_stock(store, ledger):
    order, _ = run_saga(store, ledger, sku="SKU-NEVER-STOCKED")
    assert order.status is Status.INVENTORY_FAILED


def test_declined_card_releases_the_reservation_without_touching_the_ledger(store, ledger):
    order, trail = run_saga(store, ledger, customerId="CUST-DECLINE")
    assert [type(e) for e in trail] == [InventoryReserved, PaymentFailed, InventoryReleased]
    assert order.status is Status.INVENTORY_RELEASED
    assert order.failure_reason == "card declined" and order.reservation_id
    assert (order.payment_id, order.refund_id) == (None, None)
    assert store.stock("SKU-1") == 5 and ledger.entries(order.order_id) == []


def test_undeliverable_order_is_refunded_then_released(store, ledger):
    order, trail = run_saga(store, ledger, customerId="CUST-UNDELIVERABLE")
    assert [type(e) for e in trail] == [
        InventoryReserved,
        PaymentCharged,
        ShippingFailed,
        PaymentRefunded,
        InventoryReleased,
    ]
    assert order.status is Status.INVENTORY_RELEASED
    assert order.failure_reason == "address undeliverable" and order.tracking_number is None
    assert order.payment_id.startswith("PAY-") and order.refund_id.startswith("REF-")
    released = trail[-1]
    assert (released.payment_id, released.refund_id) == (order.payment_id, order.refund_id)
    assert released.reason == "address undeliverable"
    assert store.stock("SKU-1") == 5
    assert sorted(e.entry for e in ledger.entries(order.order_id)) == [Entry.CHARGE, Entry.REFUND]
    assert net_zero(ledger, order.order_id)


# Duplicates and races


def test_every_step_delivered_twice_has_its_effect_once(store, ledger):
    created = place(store, customerId="CUST-UNDELIVERABLE")
    event, outcomes = created, []
    while type(event) in NEXT_STEP:
        name = NEXT_STEP[type(event)]
        outcome = run_step(name, event, store, ledger)
        writes = store.writes
        assert run_step(name, event, store, ledger) == outcome, name
        assert store.writes == writes, name
        outcomes.append(outcome)
        event = outcome
    # A late duplicate of the first event changes nothing either.
    assert steps.reserve_inventory(created, store) == outcomes[0]
    assert store.get(created.order_id).status is Status.INVENTORY_RELEASED
    assert store.stock("SKU-1") == 5
    assert len(ledger.entries(created.order_id)) == 2 and net_zero(ledger, created.order_id)


def test_duplicate_payment_and_shipping_keep_the_first_ids(store, ledger):
    order, trail = run_saga(store, ledger)
    reserved, charged, _ = trail
    assert steps.charge_payment(reserved, store, ledger).payment_id == order.payment_id
    assert steps.notify_shipping(charged, store).tracking_number == order.tracking_number
    assert store.get(order.order_id) == order and len(ledger.entries(order.order_id)) == 1


def test_a_duplicate_refund_refunds_nothing_twice(store, ledger):
    order, trail = run_saga(store, ledger, customerId="CUST-UNDELIVERABLE")
    shipping_failed, refunded = trail[2], trail[3]
    book, writes = dict(ledger.book), store.writes
    assert steps.refund_payment(shipping_failed, store, ledger) == refunded
    assert steps.refund_payment(step_failed(order.order_id), store, ledger) == refunded
    assert ledger.book == book and store.writes == writes


def test_a_step_that_loses_a_race_reports_the_winner(store, monkeypatch):
    created = place(store)
    stale = store.get(created.order_id)
    winner = steps.reserve_inventory(created, store)  # the other delivery commits
    reads = iter([stale])  # ...after this one had read the order, still CREATED
    real_get = store.get
    monkeypatch.setattr(store, "get", lambda order_id: next(reads, None) or real_get(order_id))
    loser = steps.reserve_inventory(created, store)
    assert loser == winner
    assert store.stock("SKU-1") == 3


def test_two_charges_racing_take_the_money_once(store, ledger, monkeypatch):
    created = place(store)
    reserved = steps.reserve_inventory(created, store)
    stale = store.get(created.order_id)
    winner = steps.charge_payment(reserved, store, ledger)
    reads = iter([stale])
    real_get = store.get
    monkeypatch.setattr(store, "get", lambda order_id: next(reads, None) or real_get(order_id))
    assert steps.charge_payment(reserved, store, ledger) == winner
    assert len(ledger.entries(created.order_id)) == 1


def test_a_refund_that_loses_a_race_reports_the_same_refund(store, ledger, monkeypatch):
    created = place(store, customerId="CUST-UNDELIVERABLE")
    shipping_failed = drive(created, store, ledger, steps_to_run=3)[-1]
    stale = store.get(created.order_id)
    winner = steps.refund_payment(shipping_failed, store, ledger)
    reads = iter([stale])
    real_get = store.get
    monkeypatch.setattr(store, "get", lambda order_id: next(reads, None) or real_get(order_id))
    assert steps.refund_payment(shipping_failed, store, ledger) == winner
    assert sorted(e.entry for e in ledger.entries(created.order_id)) == [Entry.CHARGE, Entry.REFUND]


# Lost answers and compensation from what was recorded


def test_a_charge_whose_answer_was_lost_is_recorded_when_the_step_runs_again(store, ledger, monkeypatch):
    created = place(store)
    reserved = steps.reserve_inventory(created, store)
    crash_next_write(store, monkeypatch)
    with pytest.raises(ConnectionError):
        steps.charge_payment(reserved, store, ledger)
    [charge] = ledger.entries(created.order_id)
    assert store.get(created.order_id).status is Status.INVENTORY_RESERVED
    charged = steps.charge_payment(reserved, store, ledger)
    assert charged.payment_id == charge.entry_id
    assert len(ledger.entries(created.order_id)) == 1


def test_a_charge_whose_answer_was_lost_is_refunded_by_the_compensation(store, ledger, monkeypatch):
    created = place(store)
    reserved = steps.reserve_inventory(created, store)
    crash_next_write(store, monkeypatch)
    with pytest.raises(ConnectionError):
        steps.charge_payment(reserved, store, ledger)
    [charge] = ledger.entries(created.order_id)
    # Retries exhausted: the orchestrator's Catch compensates from the reservation.
    refunded = steps.refund_payment(step_failed(created.order_id), store, ledger)
    assert isinstance(refunded, PaymentRefunded) and refunded.payment_id == charge.entry_id
    assert refunded.reason == "payment did not complete: States.Timeout"
    released = steps.release_inventory(refunded, store)
    order = store.get(created.order_id)
    assert order.status is Status.INVENTORY_RELEASED
    assert (order.payment_id, order.refund_id) == (charge.entry_id, refunded.refund_id)
    assert (released.payment_id, released.refund_id) == (order.payment_id, order.refund_id)
    assert store.stock("SKU-1") == 5 and net_zero(ledger, created.order_id)


def test_compensation_of_a_payment_never_taken_voids_it_and_records_the_failure(store, ledger):
    created = place(store)
    reserved = steps.reserve_inventory(created, store)
    failed = steps.refund_payment(step_failed(created.order_id), store, ledger)
    assert isinstance(failed, PaymentFailed)
    assert failed.reason == "payment did not complete: States.Timeout"
    assert [e.entry for e in ledger.entries(created.order_id)] == [Entry.VOID]
    released = steps.release_inventory(failed, store)
    assert released.reason == failed.reason and released.payment_id is None
    assert store.get(created.order_id).status is Status.INVENTORY_RELEASED
    assert store.stock("SKU-1") == 5
    # The charge delivery that was still in flight arrives: it is refused and changes nothing.
    settled, book = store.get(created.order_id), dict(ledger.book)
    assert steps.charge_payment(reserved, store, ledger) == steps.outcome_event(settled, PaymentFailed)
    assert store.get(created.order_id) == settled and ledger.book == book


def test_a_charge_that_read_the_order_before_the_void_is_refused(store, ledger, monkeypatch):
    created = place(store)
    reserved = steps.reserve_inventory(created, store)
    stale = store.get(created.order_id)  # the charge reads INVENTORY_RESERVED...
    failed = steps.refund_payment(step_failed(created.order_id), store, ledger)  # ...void lands
    reads = iter([stale])
    real_get = store.get
    monkeypatch.setattr(store, "get", lambda order_id: next(reads, None) or real_get(order_id))
    assert steps.charge_payment(reserved, store, ledger) == failed
    assert [e.entry for e in ledger.entries(created.order_id)] == [Entry.VOID]
    assert store.get(created.order_id).status is Status.PAYMENT_FAILED


def test_a_charged_order_whose_shipping_never_answered_is_refunded(store, ledger):
    created = place(store)
    charged = drive(created, store, ledger, steps_to_run=2)[-1]
    refunded = steps.refund_payment(step_failed(created.order_id), store, ledger)
    assert isinstance(refunded, PaymentRefunded) and refunded.payment_id == charged.payment_id
    assert refunded.reason == "shipping did not complete: States.Timeout"
    steps.release_inventory(refunded, store)
    assert store.get(created.order_id).status is Status.INVENTORY_RELEASED
    assert store.stock("SKU-1") == 5 and net_zero(ledger, created.order_id)


def test_a_shipped_order_is_never_refunded(store, ledger):
    order, trail = run_saga(store, ledger)
    book = dict(ledger.book)
    with pytest.raises(AlreadyShipped):
        steps.refund_payment(step_failed(order.order_id), store, ledger)
    with pytest.raises(AlreadyShipped):
        steps.refund_payment(ShippingFailed.model_validate({**trail[1].to_json_dict(), "reason": "r"}), store, ledger)
    assert store.get(order.order_id) == order and ledger.book == book


def test_steps_refuse_events_that_arrive_before_their_turn(store, ledger):
    created = place(store).to_json_dict()
    reserved = {**created, "reservationId": "RES-x"}
    charged = {**reserved, "paymentId": "P"}
    with pytest.raises(StepNotReady):
        steps.charge_payment(InventoryReserved.model_validate(reserved), store, ledger)
    with pytest.raises(StepNotReady):
        steps.notify_shipping(PaymentCharged.model_validate(charged), store)
    shipping_failed = ShippingFailed.model_validate({**charged, "reason": "r"})
    with pytest.raises(StepNotReady):
        steps.refund_payment(shipping_failed, store, ledger)
    with pytest.raises(StepNotReady):
        steps.release_inventory(PaymentFailed.model_validate({**reserved, "reason": "r"}), store)
    assert store.stock("SKU-1") == 5 and ledger.book == {}


def test_release_waits_for_the_payment_to_be_settled(store, ledger):
    created = place(store)
    steps.reserve_inventory(created, store)
    with pytest.raises(StepNotReady):
        steps.release_inventory(step_failed(created.order_id), store)
    assert store.stock("SKU-1") == 3


def test_a_step_for_an_unknown_order_fails_loudly(store):
    ghost = OrderCreated.model_validate(
        {"orderId": "nope", "customerId": "C", "sku": "SKU-1", "quantity": 1, "amount": 1}
    )
    with pytest.raises(OrderNotFound):
        steps.reserve_inventory(ghost, store)


# Restarting and parking


@pytest.mark.parametrize(
    ("customer", "stopped_in"),
    [
        ("CUST-1", Status.CREATED),
        ("CUST-1", Status.INVENTORY_RESERVED),
        ("CUST-1", Status.PAYMENT_CHARGED),
        ("CUST-DECLINE", Status.PAYMENT_FAILED),
        ("CUST-UNDELIVERABLE", Status.SHIPPING_FAILED),
        ("CUST-UNDELIVERABLE", Status.PAYMENT_REFUNDED),
    ],
)
def test_a_saga_restarted_from_the_first_step_ends_as_if_never_interrupted(customer, stopped_in):
    uninterrupted = InMemorySagaStore(stock={"SKU-1": 5}), InMemoryLedger()
    expected, expected_trail = run_saga(*uninterrupted, customerId=customer)

    store, ledger = InMemorySagaStore(stock={"SKU-1": 5}), InMemoryLedger()
    created = place(store, customerId=customer)
    event = created
    while store.get(created.order_id).status is not stopped_in:
        event = drive(event, store, ledger, steps_to_run=1)[-1]
    restarted = drive(steps.outcome_event(store.get(created.order_id), OrderCreated), store, ledger)

    order = store.get(created.order_id)
    assert order.status is expected.status and order.failure_reason == expected.failure_reason
    assert type(restarted[-1]) is type(expected_trail[-1])
    assert store.stock("SKU-1") == uninterrupted[0].stock("SKU-1")
    shipped = order.status is Status.SHIPPING_SCHEDULED
    assert ledger_violations(order.order_id, ledger.entries(order.order_id), shipped) == []


@pytest.mark.parametrize("charged_before_the_crash", [False, True])
def test_a_saga_compensated_from_the_reservation_restarts_to_the_same_end(store, ledger, charged_before_the_crash):
    created = place(store)
    steps.reserve_inventory(created, store)
    if charged_before_the_crash:
        ledger.charge(created.order_id, Decimal("25.5"))
    steps.refund_payment(step_failed(created.order_id), store, ledger)
    stopped = store.get(created.order_id)
    assert stopped.status is (Status.PAYMENT_REFUNDED if charged_before_the_crash else Status.PAYMENT_FAILED)
    trail = drive(steps.outcome_event(stopped, OrderCreated), store, ledger)
    assert type(trail[-1]) is InventoryReleased
    assert store.get(created.order_id).status is Status.INVENTORY_RELEASED
    assert store.stock("SKU-1") == 5 and net_zero(ledger, created.order_id)


@pytest.mark.parametrize("customer", ["CUST-1", "CUST-DECLINE", "CUST-UNDELIVERABLE", "OOS"])
def test_restarting_a_finished_saga_changes_nothing(store, ledger, customer):
    sku = "OUT-OF-STOCK" if customer == "OOS" else "SKU-1"
    order, trail = run_saga(store, ledger, customerId=customer, sku=sku)
    book, writes, stock = dict(ledger.book), store.writes, dict(store.stock_by_sku)
    replayed = drive(steps.outcome_event(order, OrderCreated), store, ledger)
    assert replayed[-1] == trail[-1]
    assert (ledger.book, store.writes, store.stock_by_sku) == (book, writes, stock)


def events_for(order) -> dict:
    """An event for each step, as if the saga had got there."""
    created = steps.outcome_event(order, OrderCreated).to_json_dict()
    charged = {**created, "reservationId": "RES-x", "paymentId": "PAY-x"}
    return {
        "reserve_inventory": OrderCreated.model_validate(created),
        "charge_payment": InventoryReserved.model_validate({**created, "reservationId": "RES-x"}),
        "notify_shipping": PaymentCharged.model_validate(charged),
        "refund_payment": ShippingFailed.model_validate({**charged, "reason": "r"}),
        "release_inventory": PaymentRefunded.model_validate({**charged, "refundId": "REF-x", "reason": "r"}),
    }


@pytest.mark.parametrize("step", sorted(ROUTES))
def test_no_step_touches_an_order_parked_for_a_person(store, ledger, step):
    created = place(store)
    drive(created, store, ledger, steps_to_run=2)
    charged = store.get(created.order_id)
    parked = charged.advance(Status.NEEDS_ATTENTION, failure_reason="stuck in PAYMENT_CHARGED")
    store.transition(parked, charged.status)
    book, writes = dict(ledger.book), store.writes
    with pytest.raises(OrderNeedsAttention, match="stuck in PAYMENT_CHARGED"):
        run_step(step, events_for(parked)[step], store, ledger)
    assert store.get(created.order_id) == parked
    assert (ledger.book, store.writes, store.stock("SKU-1")) == (book, writes, 3)


def test_each_step_names_the_events_it_answers_with():
    # choreography.infra.stack lets each step's function publish these and no others.
    assert {name: [e.__name__ for e in steps.outcomes(getattr(steps, name))] for name in ROUTES} == {
        "reserve_inventory": ["InventoryReserved", "InventoryFailed"],
        "charge_payment": ["PaymentCharged", "PaymentFailed"],
        "notify_shipping": ["ShippingScheduled", "ShippingFailed"],
        "refund_payment": ["PaymentRefunded", "PaymentFailed"],
        "release_inventory": ["InventoryReleased"],
    }
    with pytest.raises(TypeError):
        steps.outcomes(steps.start_saga)  # answers a bool, not an event


class CountingStore(InMemorySagaStore):
    """Counts the reads of orders, as the DynamoDB adapter would make them (GetItem)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.reads = 0

    def get(self, order_id: str) -> Order | None:
        self.reads += 1
        return super().get(order_id)


def test_only_the_charge_reads_the_order_on_the_happy_path(ledger):
    store = CountingStore(stock={"SKU-1": 5})
    created = place(store)
    reserved = steps.reserve_inventory(created, store)
    assert store.reads == 0
    charged = steps.charge_payment(reserved, store, ledger)
    assert store.reads == 1  # the ledger moves money before the order's write: read first
    steps.notify_shipping(charged, store)
    assert store.reads == 1
    assert store.get(created.order_id).status is Status.SHIPPING_SCHEDULED


def test_a_duplicate_finds_the_recorded_outcome_without_reading(ledger):
    store = CountingStore(stock={"SKU-1": 5})
    created = place(store)
    trail = drive(created, store, ledger)
    store.reads = 0
    assert steps.reserve_inventory(created, store) == trail[0]
    assert steps.notify_shipping(trail[1], store) == trail[2]
    assert store.reads == 0 and store.stock("SKU-1") == 3


def test_a_step_acting_on_its_event_keeps_what_the_store_recorded_besides(store, ledger):
    created = place(store)
    placed = store.get(created.order_id)
    store.note(placed.noted("resumed from CREATED"), seen=placed)
    drive(created, store, ledger)
    shipped = store.get(created.order_id)
    assert shipped.status is Status.SHIPPING_SCHEDULED
    assert (shipped.created_at, shipped.recovery_attempts, shipped.last_recovery) == (
        placed.created_at,
        1,
        "resumed from CREATED",
    )
    assert shipped.updated_at >= placed.updated_at


@pytest.mark.parametrize("field,value", [("quantity", 4), ("sku", "SKU-2"), ("customerId", "CUST-UNDELIVERABLE")])
def test_an_event_that_does_not_match_its_order_is_acted_on_as_the_order_is_stored(store, ledger, field, value):
    store.set_stock("SKU-2", 5)
    created = place(store)
    forged = OrderCreated.model_validate({**created.to_json_dict(), field: value})
    reserved = steps.reserve_inventory(forged, store)
    assert (reserved.quantity, reserved.sku, reserved.customer_id) == (2, "SKU-1", "CUST-1")
    assert (store.stock("SKU-1"), store.stock("SKU-2")) == (3, 5)
    charged = steps.charge_payment(reserved, store, ledger)
    shipped = steps.notify_shipping(PaymentCharged.model_validate({**charged.to_json_dict(), field: value}), store)
    assert isinstance(shipped, ShippingScheduled) and shipped.customer_id == "CUST-1"
    assert store.get(created.order_id).status is Status.SHIPPING_SCHEDULED


def test_an_event_reporting_other_ids_than_recorded_is_answered_from_the_store(store, ledger):
    created = place(store)
    charged = drive(created, store, ledger, steps_to_run=2)[-1]
    other = PaymentCharged.model_validate({**charged.to_json_dict(), "paymentId": "PAY-OTHER"})
    shipped = steps.notify_shipping(other, store)
    assert shipped.payment_id == charged.payment_id
    assert store.get(created.order_id).payment_id == charged.payment_id
