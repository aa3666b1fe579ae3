"""The scenarios and the API's promises, on each style deployed on a real AWS account, through the
authenticated API (ID token + the storefront's API key). The scenarios are tools.operator.
scenarios' own, less the body's customerId: on AWS the customer is the signed-in caller.

Two scenarios cannot run there: the payment and shipping stand-ins decline the customers
CUST-DECLINE and CUST-UNDELIVERABLE, and no signed-in caller is either (a customer id is a
Cognito `sub`). Their compensations are covered on LocalStack (tests/e2e)."""

from __future__ import annotations

import uuid

import pytest
import requests

from shared.domain.reasons import PUBLIC_REASONS
from tests.aws.shop import Customer, Shop
from tools.operator.scenarios import SCENARIOS

ON_AWS = ("happy", "out-of-stock")
NOT_ON_AWS = "the stand-in declines a customer id (CUST-DECLINE, CUST-UNDELIVERABLE) no signed-in caller has"


def order_of(name: str, sku: str | None = None) -> dict:
    body = {k: v for k, v in SCENARIOS[name].order.items() if k != "customerId"}
    return {**body, "sku": sku} if sku else body


@pytest.mark.parametrize(
    "name", [n if n in ON_AWS else pytest.param(n, marks=pytest.mark.skip(reason=NOT_ON_AWS)) for n in SCENARIOS]
)
def test_scenario_reaches_its_outcome(shop: Shop, alice: Customer, name: str) -> None:
    scenario = SCENARIOS[name]
    sku = shop.stocked_sku(10) if name == "happy" else None
    store = shop.store()
    before = store.stock(sku or scenario.order["sku"])
    placed = shop.post(alice, order_of(name, sku))
    assert placed.status_code == 201, placed.text
    assert placed.json()["customerId"] == alice.sub
    record = shop.wait_for_terminal(alice, placed.json()["orderId"])
    assert (record["status"], record.get("failureReason")) == (scenario.status, scenario.failure_reason)
    after = store.stock(sku or scenario.order["sku"])
    entries = shop.ledger().entries(record["orderId"])
    if name == "happy":
        assert record["trackingNumber"].startswith("TRK-") and record["reservationId"] and record["paymentId"]
        assert after == before - scenario.order["quantity"]
        assert [(str(e.entry), e.entry_id) for e in entries] == [("CHARGE", record["paymentId"])]
    else:
        assert after == before and entries == []
        assert record["failureReason"] in PUBLIC_REASONS


def test_without_a_token_or_an_api_key_api_gateway_refuses(shop: Shop, alice: Customer) -> None:
    body = order_of("happy")
    assert shop.post(None, body).status_code == 401  # the authorizer: no token
    assert shop.post(None, body, Authorization="not-a-token").status_code == 401
    no_key = {k: v for k, v in shop.headers(alice).items() if k != "x-api-key"}
    assert requests.post(shop.orders_url, json=body, headers=no_key, timeout=30).status_code == 403


def test_a_body_naming_a_customer_is_400_naming_it(shop: Shop, alice: Customer, bob: Customer) -> None:
    answer = shop.post(alice, {**order_of("happy"), "customerId": bob.sub})
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == ["customerId"]


def test_an_order_is_its_customers_alone(shop: Shop, alice: Customer, bob: Customer) -> None:
    placed = shop.post(alice, order_of("out-of-stock")).json()
    mine = shop.get(alice, placed["orderId"])
    theirs = shop.get(bob, placed["orderId"])
    unknown = shop.get(bob, str(uuid.uuid4()))
    assert mine.status_code == 200 and mine.json()["customerId"] == alice.sub
    # Someone else's order is answered as an unknown one: an id never tells whether it exists.
    assert (theirs.status_code, unknown.status_code) == (404, 404)


def test_a_retried_post_places_one_order_and_a_reused_key_is_409(shop: Shop, alice: Customer, bob: Customer) -> None:
    sku = shop.stocked_sku(5)
    key = uuid.uuid4().hex
    body = {**order_of("happy", sku), "quantity": 2}
    first = shop.post(alice, body, **{"Idempotency-Key": key})
    again = shop.post(alice, body, **{"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["orderId"] == again.json()["orderId"]
    assert uuid.UUID(first.json()["orderId"]).version == 4  # random, not derived from the key
    other = shop.post(alice, {**body, "quantity": 1}, **{"Idempotency-Key": key})
    assert other.status_code == 409 and [e["field"] for e in other.json()["errors"]] == ["Idempotency-Key"]
    # A key is its customer's own: the same key places Bob's own order.
    assert shop.post(bob, body, **{"Idempotency-Key": key}).status_code == 201
    record = shop.wait_for_terminal(alice, first.json()["orderId"])
    assert record["status"] == "SHIPPING_SCHEDULED"


@pytest.mark.parametrize(
    ("content_type", "body", "status", "field"),
    [
        ("text/plain", '{"sku": "SKU-1", "quantity": 1, "amount": 5}', 415, "Content-Type"),
        ("application/json", '{"sku": "SKU-1", "quantity": 0, "amount": 5}', 400, "quantity"),
        ("application/json", "this is not json", 400, "body"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(
    shop: Shop, alice: Customer, content_type: str, body: str, status: int, field: str
) -> None:
    headers = shop.headers(alice, **{"Content-Type": content_type})
    answer = requests.post(shop.orders_url, data=body, headers=headers, timeout=30)
    assert answer.status_code == status
    assert [e["field"] for e in answer.json()["errors"]] == [field]


@pytest.mark.parametrize("order_id", ["a" * 2048, "not.an.id"], ids=["2KB", "dots"])
def test_a_malformed_order_id_is_400(shop: Shop, alice: Customer, order_id: str) -> None:
    answer = shop.get(alice, order_id)
    assert answer.status_code == 400 and [e["field"] for e in answer.json()["errors"]] == ["orderId"]
