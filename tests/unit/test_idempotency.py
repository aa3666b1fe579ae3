"""Idempotency records: random order ids, the key's record written in one transaction with its
order, a day's lifetime (DynamoDB TTL), the same answer to a retry, a 409 to another order. The
rules on the in-memory store, then the DynamoDB adapter and the API handler on moto."""

import json
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError

from shared import steps
from shared.adapters.dynamodb import DynamoSagaStore
from shared.domain.errors import IdempotencyConflict, OrderExists
from shared.domain.idempotency import TTL, IdempotencyKeyHeld, fingerprint, record_for
from shared.domain.order import Order, Status
from shared.entrypoints import create_order
from shared.events import OrderRequest
from tests.fakes import InMemorySagaStore
from tests.unit.lambda_events import LambdaContext, api_request

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GOOD = {"customerId": "CUST-1", "sku": "SKU-1", "quantity": 2, "amount": 19.99}


def request(**overrides) -> OrderRequest:
    return OrderRequest.model_validate({**GOOD, **overrides})


# --- the rules ----------------------------------------------------------------------------------


def test_the_record_names_the_order_the_request_and_expires_after_a_day():
    order = Order.place("CUST-1", "SKU-1", 2, Decimal("19.99"))
    record = record_for(order, "k-1", NOW)
    assert (record.customer_id, record.key, record.order_id) == ("CUST-1", "k-1", order.order_id)
    assert record.expires_at - record.placed_at == 24 * 3600 == TTL.total_seconds()
    assert record.placed_at == int(NOW.timestamp())
    assert not record.expired(record.expires_at) and record.expired(record.expires_at + 1)


def test_the_fingerprint_is_the_request_whatever_the_amounts_notation():
    base = Order.place("CUST-1", "SKU-1", 2, Decimal("5"))
    same = [replace(base, order_id="other", amount=Decimal(a)) for a in ("5.0", "5.00", "5")]
    assert {fingerprint(o) for o in same} == {fingerprint(base)}
    for changed in (
        replace(base, amount=Decimal("5.01")),
        replace(base, quantity=3),
        replace(base, sku="SKU-2"),
        replace(base, customer_id="CUST-2"),
    ):
        assert fingerprint(changed) != fingerprint(base)


def test_order_ids_are_random_with_or_without_a_key():
    store = InMemorySagaStore()
    ids = [steps.create_order(request(), store, key, NOW)[0].order_id for key in ("", "", "k-1", "k-2")]
    assert len(set(ids)) == 4 and all(uuid.UUID(i).version == 4 for i in ids)


def test_an_expired_key_places_a_new_order():
    store = InMemorySagaStore()
    first, _ = steps.create_order(request(), store, "k-1", NOW)
    later = NOW + TTL + timedelta(seconds=1)
    again, placed = steps.create_order(request(), store, "k-1", later)
    assert placed and again.order_id != first.order_id
    assert store.idempotency["CUST-1", "k-1"].order_id == again.order_id


def test_a_key_within_its_day_answers_the_first_order():
    store = InMemorySagaStore()
    first, _ = steps.create_order(request(), store, "k-1", NOW)
    again, placed = steps.create_order(request(), store, "k-1", NOW + TTL)
    assert (again, placed) == (first, False)


def test_a_shorter_ttl_can_be_given():
    store = InMemorySagaStore()
    steps.create_order(request(), store, "k-1", NOW, ttl=timedelta(minutes=5))
    assert store.idempotency["CUST-1", "k-1"].expires_at == int(NOW.timestamp()) + 300


# --- DynamoDB: one transaction ------------------------------------------------------------------


@pytest.fixture
def store(tables) -> DynamoSagaStore:
    return DynamoSagaStore("orders", "inventory", idempotency_table="idempotency")


def scan(table: str) -> list[dict]:
    return boto3.client("dynamodb").scan(TableName=table)["Items"]


def test_the_order_and_its_record_are_written_together(store):
    order, placed = steps.create_order(request(), store, "k-1", NOW)
    assert placed and store.get(order.order_id) == order
    [record] = scan("idempotency")
    assert record == {
        "customerId": {"S": "CUST-1"},
        "idempotencyKey": {"S": "k-1"},
        "orderId": {"S": order.order_id},
        "requestHash": {"S": fingerprint(order)},
        "placedAt": {"N": str(int(NOW.timestamp()))},
        "expiresAt": {"N": str(int(NOW.timestamp()) + 86400)},
    }


def test_a_held_key_writes_no_order(store):
    first, _ = steps.create_order(request(), store, "k-1", NOW)
    second = Order.place("CUST-1", "SKU-1", 2, Decimal("19.99"))
    with pytest.raises(IdempotencyKeyHeld) as held:
        store.add(second, record_for(second, "k-1", NOW))
    assert held.value.record.order_id == first.order_id
    assert store.get(second.order_id) is None and len(scan("orders")) == 1 and len(scan("idempotency")) == 1


