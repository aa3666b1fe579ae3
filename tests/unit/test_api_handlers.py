"""POST /orders and GET /orders/{orderId} in both styles, on moto."""

import json

import boto3
import pytest

from shared.entrypoints import create_order, get_order
from tests.unit.lambda_events import LambdaContext, api_request

GOOD = {"customerId": "CUST-1", "sku": "SKU-1", "quantity": 2, "amount": 19.99}


def post(handler, body: str | None):
    answer = handler.handler(api_request("POST", "/orders", body), LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


def stored_orders() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName="orders")["Items"]


def test_post_stores_the_order_created_and_nothing_else(tables, state_machine, bus):
    status, order = post(create_order, json.dumps(GOOD))
    assert status == 201 and order["status"] == "CREATED"
    assert {k: order[k] for k in GOOD} == GOOD
    assert len(stored_orders()) == 1
    # The stored order starts its saga through the table's stream, not through the API.
    sfn = boto3.client("stepfunctions")
    assert sfn.list_executions(stateMachineArn=state_machine)["executions"] == []
    assert bus.events() == []


BAD_BODIES = [
    (None, "body"),
    ("not json", "body"),
    ("[1, 2]", "body"),
    (json.dumps({**GOOD, "quantity": 0}), "quantity"),
    (json.dumps({**GOOD, "quantity": "2"}), "quantity"),
    (json.dumps({**GOOD, "quantity": 10**12}), "quantity"),
    (json.dumps({**GOOD, "amount": -5}), "amount"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "sku"}), "sku"),
    (json.dumps({**GOOD, "sku": "lower case"}), "sku"),
    (json.dumps({**GOOD, "customerId": None}), "customerId"),
    (json.dumps({**GOOD, "coupon": "FREE"}), "coupon"),
    (json.dumps({**GOOD, "customerId": "x" * 5000}), "body"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_bad_orders_are_refused_with_400_naming_the_field_and_nothing_stored(tables, body, field):
    status, answer = post(create_order, body)
    assert status == 400
    assert [e["field"] for e in answer["errors"]] == [field]
    assert field in answer["message"]
    assert stored_orders() == []


def test_get_order_returns_the_record_or_404(tables, bus):
    _, order = post(create_order, json.dumps(GOOD))
    found = get_order.handler(
        api_request("GET", f"/orders/{order['orderId']}", resource="/orders/{orderId}"),
        LambdaContext(),
    )
    assert found["statusCode"] == 200 and json.loads(found["body"]) == order
    missing = get_order.handler(api_request("GET", "/orders/nope", resource="/orders/{orderId}"), LambdaContext())
    assert missing["statusCode"] == 404


def post_with_key(handler, body: dict, key: str):
    event = api_request("POST", "/orders", json.dumps(body))
    event["headers"]["Idempotency-Key"] = key
    answer = handler.handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


def test_a_retried_post_with_its_idempotency_key_answers_the_same_order(tables):
    status, first = post_with_key(create_order, GOOD, "retry-me")
    again_status, again = post_with_key(create_order, GOOD, "retry-me")
    assert (status, again_status) == (201, 200) and again == first
    assert len(stored_orders()) == 1


def test_an_idempotency_key_reused_for_another_order_is_409(tables, bus):
    post_with_key(create_order, GOOD, "k1")
    status, answer = post_with_key(create_order, {**GOOD, "quantity": 5}, "k1")
    assert status == 409 and answer["errors"][0]["field"] == "Idempotency-Key"
    assert len(stored_orders()) == 1


def test_a_malformed_idempotency_key_is_400(tables):
    status, answer = post_with_key(create_order, GOOD, "no spaces allowed")
    assert status == 400 and answer["errors"][0]["field"] == "Idempotency-Key"
    assert stored_orders() == []
