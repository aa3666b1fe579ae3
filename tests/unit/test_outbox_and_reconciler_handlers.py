"""The outbox relay (start_saga, fed by the orders table's stream) and the reconciler, in both
styles, with their real adapters on moto."""

import json
import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from choreography.handlers import reconcile as c_reconcile
from choreography.handlers import reserve_inventory as c_reserve
from choreography.handlers import start_saga as c_start
from orchestration.handlers import reconcile as o_reconcile
from orchestration.handlers import start_saga as o_start
from shared.adapters.eventbridge import EventBusDriver
from shared.adapters.metrics import NAMESPACE, OLDEST_OPEN_ORDER_AGE, ORDERS_NEEDING_ATTENTION
from shared.adapters.stepfunctions import order_id_of
from shared.contract import SAGA_STARTED
from shared.domain.order import Order, Status
from shared.entrypoints.reconcile import RecoveryFailed
from shared.entrypoints.runtime import logger, saga_store
from tests.unit.lambda_events import LambdaContext, bus_event, stream_event


def stored(status: Status = Status.CREATED, minutes_ago: float = 0, **fields) -> Order:
    """An order put in the table as a crash would leave it, last updated `minutes_ago`."""
    at = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(timespec="milliseconds")
    order = Order(
        str(uuid.uuid4()), "CUST-1", "SKU-1", 2, Decimal("19.99"), status=status, created_at=at, updated_at=at, **fields
    )
    saga_store().add(order)
    return order


def invoke(module, event: dict) -> dict:
    return module.handler(event, LambdaContext(aws_request_id=str(uuid.uuid4())))


def executions(arn: str) -> list[tuple[str, dict]]:
    sfn = boto3.client("stepfunctions")
    found = sfn.list_executions(stateMachineArn=arn)["executions"]
    return [(e["name"], json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])) for e in found]


# --- the outbox relay ---


def test_orchestration_relay_starts_an_execution_named_after_each_new_order(tables, state_machine):
    order = stored()
    answer = invoke(o_start, stream_event(order.as_record()))
    assert answer == {"batchItemFailures": []}
    [(name, started)] = executions(state_machine)
    assert name == order.order_id
    assert started == {
        "orderId": order.order_id,
        "customerId": "CUST-1",
        "sku": "SKU-1",
        "quantity": 2,
        "amount": 19.99,
    }


def test_choreography_relay_publishes_order_created(tables, bus):
    order = stored()
    invoke(c_start, stream_event(order.as_record()))
    [event] = bus.events()
    assert (event["source"], event["detail-type"]) == ("saga.orders", "OrderCreated")
    assert event["detail"]["orderId"] == order.order_id


def test_relay_delivered_twice_starts_one_saga(tables, state_machine):
    record = stored().as_record()
    invoke(o_start, stream_event(record))
    invoke(o_start, stream_event(record))
    assert len(executions(state_machine)) == 1


def test_relay_ignores_updates_and_orders_already_under_way(tables, state_machine):
    moved = stored(Status.INVENTORY_RESERVED, reservation_id="RES-1")
    invoke(o_start, stream_event(moved.as_record()))
    invoke(o_start, stream_event(stored().as_record(), event_name="MODIFY"))
    assert executions(state_machine) == []


def test_relay_reports_the_record_it_could_not_start_and_starts_the_rest(tables, state_machine):
    good = stored()
    broken = {**stored().as_record(), "status": "NO-SUCH-STATUS"}
    answer = invoke(o_start, stream_event(broken, good.as_record()))
    assert answer == {"batchItemFailures": [{"itemIdentifier": "100"}]}
    assert [name for name, _ in executions(state_machine)] == [good.order_id]


