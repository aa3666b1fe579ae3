"""AWS faked with moto for handler and adapter tests: the same tables, bus and state machine the
stacks create, so handlers run with their real adapters."""

import json

import boto3
import pytest
from moto import mock_aws

from shared.entrypoints import runtime

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield
    for cached in runtime.CACHED:
        cached.cache_clear()


@pytest.fixture
def tables(aws, monkeypatch):
    ddb = boto3.client("dynamodb")
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("orderId", "watch", "updatedAt")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "WatchList",
                "KeySchema": [
                    {"AttributeName": "watch", "KeyType": "HASH"},
                    {"AttributeName": "updatedAt", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.create_table(
        TableName="inventory",
        KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.create_table(
        TableName="payments",
        KeySchema=[
            {"AttributeName": "orderId", "KeyType": "HASH"},
            {"AttributeName": "entry", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "orderId", "AttributeType": "S"},
            {"AttributeName": "entry", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.create_table(
        TableName="idempotency",
        KeySchema=[
            {"AttributeName": "customerId", "KeyType": "HASH"},
            {"AttributeName": "idempotencyKey", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "customerId", "AttributeType": "S"},
            {"AttributeName": "idempotencyKey", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("ORDERS_TABLE", "orders")
    monkeypatch.setenv("INVENTORY_TABLE", "inventory")
    monkeypatch.setenv("PAYMENTS_TABLE", "payments")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
    ddb.put_item(TableName="inventory", Item={"sku": {"S": "SKU-1"}, "stock": {"N": "5"}})
    return ddb


class BusTap:
    """Everything published on the bus, caught by a catch-all rule into a queue."""

    def __init__(self, queue_url: str) -> None:
        self._sqs = boto3.client("sqs")
        self._url = queue_url

    def events(self) -> list[dict]:
        messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


@pytest.fixture
def bus(aws, monkeypatch):
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name="saga")
    url = sqs.create_queue(QueueName="tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    events.put_rule(Name="all", EventBusName="saga", EventPattern='{"source": [{"prefix": "saga."}]}')
    events.put_targets(Rule="all", EventBusName="saga", Targets=[{"Id": "tap", "Arn": arn["QueueArn"]}])
    monkeypatch.setenv("EVENT_BUS_NAME", "saga")
    return BusTap(url)


@pytest.fixture
def state_machine(aws, monkeypatch):
    sfn = boto3.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="saga",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/saga",
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    return arn
