"""Where the deployed saga lives and how the tools read it: the LocalStack endpoint and its health,
clients for it, each style's stack outputs, the runtime's own adapters on its tables, the one
order reader (the API) and the one log reader (CloudWatch Logs). Names come from shared.contract.
Works the same against the embedded LocalStack and the Docker one."""

from __future__ import annotations

import os
from functools import cache
from typing import TypedDict

import boto3
import requests
from botocore.exceptions import ClientError, EndpointConnectionError

from hybrid.dynamodb import DynamoNotificationStore
from shared import contract
from shared.adapters.dynamodb import DynamoSagaStore
from shared.adapters.eventbridge import EventBridgePublisher
from shared.adapters.ledger import DynamoPaymentLedger
from shared.adapters.stepfunctions import StepFunctionsStarter
from shared.contract import STACKS
from shared.contract import STYLES as STYLES  # every tool's styles: `aws.STYLES`
from tools.dev.localstack.server import healthy

ENDPOINT = os.environ.get("LOCALSTACK_ENDPOINT", "http://127.0.0.1:4566")
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
NOT_RUNNING = f"error: LocalStack is not running at {ENDPOINT}: run `make up`"


class NotDeployed(SystemExit):
    """A missing stack or LocalStack: one line for the user, no traceback."""


class UnknownOrder(SystemExit):
    """An order id the deployed style does not know: one line, non-zero exit."""


class LogEvent(TypedDict):
    """One CloudWatch Logs event, as the tools keep it (and the trace fixtures hold it)."""

    timestamp: int  # epoch ms: when the log batch was shipped, not when the line was written
    message: str


def require_localstack() -> None:
    if not healthy(ENDPOINT, timeout=3):
        raise NotDeployed(NOT_RUNNING)


def credentials_env() -> dict[str, str]:
    """Environment for the AWS CLIs and SDKs: LocalStack's fixed test credentials and endpoint."""
    return {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": ENDPOINT,
        "AWS_ENDPOINT_URL_S3": ENDPOINT,
    }


@cache
def client(service: str):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@cache
def outputs(style: str) -> dict[str, str]:
    stack = STACKS[style]
    try:
        [found] = client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    except EndpointConnectionError:
        raise NotDeployed(NOT_RUNNING) from None
    except ClientError:
        raise NotDeployed(f"error: stack {stack} is not deployed: run `make deploy-{style}`") from None
    values = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
    if not found["StackStatus"].endswith("_COMPLETE") or "RestApiId" not in values:
        raise NotDeployed(f"error: stack {stack} is {found['StackStatus']}: run `make deploy-{style}`")
    return values


def store(style: str) -> DynamoSagaStore:
    """The deployed style's orders and stock, through the runtime's own adapter."""
    out = outputs(style)
    return DynamoSagaStore(out["OrdersTableName"], out["InventoryTableName"], client=client("dynamodb"))


def ledger(style: str) -> DynamoPaymentLedger:
    return DynamoPaymentLedger(outputs(style)["PaymentsTableName"], client=client("dynamodb"))


def state_machine(style: str = contract.ORCHESTRATION) -> StepFunctionsStarter:
    """An orchestrated style's state machine (its executions, one per order), through the runtime's adapter."""
    return StepFunctionsStarter(outputs(style)["StateMachineArn"], client("stepfunctions"))


def starter(style: str) -> StepFunctionsStarter | EventBridgePublisher:
    """What starts the style's sagas (shared.ports.SagaStarter): the state machine, or the bus."""
    if style in contract.ORCHESTRATED:
        return state_machine(style)
    return EventBridgePublisher(outputs(style)["EventBusName"], client("events"))


def notifications(style: str = contract.HYBRID) -> DynamoNotificationStore:
    """The hybrid's customer notifications, through the runtime's adapter."""
    return DynamoNotificationStore(outputs(style)["NotificationsTableName"], client=client("dynamodb"))


def api_url(style: str) -> str:
    """LocalStack's path-style address of the API stage (the stack's ApiUrl is the AWS host name)."""
    return f"{ENDPOINT}/_aws/execute-api/{outputs(style)['RestApiId']}/{contract.API_STAGE}"


def orders_url(style: str) -> str:
    return f"{api_url(style)}/orders"


def read_order(style: str, order_id: str) -> dict:
    """The order's record as `GET /orders/{orderId}` shows it; UnknownOrder if there is none."""
    answer = requests.get(f"{orders_url(style)}/{order_id}", timeout=30)
    if answer.status_code == 404:
        raise UnknownOrder(f"error: no {style} order {order_id}")
    answer.raise_for_status()
    return answer.json()


def function_name(style: str, name: str) -> str:
    """The deployed name of one of the style's functions: `reserve_inventory` ->
    `SagaOrchestration-reserve-inventory` (shared.contract.function_name)."""
    return contract.function_name(STACKS[style], name)


def log_group(style: str, name: str) -> str:
    """The log group of one of the style's functions: `/aws/lambda/<its name>`."""
    return contract.log_group(function_name(style, name))


def log_events(group: str, *, since_ms: int | None = None, containing: str | None = None) -> list[LogEvent]:
    """The events of a log group, from `since_ms` (epoch ms) on, with `containing` in the message
    if given. CloudWatch narrows the read down (startTime, a filter pattern); both are applied here
    again, in case a backend does not. A group not created yet (no invocation so far) has none."""
    kwargs: dict = {"logGroupName": group}
    if since_ms is not None:
        kwargs["startTime"] = since_ms
    if containing is not None:
        kwargs["filterPattern"] = f'"{containing}"'
    out: list[LogEvent] = []
    try:
        for page in client("logs").get_paginator("filter_log_events").paginate(**kwargs):
            out += [
                LogEvent(timestamp=e["timestamp"], message=e["message"])
                for e in page["events"]
                if (since_ms is None or e["timestamp"] >= since_ms)
                and (containing is None or containing in e["message"])
            ]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    return out
