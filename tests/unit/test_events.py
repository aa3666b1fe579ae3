import json
from decimal import Decimal
from typing import get_args

import pytest
from pydantic import ValidationError

from shared.events import (
    EVENTS,
    EVENTS_BY_NAME,
    MAX_ID_LENGTH,
    MAX_REASON_LENGTH,
    ROUTES,
    InventoryReleased,
    InventoryReserved,
    OrderCreated,
    OrderRequest,
    PaymentFailed,
    PaymentRefunded,
    ShippingFailed,
    ShippingScheduled,
    StepFailed,
    fit_reason,
)

GOOD = {"customerId": "CUST-1", "sku": "SKU-1", "quantity": 2, "amount": 19.99}
CHARGED = {**GOOD, "orderId": "o-1", "reservationId": "RES-1", "paymentId": "PAY-1"}


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
    assert {step: [e.__name__ for e in events] for step, events in ROUTES.items()} == {
        "reserve_inventory": ["OrderCreated"],
        "charge_payment": ["InventoryReserved"],
        "notify_shipping": ["PaymentCharged"],
        "refund_payment": ["ShippingFailed"],
        "release_inventory": ["PaymentFailed", "PaymentRefunded"],
    }
    assert OrderCreated.source == "saga.orders" and InventoryReserved.source == "saga.inventory"


def test_every_routed_event_is_a_published_event():
    assert {e for events in ROUTES.values() for e in events} <= set(EVENTS)


def test_events_are_found_by_their_detail_type():
    assert EVENTS_BY_NAME["ShippingFailed"] is ShippingFailed
    assert EVENTS_BY_NAME["PaymentRefunded"] is PaymentRefunded
    assert set(EVENTS_BY_NAME.values()) == set(EVENTS) and len(EVENTS_BY_NAME) == len(EVENTS)
    assert "StepFailed" not in EVENTS_BY_NAME  # never on the bus


@pytest.mark.parametrize(
    ("event", "source"),
    [
        (ShippingFailed, "saga.shipping"),
        (PaymentRefunded, "saga.payment"),
        (InventoryReleased, "saga.inventory"),
    ],
)
def test_new_events_come_from_the_service_that_decides_them(event, source):
    assert event.source == source


def test_shipping_failed_needs_the_charge_and_a_reason():
    event = ShippingFailed.model_validate({**CHARGED, "reason": "address undeliverable"})
    assert ShippingFailed.model_validate(event.to_json_dict()) == event
    with pytest.raises(ValidationError):
        ShippingFailed.model_validate(CHARGED)  # no reason
    with pytest.raises(ValidationError):
        ShippingFailed.model_validate({**CHARGED, "paymentId": None, "reason": "r"})


def test_payment_refunded_needs_the_refund_id_and_a_reason():
    event = PaymentRefunded.model_validate({**CHARGED, "refundId": "REF-1", "reason": "r"})
    assert event.to_json_dict()["refundId"] == "REF-1"
    with pytest.raises(ValidationError):
        PaymentRefunded.model_validate({**CHARGED, "reason": "r"})
    with pytest.raises(ValidationError):
        PaymentRefunded.model_validate({**CHARGED, "refundId": 7, "reason": "r"})


def test_inventory_released_carries_payment_and_refund_only_when_there_were_any():
    declined = {**GOOD, "orderId": "o-1", "reservationId": "RES-1", "reason": "card declined"}
    bare = InventoryReleased.model_validate(declined)
    assert (bare.payment_id, bare.refund_id) == (None, None)
    assert {"paymentId", "refundId"}.isdisjoint(bare.to_json_dict())
    refunded = InventoryReleased.model_validate({**declined, "paymentId": "P", "refundId": "R"})
    assert {"paymentId": "P", "refundId": "R"}.items() <= refunded.to_json_dict().items()
    assert InventoryReleased.model_validate(refunded.to_json_dict()) == refunded


def test_step_failed_is_just_the_order_and_why():
    failed = StepFailed.model_validate({"orderId": "o-1", "reason": "States.Timeout"})
    assert failed.to_json_dict() == {"orderId": "o-1", "reason": "States.Timeout"}
    with pytest.raises(ValidationError):
        StepFailed.model_validate({"orderId": "o-1"})
    with pytest.raises(ValidationError):
        StepFailed.model_validate({"orderId": "", "reason": "r"})
    with pytest.raises(ValidationError):
        StepFailed.model_validate({"orderId": "o-1", "reason": "r", "Cause": "x"})


