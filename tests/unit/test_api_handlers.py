"""POST /orders and GET /orders/{orderId} in every style, on moto: the open API (the body names
the customer, as on LocalStack) unless a test says the stack put the API behind its authorizer."""

import json
import uuid

import boto3
import pytest

from shared.entrypoints import create_order, get_order
from tests.unit.lambda_events import LambdaContext, api_request

GOOD = {"customerId": "CUST-1", "sku": "SKU-1", "quantity": 2, "amount": 19.99}


@pytest.fixture(autouse=True)
def open_api(monkeypatch):
    """What the local target's stack tells the handlers: the body names the customer."""
    monkeypatch.setenv("CUSTOMER_IDENTITY", "body")


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
    # Every string is bounded and printable: no NUL, no newline, not blank, at most 64 characters.
    (json.dumps({**GOOD, "customerId": "CUST\u00001"}), "customerId"),
    (json.dumps({**GOOD, "customerId": "CUST-1\n"}), "customerId"),
    (json.dumps({**GOOD, "customerId": "CUST\t1"}), "customerId"),
    (json.dumps({**GOOD, "customerId": "   "}), "customerId"),
    (json.dumps({**GOOD, "customerId": ""}), "customerId"),
    (json.dumps({**GOOD, "customerId": "x" * 65}), "customerId"),
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


# --- Content-Type ------------------------------------------------------------------------------


def post_as(content_type: str | None, body: str | None = None, header: str = "Content-Type"):
    event = api_request("POST", "/orders", json.dumps(GOOD) if body is None else body)
    del event["headers"]["Content-Type"]
    if content_type is not None:
        event["headers"][header] = content_type
    answer = create_order.handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",  # what `curl -d` declares
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json-patch+json",
        "application/jsonx",
        "application/json; charset=latin-1",
        "",
    ],
)
def test_a_body_declared_as_anything_but_json_is_415_naming_the_header_and_nothing_stored(tables, content_type):
    status, answer = post_as(content_type)
    assert status == 415
    assert [e["field"] for e in answer["errors"]] == ["Content-Type"]
    assert "Content-Type" in answer["message"] and "application/json" in answer["message"]
    assert stored_orders() == []


def test_the_content_type_is_checked_before_the_body(tables):
    status, answer = post_as("text/plain", body="not json")
    assert status == 415 and [e["field"] for e in answer["errors"]] == ["Content-Type"]
    assert stored_orders() == []


@pytest.mark.parametrize(
    ("content_type", "header"),
    [
        ("application/json", "Content-Type"),
        ("application/json; charset=utf-8", "Content-Type"),
        ('Application/JSON;charset="UTF-8"', "Content-Type"),
        ("application/json", "content-type"),
        (None, "Content-Type"),  # no Content-Type at all: read as JSON
    ],
)
def test_json_or_no_content_type_is_accepted(tables, content_type, header):
    status, order = post_as(content_type, header=header)
    assert status == 201 and order["customerId"] == GOOD["customerId"]
    assert len(stored_orders()) == 1


# --- the orderId path parameter ------------------------------------------------------------------


def get(order_id: str) -> tuple[int, dict]:
    event = api_request("GET", f"/orders/{order_id}", resource="/orders/{orderId}")
    answer = get_order.handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


@pytest.fixture
def no_table_read(tables, monkeypatch):
    def refuse():
        raise AssertionError("the table was asked for an id that cannot exist")

    monkeypatch.setattr(get_order, "saga_store", refuse)


@pytest.mark.parametrize(
    "order_id",
    [
        "x" * 65,  # over the OrderId bound
        "a" * 2048,  # the 2 KB id that was a 502 (DynamoDB's key limit)
        "a%00b",  # LocalStack hands the segment on still URL-encoded
        "a%0Ab",
        "a b",
        "order.1",
        "order_1",
        "'or'1'='1",
        "été",
    ],
)
def test_a_malformed_order_id_is_400_naming_it_without_asking_the_table(no_table_read, order_id):
    status, answer = get(order_id)
    assert status == 400
    assert [e["field"] for e in answer["errors"]] == ["orderId"] and "orderId" in answer["message"]
    assert order_id not in answer["message"]


@pytest.mark.parametrize("path", ["/orders/a/b", "/orders/a\x00b", "/orders/a\nb"])
def test_a_path_the_route_does_not_match_is_404_not_an_error(tables, path):
    event = api_request("GET", path, resource="/orders/{orderId}")
    answer = get_order.handler(event, LambdaContext())
    assert answer["statusCode"] == 404


def test_an_unknown_well_formed_order_id_is_404(tables):
    status, answer = get(str(uuid.uuid4()))
    assert status == 404 and "not found" in answer["message"]
    status, _ = get("x" * 64)  # at the bound: looked up, not refused
    assert status == 404
