"""POST /orders and GET /orders/{orderId} in both styles, on moto."""

import json

import boto3
import pytest

from choreography.handlers import create_order as choreography_create
from orchestration.handlers import create_order as orchestration_create
from shared.entrypoints import get_order
from tests.unit.lambda_events import LambdaContext, api_request

GOOD = {"customerId": "CUST-1", "sku": "SKU-1", "quantity": 2, "amount": 19.99}


def post(handler, body: str | None):
    answer = handler.handler(api_request("POST", "/orders", body), LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


def stored_orders() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName="orders")["Items"]


def test_orchestration_stores_the_order_and_starts_an_execution_named_after_it(
    tables, state_machine
):
    status, order = post(orchestration_create, json.dumps(GOOD))
    assert status == 201 and order["status"] == "CREATED"
    assert {k: order[k] for k in GOOD} == GOOD
    sfn = boto3.client("stepfunctions")
    [execution] = sfn.list_executions(stateMachineArn=state_machine)["executions"]
    assert execution["name"] == order["orderId"]
    started = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert started == {**GOOD, "orderId": order["orderId"]}
    assert len(stored_orders()) == 1


def test_choreography_stores_the_order_and_emits_order_created(tables, bus):
    status, order = post(choreography_create, json.dumps(GOOD))
    assert status == 201
    [event] = bus.events()
    assert (event["source"], event["detail-type"]) == ("saga.orders", "OrderCreated")
    assert event["detail"] == {**GOOD, "orderId": order["orderId"]}


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
def test_orchestration_refuses_bad_orders_with_400_naming_the_field(
    tables, state_machine, body, field
):
    status, answer = post(orchestration_create, body)
    assert status == 400
    assert [e["field"] for e in answer["errors"]] == [field]
    assert field in answer["message"]
    assert stored_orders() == []
    sfn = boto3.client("stepfunctions")
    assert sfn.list_executions(stateMachineArn=state_machine)["executions"] == []


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_choreography_refuses_bad_orders_and_emits_nothing(tables, bus, body, field):
    status, answer = post(choreography_create, body)
    assert status == 400 and [e["field"] for e in answer["errors"]] == [field]
    assert stored_orders() == [] and bus.events() == []


def test_an_order_whose_saga_cannot_start_is_not_kept(tables, monkeypatch):
    monkeypatch.setenv("STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:gone")
    with pytest.raises(Exception, match="does not exist|StateMachineDoesNotExist"):
        post(orchestration_create, json.dumps(GOOD))
    assert stored_orders() == []


def test_get_order_returns_the_record_or_404(tables, bus):
    _, order = post(choreography_create, json.dumps(GOOD))
    found = get_order.handler(
        api_request("GET", f"/orders/{order['orderId']}", resource="/orders/{orderId}"),
        LambdaContext(),
    )
    assert found["statusCode"] == 200 and json.loads(found["body"]) == order
    missing = get_order.handler(
        api_request("GET", "/orders/nope", resource="/orders/{orderId}"), LambdaContext()
    )
    assert missing["statusCode"] == 404


def post_with_key(handler, body: dict, key: str):
    event = api_request("POST", "/orders", json.dumps(body))
    event["headers"]["Idempotency-Key"] = key
    answer = handler.handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


def test_a_retried_post_with_its_idempotency_key_answers_the_same_order(tables, state_machine):
    status, first = post_with_key(orchestration_create, GOOD, "retry-me")
    again_status, again = post_with_key(orchestration_create, GOOD, "retry-me")
    assert (status, again_status) == (201, 200) and again == first
    assert len(stored_orders()) == 1
    sfn = boto3.client("stepfunctions")
    assert len(sfn.list_executions(stateMachineArn=state_machine)["executions"]) == 1


def test_an_idempotency_key_reused_for_another_order_is_409(tables, bus):
    post_with_key(choreography_create, GOOD, "k1")
    status, answer = post_with_key(choreography_create, {**GOOD, "quantity": 5}, "k1")
    assert status == 409 and answer["errors"][0]["field"] == "Idempotency-Key"
    assert len(stored_orders()) == 1


def test_a_malformed_idempotency_key_is_400(tables, bus):
    status, answer = post_with_key(choreography_create, GOOD, "no spaces allowed")
    assert status == 400 and answer["errors"][0]["field"] == "Idempotency-Key"
    assert stored_orders() == [] and bus.events() == []
