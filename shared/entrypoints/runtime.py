"""What every Lambda handler shares: its logger and its adapters, built once per warm process
(so connections are reused across invocations) from the environment the stack sets."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from functools import cache

from aws_lambda_powertools import Logger

from ..adapters.dynamodb import DynamoSagaStore
from ..adapters.eventbridge import EventBridgePublisher, EventBusDriver
from ..adapters.ledger import DynamoPaymentLedger
from ..adapters.metrics import CloudWatchMetrics
from ..adapters.stepfunctions import StepFunctionsDriver, StepFunctionsStarter
from ..events import Message

logger = Logger()


@cache
def saga_store() -> DynamoSagaStore:
    return DynamoSagaStore(
        os.environ["ORDERS_TABLE"],
        os.environ.get("INVENTORY_TABLE"),
        idempotency_table=os.environ.get("IDEMPOTENCY_TABLE"),
    )


@cache
def payment_ledger() -> DynamoPaymentLedger:
    return DynamoPaymentLedger(os.environ["PAYMENTS_TABLE"])


@cache
def event_publisher() -> EventBridgePublisher:
    return EventBridgePublisher(os.environ["EVENT_BUS_NAME"])


@cache
def state_machine_starter() -> StepFunctionsStarter:
    return StepFunctionsStarter(os.environ["STATE_MACHINE_ARN"])


def run_step(step: Callable[..., Message], event: Message) -> Message:
    """Run a saga step with the adapters it asks for: every step gets the store, the payment
    steps the ledger too."""
    if _wants_ledger(step):
        return step(event, saga_store(), payment_ledger())
    return step(event, saga_store())


@cache
def _wants_ledger(step: Callable[..., Message]) -> bool:
    # Read once per step and warm process, not on every invocation.
    return "ledger" in inspect.signature(step).parameters


@cache
def metrics() -> CloudWatchMetrics:
    return CloudWatchMetrics(os.environ["SAGA_STYLE"])


@cache
def state_machine_driver() -> StepFunctionsDriver:
    return StepFunctionsDriver(state_machine_starter())


@cache
def event_bus_driver() -> EventBusDriver:
    return EventBusDriver(event_publisher())


CACHED = (
    saga_store,
    payment_ledger,
    event_publisher,
    state_machine_starter,
    metrics,
    state_machine_driver,
    event_bus_driver,
)
