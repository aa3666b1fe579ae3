"""What every Lambda handler shares: its logger and its adapters, built once per warm process
(so connections are reused across invocations) from the environment the stack sets."""

from __future__ import annotations

import os
from functools import cache

from aws_lambda_powertools import Logger

from ..adapters.dynamodb import DynamoSagaStore
from ..adapters.eventbridge import EventBridgePublisher
from ..adapters.stepfunctions import StepFunctionsStarter

logger = Logger()


@cache
def saga_store() -> DynamoSagaStore:
    return DynamoSagaStore(os.environ["ORDERS_TABLE"], os.environ.get("INVENTORY_TABLE"))


@cache
def event_publisher() -> EventBridgePublisher:
    return EventBridgePublisher(os.environ["EVENT_BUS_NAME"])


@cache
def state_machine_starter() -> StepFunctionsStarter:
    return StepFunctionsStarter(os.environ["STATE_MACHINE_ARN"])