def test_an_order_that_cannot_be_stored_leaves_no_record(store):
    order = Order.place("CUST-1", "SKU-1", 2, Decimal("19.99"))
    store.add(order)  # the id is taken (a uuid4 collision, in effect)
    with pytest.raises(OrderExists):
        store.add(order, record_for(order, "k-1", NOW))
    assert scan("idempotency") == []


def test_an_expired_record_still_in_the_table_frees_its_key(store):
    # DynamoDB's TTL deletes expired items late (within days): the condition treats them as gone.
    first, _ = steps.create_order(request(), store, "k-1", NOW)
    later = NOW + TTL + timedelta(seconds=1)
    again, placed = steps.create_order(request(), store, "k-1", later)
    assert placed and again.order_id != first.order_id
    [record] = scan("idempotency")
    assert record["orderId"] == {"S": again.order_id}


def test_a_retry_after_the_saga_moved_on_answers_the_order_as_it_is_now(store):
    first, _ = steps.create_order(request(), store, "k-1", NOW)
    shipped = first.advance(Status.INVENTORY_RESERVED, reservation_id="R")
    store.transition(shipped, Status.CREATED)
    again, placed = steps.create_order(request(), store, "k-1", NOW)
    assert (again, placed) == (shipped, False)


def test_another_order_under_a_held_key_is_a_conflict_and_writes_nothing(store):
    steps.create_order(request(), store, "k-1", NOW)
    with pytest.raises(IdempotencyConflict):
        steps.create_order(request(quantity=3), store, "k-1", NOW)
    assert len(scan("orders")) == 1 and len(scan("idempotency")) == 1


class ConflictingOnce:
    """The DynamoDB client, but the first transaction is cancelled as DynamoDB cancels one that
    races another request writing the same record."""

    def __init__(self) -> None:
        self._client = boto3.client("dynamodb")
        self.transactions = 0

    def transact_write_items(self, **kwargs):
        self.transactions += 1
        if self.transactions == 1:
            reasons = [{"Code": "TransactionConflict"}, {"Code": "None"}]
            error = {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons}
            raise ClientError(error, "TransactWriteItems")
        return self._client.transact_write_items(**kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_a_request_racing_another_on_its_key_tries_again_and_gets_the_winners_order(tables):
    winner, _ = steps.create_order(request(), DynamoSagaStore("orders", idempotency_table="idempotency"), "k-1", NOW)
    client = ConflictingOnce()
    racing = DynamoSagaStore("orders", client=client, idempotency_table="idempotency")
    again, placed = steps.create_order(request(), racing, "k-1", NOW)
    assert (again, placed) == (winner, False) and client.transactions == 2
    assert len(scan("orders")) == 1


def test_a_store_without_the_idempotency_table_says_so(tables):
    order = Order.place("CUST-1", "SKU-1", 2, Decimal("19.99"))
    with pytest.raises(RuntimeError, match="idempotency table"):
        DynamoSagaStore("orders").add(order, record_for(order, "k-1", NOW))
    assert scan("orders") == []


# --- the API ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def open_api(monkeypatch):
    monkeypatch.setenv("CUSTOMER_IDENTITY", "body")


def post(body: dict, key: str) -> tuple[int, dict]:
    event = api_request("POST", "/orders", json.dumps(body))
    event["headers"]["Idempotency-Key"] = key
    answer = create_order.handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


def test_a_retried_post_answers_the_same_order_and_its_record_expires_in_a_day(tables):
    before = int(time.time())
    first_status, first = post(GOOD, "retry-me")
    again_status, again = post({**GOOD, "amount": 19.990}, "retry-me")
    assert (first_status, again_status) == (201, 200) and again == first
    assert uuid.UUID(first["orderId"]).version == 4
    [record] = scan("idempotency")
    assert record["orderId"] == {"S": first["orderId"]}
    assert before + 86400 <= int(record["expiresAt"]["N"]) <= int(time.time()) + 86400


def test_the_same_key_with_another_order_is_409_naming_the_header(tables):
    post(GOOD, "k1")
    status, answer = post({**GOOD, "sku": "SKU-2"}, "k1")
    assert status == 409
    assert [e["field"] for e in answer["errors"]] == ["Idempotency-Key"]
    assert len(scan("orders")) == 1 and len(scan("idempotency")) == 1


def test_a_retry_shows_the_public_failure_reason(tables):
    _, first = post(GOOD, "k1")
    store = DynamoSagaStore("orders", "inventory")
    order = store.get(first["orderId"])
    reserved = order.advance(Status.INVENTORY_RESERVED, reservation_id="R")
    store.transition(reserved, Status.CREATED)
    failed = reserved.advance(Status.PAYMENT_FAILED, failure_reason="payment did not complete: Task timed out")
    store.transition(failed, Status.INVENTORY_RESERVED)
    status, again = post(GOOD, "k1")
    assert status == 200 and again["failureReason"] == "payment did not complete"
