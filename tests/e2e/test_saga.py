"""The four scenarios through both deployed styles, with stock and bad input checked."""

import uuid

import pytest
import requests

from tools import aws, trigger
from tools.scenarios import SCENARIOS, Scenario


@pytest.mark.parametrize("style", aws.STYLES)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_reaches_its_outcome(deployed, style, name):
    scenario = SCENARIOS[name]
    result = trigger.run(style, scenario, timeout=60)
    record = result.record
    assert record["status"] == scenario.status
    assert record.get("failureReason") == scenario.failure_reason
    if name == "happy":
        assert record["reservationId"] and record["paymentId"]
        assert record["trackingNumber"].startswith("TRK-") and len(record["trackingNumber"]) == 12
        assert result.stock_after == result.stock_before - scenario.order["quantity"]
    else:
        assert "trackingNumber" not in record
        assert result.stock_after == result.stock_before
    if name in ("declined", "undeliverable"):
        assert record["reservationId"]
    if name == "undeliverable":  # two steps compensated in reverse order: refund, then release
        assert record["paymentId"] and record["refundId"]
        entries = aws.ledger(style).entries(record["orderId"])
        assert sorted((str(e.entry), e.entry_id) for e in entries) == [
            ("CHARGE", record["paymentId"]),
            ("REFUND", record["refundId"]),
        ]
    elif name != "happy":
        assert "paymentId" not in record and aws.ledger(style).entries(record["orderId"]) == []


@pytest.mark.parametrize("style", aws.STYLES)
def test_last_units_go_to_one_order_only(deployed, style):
    sku = trigger.stocked_sku(style, 3, prefix="E2E")
    order = {"customerId": "CUST-1", "sku": sku, "quantity": 2, "amount": 10}
    first = trigger.run(style, Scenario("first", order, "SHIPPING_SCHEDULED"))
    second = trigger.run(style, Scenario("second", order, "INVENTORY_FAILED", "out of stock"))
    assert first.as_expected and second.as_expected
    assert trigger.stock(style, sku) == 1


def order_count(style: str) -> int:
    table = aws.outputs(style)["OrdersTableName"]
    return aws.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]


@pytest.mark.parametrize("style", aws.STYLES)
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"customerId": "C", "sku": "SKU-1", "quantity": 0, "amount": 5}', "quantity"),
        ('{"customerId": "C", "sku": "SKU-1", "quantity": 1}', "amount"),
        ("this is not json", "body"),
    ],
)
def test_bad_input_is_answered_400_and_nothing_is_written(deployed, style, body, field):
    before = order_count(style)
    answer = requests.post(
        f"{aws.api_url(style)}/orders",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert order_count(style) == before


@pytest.mark.parametrize("style", aws.STYLES)
def test_unknown_order_is_404(deployed, style):
    answer = requests.get(f"{aws.api_url(style)}/orders/{uuid.uuid4()}", timeout=30)
    assert answer.status_code == 404