@pytest.mark.parametrize(
    ("event", "body"),
    [
        (ShippingFailed, {**CHARGED, "reason": "r"}),
        (PaymentRefunded, {**CHARGED, "refundId": "REF-1", "reason": "r"}),
        (StepFailed, {"orderId": "o-1", "reason": "r"}),
    ],
)
def test_new_events_refuse_unknown_fields(event, body):
    event.model_validate(body)
    with pytest.raises(ValidationError) as caught:
        event.model_validate({**body, "surprise": 1})
    assert [e["loc"][0] for e in caught.value.errors()] == ["surprise"]


# --- every string of every model: bounded, printable, not blank --------------------------------

MODELS = (OrderRequest, *EVENTS, StepFailed)
# One valid value for every field any model has.
EVERY_FIELD = {**CHARGED, "reason": "card declined", "trackingNumber": "TRK-1", "refundId": "REF-1"}


def valid_body(model) -> dict:
    wanted = {f.alias or name for name, f in model.model_fields.items()}
    return {k: v for k, v in EVERY_FIELD.items() if k in wanted}


STRING_FIELDS = [
    (model, field.alias or name)
    for model in MODELS
    for name, field in model.model_fields.items()
    if str in (field.annotation, *get_args(field.annotation))
]
UNPRINTABLE = ["a\x00b", "a\nb", "a\rb", "a\tb", "a\x7fb", "a\u2028b", "a\u200bb"]
BLANK = ["", " ", "   ", "\t", "\n"]


def test_every_string_field_of_every_model_is_checked():
    assert {alias for _, alias in STRING_FIELDS} == {
        "customerId",
        "sku",
        "orderId",
        "reservationId",
        "paymentId",
        "trackingNumber",
        "refundId",
        "reason",
    }
    for model in MODELS:
        model.model_validate(valid_body(model))


@pytest.mark.parametrize("bad", [*UNPRINTABLE, *BLANK, "x" * 1000], ids=repr)
@pytest.mark.parametrize(("model", "field"), STRING_FIELDS, ids=lambda v: getattr(v, "__name__", v))
def test_a_string_field_refuses_control_characters_blank_and_oversized_text(model, field, bad):
    with pytest.raises(ValidationError) as caught:
        model.model_validate({**valid_body(model), field: bad})
    assert [e["loc"][0] for e in caught.value.errors()] == [field]


@pytest.mark.parametrize(
    ("model", "field", "bound"),
    [
        (OrderRequest, "customerId", MAX_ID_LENGTH),
        (StepFailed, "orderId", MAX_ID_LENGTH),
        (PaymentRefunded, "reservationId", MAX_ID_LENGTH),
        (PaymentRefunded, "paymentId", MAX_ID_LENGTH),
        (PaymentRefunded, "refundId", MAX_ID_LENGTH),
        (ShippingScheduled, "trackingNumber", MAX_ID_LENGTH),
        (PaymentRefunded, "reason", MAX_REASON_LENGTH),
    ],
)
def test_string_bounds_are_exact(model, field, bound):
    body = {**valid_body(model), field: "A" * bound}
    assert model.model_validate(body).to_json_dict()[field] == "A" * bound
    with pytest.raises(ValidationError) as caught:
        model.model_validate({**body, field: "A" * (bound + 1)})
    assert [e["loc"][0] for e in caught.value.errors()] == [field]


@pytest.mark.parametrize("order_id", ["o 1", "o_1", "o.1", "o/1", "\u00e9t\u00e9", "o%201"])
def test_an_order_id_is_letters_digits_and_dashes_only(order_id):
    with pytest.raises(ValidationError):
        StepFailed.model_validate({"orderId": order_id, "reason": "r"})


def test_printable_text_with_inner_spaces_and_non_ascii_letters_is_accepted():
    body = {**GOOD, "customerId": "Caf\u00e9 Ren\u00e9 #7"}
    assert OrderRequest.model_validate_json(json.dumps(body)).customer_id == "Caf\u00e9 Ren\u00e9 #7"


def test_fit_reason_makes_any_caught_message_a_valid_reason():
    caught = "Traceback:\n  File x\x00\r\n\tboom " + "y" * 1000
    fitted = fit_reason(f"shipping did not complete: {caught}")
    assert len(fitted) == MAX_REASON_LENGTH and fitted.endswith("...")
    assert fitted.startswith("shipping did not complete: Traceback: File x boom yyy")
    assert StepFailed.model_validate({"orderId": "o-1", "reason": fitted}).reason == fitted
    assert fit_reason("card declined") == "card declined"
    assert fit_reason("R" * MAX_REASON_LENGTH) == "R" * MAX_REASON_LENGTH
    assert fit_reason(" \n\t\x00 ") == ""