class _Lines(logging.Handler):
    """The relay's log lines, formatted as it writes them (in the thread that logs)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logger.registered_formatter)
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


def test_relay_starts_every_order_of_a_batch_and_logs_each_with_its_own_id(tables, state_machine):
    orders = [stored() for _ in range(8)]
    lines = _Lines()
    logger.addHandler(lines)
    try:
        answer = invoke(o_start, stream_event(*(o.as_record() for o in orders)))
    finally:
        logger.removeHandler(lines)
    assert answer == {"batchItemFailures": []}
    assert sorted(name for name, _ in executions(state_machine)) == sorted(o.order_id for o in orders)
    # The records are started from several threads: each line names the order it started.
    started = sorted(line.get("orderId") for line in lines.lines if line["message"] == SAGA_STARTED)
    assert started == sorted(o.order_id for o in orders)


def test_relay_fails_the_whole_batch_when_the_saga_cannot_start(tables, monkeypatch):
    monkeypatch.setenv("STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:gone")
    with pytest.raises(BatchProcessingError):
        invoke(o_start, stream_event(stored().as_record()))


# --- the reconciler ---


@pytest.fixture
def reconciler_env(monkeypatch):
    monkeypatch.setenv("STUCK_AFTER_SECONDS", "120")
    monkeypatch.setenv("MAX_RECOVERY_ATTEMPTS", "2")


def test_orchestration_reconciler_starts_a_new_execution_for_a_stuck_order(
    tables, state_machine, reconciler_env, monkeypatch
):
    monkeypatch.setenv("SAGA_STYLE", "orchestration")
    stuck = stored(Status.INVENTORY_RESERVED, minutes_ago=30, reservation_id="RES-1")
    fresh = stored(Status.CREATED)
    answer = invoke(o_reconcile, {})
    assert answer["recovered"] == 1 and answer["oldestOpenSeconds"] >= 30 * 60
    [(name, started)] = executions(state_machine)
    assert name == f"{stuck.order_id}-r1" and started["orderId"] == stuck.order_id
    noted = saga_store().get(stuck.order_id)
    assert noted.recovery_attempts == 1 and noted.updated_at > stuck.updated_at
    assert saga_store().get(fresh.order_id) == fresh


def test_orchestration_reconciler_leaves_an_order_whose_execution_runs(
    tables, state_machine, reconciler_env, monkeypatch
):
    monkeypatch.setenv("SAGA_STYLE", "orchestration")
    stuck = stored(minutes_ago=30)
    invoke(o_start, stream_event(stuck.as_record()))  # moto leaves executions RUNNING
    assert invoke(o_reconcile, {})["recovered"] == 1
    assert len(executions(state_machine)) == 1
    assert saga_store().get(stuck.order_id) == stuck


def test_choreography_reconciler_republishes_the_event_the_order_waits_on(tables, bus, reconciler_env, monkeypatch):
    monkeypatch.setenv("SAGA_STYLE", "choreography")
    stuck = stored(Status.PAYMENT_CHARGED, minutes_ago=30, reservation_id="RES-1", payment_id="PAY-1")
    invoke(c_reconcile, {})
    [event] = bus.events()
    assert (event["detail-type"], event["detail"]["paymentId"]) == ("PaymentCharged", "PAY-1")
    assert saga_store().get(stuck.order_id).last_recovery == "resumed from PAYMENT_CHARGED"


def test_reconciler_parks_an_order_it_could_not_finish_and_reports_the_age(tables, bus, reconciler_env, monkeypatch):
    monkeypatch.setenv("SAGA_STYLE", "choreography")
    stuck = stored(minutes_ago=30, recovery_attempts=2)
    invoke(c_reconcile, {})
    parked = saga_store().get(stuck.order_id)
    assert parked.status is Status.NEEDS_ATTENTION and "stuck in CREATED" in parked.failure_reason
    assert saga_store().orders_needing_attention() == [parked] and bus.events() == []
    metrics = boto3.client("cloudwatch").list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert sorted(m["MetricName"] for m in metrics) == [OLDEST_OPEN_ORDER_AGE, ORDERS_NEEDING_ATTENTION]
    assert {d["Value"] for m in metrics for d in m["Dimensions"]} == {"choreography"}


def test_reconciler_touches_no_order_that_moved_recently(tables, bus, reconciler_env, monkeypatch):
    monkeypatch.setenv("SAGA_STYLE", "choreography")
    recent = stored(Status.INVENTORY_RESERVED, minutes_ago=1, reservation_id="RES-1")
    assert invoke(c_reconcile, {})["recovered"] == 0
    assert bus.events() == [] and saga_store().get(recent.order_id) == recent


def test_a_parked_order_is_left_alone_by_late_deliveries(tables, bus):
    parked = replace(stored(), status=Status.NEEDS_ATTENTION)
    saga_store().transition(parked, Status.CREATED)
    detail = {"orderId": parked.order_id, "customerId": "CUST-1", "sku": "SKU-1", "quantity": 2, "amount": 19.99}
    assert invoke(c_reserve, bus_event("OrderCreated", "saga.orders", detail)) is None
    assert bus.events() == [] and saga_store().stock("SKU-1") == 5


def test_a_recovery_that_fails_fails_the_round_after_every_order_had_its_turn(tables, bus, reconciler_env, monkeypatch):
    monkeypatch.setenv("SAGA_STYLE", "choreography")
    first = stored(minutes_ago=30)
    second = stored(minutes_ago=20)
    publish = EventBusDriver.resume
    failing = first.order_id

    def resume_or_fail(self, order):
        if order.order_id == failing:
            raise RuntimeError("bus unreachable")
        return publish(self, order)

    monkeypatch.setattr(EventBusDriver, "resume", resume_or_fail)
    with pytest.raises(RecoveryFailed, match="1 of 2 recoveries failed"):
        invoke(c_reconcile, {})
    [event] = bus.events()
    assert event["detail"]["orderId"] == second.order_id
    assert saga_store().get(failing).recovery_attempts == 1  # claimed: counts towards parking it
    metrics = boto3.client("cloudwatch").list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert {m["MetricName"] for m in metrics} == {OLDEST_OPEN_ORDER_AGE, ORDERS_NEEDING_ATTENTION}


def test_orchestration_reconciler_runs_again_a_finished_order_whose_execution_was_stopped(
    tables, state_machine, reconciler_env, monkeypatch
):
    monkeypatch.setenv("SAGA_STYLE", "orchestration")
    done = stored(Status.INVENTORY_FAILED, failure_reason="out of stock")
    invoke(o_start, stream_event(replace(done, status=Status.CREATED).as_record()))
    [(name, _)] = executions(state_machine)
    arn = state_machine.replace(":stateMachine:", ":execution:") + f":{name}"
    boto3.client("stepfunctions").stop_execution(executionArn=arn, cause="stopped mid-way")
    invoke(o_reconcile, {})
    assert sorted(n for n, _ in executions(state_machine)) == [done.order_id, f"{done.order_id}-r1"]
    assert saga_store().get(done.order_id).status is Status.INVENTORY_FAILED


@pytest.mark.parametrize(
    ("name", "order_id"),
    [("1b2c-3d", "1b2c-3d"), ("1b2c-3d-r1", "1b2c-3d"), ("1b2c-3d-r12", "1b2c-3d"), ("a-rx", "a-rx")],
)
def test_an_execution_name_gives_back_its_order(name, order_id):
    assert order_id_of(name) == order_id
