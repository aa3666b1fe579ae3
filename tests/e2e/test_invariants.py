"""Money and stock stay right on the deployed stacks under concurrency and duplicate deliveries."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tools import aws, trigger

ORDERS, UNITS = 8, 3


def stock_sku(style: str, units: int) -> str:
    sku = f"E2E-{uuid.uuid4().hex[:8].upper()}"
    table = aws.outputs(style)["InventoryTableName"]
    aws.client("dynamodb").put_item(
        TableName=table, Item={"sku": {"S": sku}, "stock": {"N": str(units)}}
    )
    return sku


def place(style: str, sku: str, customer: str = "CUST-1") -> str:
    order = {"customerId": customer, "sku": sku, "quantity": 1, "amount": 5}
    answer = trigger.place_order(style, order)
    assert answer.status_code == 201, answer.text
    return answer.json()["orderId"]


@pytest.mark.parametrize("style", aws.STYLES)
def test_concurrent_orders_never_oversell(deployed, style):
    sku = stock_sku(style, UNITS)
    with ThreadPoolExecutor(max_workers=ORDERS) as pool:
        order_ids = list(pool.map(lambda _: place(style, sku), range(ORDERS)))
    records = [trigger.wait_for_terminal(style, oid, timeout=90) for oid in order_ids]
    statuses = sorted(r["status"] for r in records)
    assert statuses.count("SHIPPING_SCHEDULED") == UNITS
    assert statuses.count("INVENTORY_FAILED") == ORDERS - UNITS
    assert trigger.stock(style, sku) == 0


def test_a_duplicate_order_created_event_reserves_once(deployed):
    style = "choreography"
    sku = stock_sku(style, 5)
    order_id = place(style, sku)
    record = trigger.wait_for_terminal(style, order_id, timeout=60)
    assert record["status"] == "SHIPPING_SCHEDULED" and trigger.stock(style, sku) == 4
    # At-least-once delivery: the same OrderCreated arrives again after the saga finished.
    created = {k: record[k] for k in ("orderId", "customerId", "sku", "quantity", "amount")}
    aws.client("events").put_events(Entries=[{
        "EventBusName": aws.outputs(style)["EventBusName"], "Source": "saga.orders",
        "DetailType": "OrderCreated", "Detail": json.dumps(created),
    }])  # fmt: skip
    again = trigger.wait_for_terminal(style, order_id, timeout=60)
    assert again == record
    assert trigger.stock(style, sku) == 4


def test_a_repeated_start_is_the_same_execution(deployed):
    style = "orchestration"
    sku = stock_sku(style, 5)
    order_id = place(style, sku)
    record = trigger.wait_for_terminal(style, order_id, timeout=60)
    sfn = aws.client("stepfunctions")
    arn = aws.outputs(style)["StateMachineArn"]
    execution = next(
        e for e in sfn.list_executions(stateMachineArn=arn)["executions"] if e["name"] == order_id
    )
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    try:
        sfn.start_execution(stateMachineArn=arn, name=order_id, input=described["input"])
    except sfn.exceptions.ExecutionAlreadyExists:
        pass  # also fine: no second saga either way
    names = [e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]]
    assert names.count(order_id) == 1
    assert trigger.wait_for_terminal(style, order_id, timeout=60) == record
    assert trigger.stock(style, sku) == 4


def test_api_refuses_unknown_fields_and_huge_bodies(deployed):
    for style in aws.STYLES:
        url = f"{aws.api_url(style)}/orders"
        huge = {"customerId": "C" * 10_000, "sku": "SKU-1", "quantity": 1, "amount": 1}
        for body, field in (({"sku": "SKU-1", "quantity": 1, "amount": 1, "x": 1}, "x"), (huge, "body")):
            answer = requests.post(url, json=body, timeout=30)
            assert answer.status_code == 400
            assert field in [e["field"] for e in answer.json()["errors"]]
