"""Where the deployed saga lives: the LocalStack endpoint, clients for it, and each style's
stack outputs. Works the same against the embedded LocalStack and the Docker one."""

from __future__ import annotations

import os
from functools import cache

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError

from shared.adapters.dynamodb import DynamoSagaStore
from shared.adapters.ledger import DynamoPaymentLedger

ENDPOINT = os.environ.get("LOCALSTACK_ENDPOINT", "http://127.0.0.1:4566")
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
STACKS = {"orchestration": "SagaOrchestration", "choreography": "SagaChoreography"}
STYLES = tuple(STACKS)
# LocalStack's path-style address of a REST API stage (the stack's ApiUrl is the AWS host name).
API_STAGE = "prod"


class NotDeployed(SystemExit):
    """A missing stack or LocalStack: one line for the user, no traceback."""


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
        raise NotDeployed(f"error: LocalStack is not running at {ENDPOINT}: run `make up`") from None
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


def api_url(style: str) -> str:
    return f"{ENDPOINT}/_aws/execute-api/{outputs(style)['RestApiId']}/{API_STAGE}"


def function_name(style: str, name: str) -> str:
    """The deployed name of one of the style's functions (`reserve_inventory` ->
    `SagaOrchestration-reserve-inventory`), as shared.infra.functions names them; its log group is
    `/aws/lambda/<that name>`. The one place tools build it (not imported: that would load the CDK)."""
    return f"{STACKS[style]}-{name.replace('_', '-')}"
