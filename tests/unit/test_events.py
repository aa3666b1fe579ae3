import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.events import (
    EVENTS,
    ROUTES,
    InventoryReserved,
    OrderCreated,
    OrderRequest,
    PaymentFailed,
)

GOOD = {"customerId": "CUST-1", "sku": "SKU-1", "quantity": 2, "amount": 19.99}


def test_order_request_accepts_a_good_order():
    request = OrderRequest.model_validate_json(json.dumps(GOOD))
    assert (request.customer_id, request.sku, request.quantity) == ("CUST-1", "SKU-1", 2)
    assert request.amount == Decimal("19.99")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": "2"}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": 10**9}, "quantity"),
        ({"amount": -1}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": "12.50"}, "amount"),
        ({"amount": 1.001}, "amount"),
        ({"customerId": 7}, "customerId"),
        ({"customerId": ""}, "customerId"),
        ({"sku": "bad sku!"}, "sku"),
        ({"extra": 1}, "extra"),
    ],
)
def test_order_request_names_the_bad_field(change, field):
    with pytest.raises(ValidationError) as caught:
        OrderRequest.model_validate_json(json.dumps({**GOOD, **change}))
    assert [e["loc"][0] for e in caught.value.errors()] == [field]


@pytest.mark.parametrize("missing", sorted(GOOD))
def test_order_request_requires_every_field(missing):
    body = {k: v for k, v in GOOD.items() if k != missing}
    with pytest.raises(ValidationError) as caught:
        OrderRequest.model_validate_json(json.dumps(body))
    assert caught.value.errors()[0]["loc"] == (missing,)


def test_events_round_trip_through_json_with_camel_case_and_numeric_amount():
    event = PaymentFailed.model_validate(
        {**GOOD, "orderId": "o-1", "reservationId": "RES-1", "reason": "card declined"}
    )
    wire = json.loads(json.dumps(event.to_json_dict()))
    assert wire["amount"] == 19.99 and wire["orderId"] == "o-1"
    assert PaymentFailed.model_validate(wire) == event


def test_every_event_carries_the_order_id_as_correlation_id():
    assert all("orderId" in {f.alias for f in e.model_fields.values()} for e in EVENTS)


def test_a_malformed_event_is_refused():
    with pytest.raises(ValidationError):
        InventoryReserved.model_validate({**GOOD, "orderId": "o-1"})  # no reservationId


def test_routes_wire_the_saga_in_order():
    assert {step: event.__name__ for step, event in ROUTES.items()} == {
        "reserve_inventory": "OrderCreated",
        "charge_payment": "InventoryReserved",
        "notify_shipping": "PaymentCharged",
        "release_inventory": "PaymentFailed",
    }
    assert OrderCreated.source == "saga.orders" and InventoryReserved.source == "saga.inventory"
