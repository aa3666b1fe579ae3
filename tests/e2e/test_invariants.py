"""Money and stock stay right on the deployed stacks under concurrency and duplicate deliveries."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from shared.contract import ORCHESTRATED, STEP_DONE
from tools import aws
from tools.analysis import chaos
from tools.analysis.compare.lambda_logs import records_of
from tools.operator import trigger

ORDERS, UNITS = 8, 3


def stock_sku(style: str, units: int) -> str:
    return trigger.stocked_sku(style, units, prefix="E2E")


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


def wait_for_reservation_runs(style: str, order_id: str, runs: int, timeout: float = 60) -> None:
    """Until reserve_inventory has finished `runs` times for the order (its "step done" logs)."""
    group = aws.log_group(style, "reserve_inventory")
    deadline, done = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        events = aws.log_events(group, containing=order_id)
        done = [r for r in records_of(order_id, events) if r.get("message") == STEP_DONE]
        if len(done) >= runs:
            return
        time.sleep(0.5)
    raise AssertionError(f"reserve_inventory ran {len(done)} time(s) for {order_id}, not {runs}")


@pytest.mark.parametrize("style", aws.STYLES)
def test_the_saga_started_twice_reserves_once(deployed, style):
    """At-least-once delivery: OrderCreated put on the bus again, or the execution started again
    under the same name, after the saga finished."""
    sku = stock_sku(style, 5)
    record = trigger.wait_for_terminal(style, place(style, sku), timeout=60)
    assert record["status"] == "SHIPPING_SCHEDULED" and trigger.stock(style, sku) == 4
    chaos.deliver_again(style, record)
    if style in ORCHESTRATED:
        arn = aws.outputs(style)["StateMachineArn"]
        executions = aws.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
        assert [e["name"] for e in executions].count(record["orderId"]) == 1
    else:
        wait_for_reservation_runs(style, record["orderId"], runs=2)
    assert aws.read_order(style, record["orderId"]) == record
    assert trigger.stock(style, sku) == 4


def test_api_refuses_unknown_fields_and_huge_bodies(deployed):
    for style in aws.STYLES:
        url = f"{aws.api_url(style)}/orders"
        huge = {"customerId": "C" * 10_000, "sku": "SKU-1", "quantity": 1, "amount": 1}
        for body, field in (({"sku": "SKU-1", "quantity": 1, "amount": 1, "x": 1}, "x"), (huge, "body")):
            answer = requests.post(url, json=body, timeout=30)
            assert answer.status_code == 400
            assert field in [e["field"] for e in answer.json()["errors"]]


@pytest.mark.parametrize("style", aws.STYLES)
def test_a_post_retried_with_its_idempotency_key_places_one_order(deployed, style):
    sku = stock_sku(style, 5)
    body = {"customerId": "CUST-1", "sku": sku, "quantity": 2, "amount": 5}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    url = f"{aws.api_url(style)}/orders"
    first = requests.post(url, json=body, headers=key, timeout=30)
    again = requests.post(url, json=body, headers=key, timeout=30)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["orderId"] == again.json()["orderId"]
    record = trigger.wait_for_terminal(style, first.json()["orderId"], timeout=60)
    assert record["status"] == "SHIPPING_SCHEDULED" and trigger.stock(style, sku) == 3
