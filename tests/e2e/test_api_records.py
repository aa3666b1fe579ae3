"""The orders API's records on the deployed stacks (LocalStack: the open API of the local target):
an Idempotency-Key's record in its own table, written with the order, expiring in a day through the
table's TTL; a reused key is a 409 that writes nothing; GET shows a fixed failure reason, never the
text stored for operators."""

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from shared.domain.order import Order, Status
from tools import aws
from tools.operator import trigger


def records_of(style: str, customer: str) -> list[dict]:
    table = aws.outputs(style)["IdempotencyTableName"]
    found = aws.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="customerId = :c",
        ExpressionAttributeValues={":c": {"S": customer}},
        ConsistentRead=True,
    )
    return found["Items"]


@pytest.mark.parametrize("style", aws.STYLES)
def test_a_key_names_one_random_order_for_a_day_and_another_order_under_it_is_409(deployed, style):
    customer, key = f"CUST-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    body = {"customerId": customer, "sku": trigger.stocked_sku(style, 5, prefix="E2E"), "quantity": 1, "amount": 5}
    url, headers = aws.orders_url(style), {"Idempotency-Key": key}
    first = requests.post(url, json=body, headers=headers, timeout=30)
    assert first.status_code == 201, first.text
    order_id = first.json()["orderId"]
    assert uuid.UUID(order_id).version == 4
    conflict = requests.post(url, json={**body, "quantity": 2}, headers=headers, timeout=30)
    assert conflict.status_code == 409
    assert [e["field"] for e in conflict.json()["errors"]] == ["Idempotency-Key"]
    [record] = records_of(style, customer)
    assert (record["idempotencyKey"]["S"], record["orderId"]["S"]) == (key, order_id)
    day = timedelta(days=1).total_seconds()
    assert abs(int(record["expiresAt"]["N"]) - (time.time() + day)) < 300
    table = aws.outputs(style)["IdempotencyTableName"]
    ttl = aws.client("dynamodb").describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiresAt")
    assert trigger.wait_for_terminal(style, order_id, timeout=60)["status"] == "SHIPPING_SCHEDULED"


@pytest.mark.parametrize("style", aws.STYLES)
def test_get_shows_a_fixed_failure_reason_and_the_record_keeps_the_text(deployed, style):
    at = datetime.now(UTC).isoformat(timespec="milliseconds")
    stored = "payment did not complete: Task timed out after 10.00 seconds"
    order = Order(
        str(uuid.uuid4()),
        "CUST-1",
        "SKU-1",
        1,
        Decimal("5"),
        status=Status.INVENTORY_RELEASED,
        reservation_id="RES-1",
        failure_reason=stored,
        created_at=at,
        updated_at=at,
    )
    aws.store(style).add(order)  # a finished order: the outbox relay starts nothing for it
    assert aws.read_order(style, order.order_id)["failureReason"] == "payment did not complete"
    assert aws.store(style).get(order.order_id).failure_reason == stored
