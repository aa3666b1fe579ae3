"""The orders API behind the aws target's authorizer, on moto: the stack says `cognito-sub`, the
customer is the ID token's `sub` (as API Gateway's Cognito authorizer hands the claims on), a body
naming a customer is refused, and GET answers only the order's own customer, with the 404 of an
unknown order to anyone else. Without the stack's word the handlers refuse to run."""

import json

import boto3
import pytest

from shared.entrypoints import create_order, get_order
from tests.unit.lambda_events import LambdaContext, api_request

ALICE, BOB = "3f1d9c2e-0a4b-4c5d-8e9f-0123456789ab", "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d"
ORDER = {"sku": "SKU-1", "quantity": 2, "amount": 19.99}


@pytest.fixture(autouse=True)
def behind_the_authorizer(monkeypatch):
    monkeypatch.setenv("CUSTOMER_IDENTITY", "cognito-sub")


def signed_in(event: dict, subject: str | None) -> dict:
    """The event as API Gateway sends it after the Cognito authorizer let it in (None: no claims)."""
    if subject is not None:
        event["requestContext"]["authorizer"] = {"claims": {"sub": subject, "token_use": "id"}}
    return event


def post(body: dict | str, subject: str | None = ALICE, headers: dict | None = None) -> tuple[int, dict]:
    event = signed_in(api_request("POST", "/orders", body if isinstance(body, str) else json.dumps(body)), subject)
    event["headers"].update(headers or {})
    answer = create_order.handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


def get(order_id: str, subject: str | None) -> tuple[int, dict]:
    event = signed_in(api_request("GET", f"/orders/{order_id}", resource="/orders/{orderId}"), subject)
    answer = get_order.handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


def stored_orders() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName="orders")["Items"]


def test_the_order_is_the_signed_in_callers(tables):
    status, order = post(ORDER)
    assert status == 201 and order["customerId"] == ALICE
    [stored] = stored_orders()
    assert stored["customerId"] == {"S": ALICE}


@pytest.mark.parametrize("named", [ALICE, BOB, "CUST-DECLINE"])
def test_a_body_naming_a_customer_is_refused_naming_the_field_and_nothing_is_stored(tables, named):
    status, answer = post({**ORDER, "customerId": named})
    assert status == 400
    assert [e["field"] for e in answer["errors"]] == ["customerId"]
    assert "signed-in caller" in answer["errors"][0]["message"]
    assert stored_orders() == []


def test_every_bad_field_is_named_with_the_refused_customer(tables):
    status, answer = post({**ORDER, "customerId": BOB, "quantity": 0})
    assert status == 400 and [e["field"] for e in answer["errors"]] == ["customerId", "quantity"]
    assert stored_orders() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "body"),
        ("[1, 2]", "body"),
        ('{"sku": "SKU-1", "quantity": 2, "amount": NaN}', "body"),
        (json.dumps({**ORDER, "quantity": "2"}), "quantity"),
        (json.dumps({**ORDER, "quantity": True}), "quantity"),
        (json.dumps({**ORDER, "amount": "19.99"}), "amount"),
        (json.dumps({**ORDER, "coupon": "FREE"}), "coupon"),
        (json.dumps({k: v for k, v in ORDER.items() if k != "sku"}), "sku"),
    ],
)
def test_bad_bodies_are_400_naming_the_field_as_on_the_open_api(tables, body, field):
    status, answer = post(body)
    assert status == 400 and [e["field"] for e in answer["errors"]] == [field]
    assert stored_orders() == []


def test_without_a_caller_it_is_401_and_nothing_is_stored(tables):
    status, answer = post(ORDER, subject=None)
    assert status == 401 and "sign in" in answer["message"]
    assert stored_orders() == []
    status, _ = post(ORDER, subject="   ")
    assert status == 401 and stored_orders() == []


def test_get_answers_the_orders_own_customer_only(tables):
    _, order = post(ORDER, subject=ALICE)
    assert get(order["orderId"], ALICE) == (200, order)
    status, answer = get(order["orderId"], BOB)
    unknown_status, unknown = get("0" * 36, BOB)
    # The answer to someone else's order is the answer to an unknown one: ids do not leak.
    assert (status, unknown_status) == (404, 404)
    assert answer["message"] == unknown["message"].replace("0" * 36, order["orderId"])


def test_get_without_a_caller_is_401(tables):
    _, order = post(ORDER)
    status, _ = get(order["orderId"], None)
    assert status == 401


def test_an_idempotency_key_is_the_callers_own(tables):
    key = {"Idempotency-Key": "k-1"}
    first_status, first = post(ORDER, ALICE, key)
    again_status, again = post(ORDER, ALICE, key)
    other_status, other = post(ORDER, BOB, key)
    assert (first_status, again_status, other_status) == (201, 200, 201)
    assert again == first and other["orderId"] != first["orderId"] and other["customerId"] == BOB


@pytest.mark.parametrize("setting", [None, "", "open", "cognito"])
def test_without_the_stacks_word_the_handlers_refuse_to_run(tables, monkeypatch, setting):
    # Fails closed: a stack that forgot to say is not an open API.
    if setting is None:
        monkeypatch.delenv("CUSTOMER_IDENTITY")
    else:
        monkeypatch.setenv("CUSTOMER_IDENTITY", setting)
    with pytest.raises(RuntimeError, match="CUSTOMER_IDENTITY"):
        post({**ORDER, "customerId": "CUST-1"})
    with pytest.raises(RuntimeError, match="CUSTOMER_IDENTITY"):
        get("0" * 36, ALICE)
    assert stored_orders() == []
