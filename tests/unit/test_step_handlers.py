"""The step Lambdas of both styles, with their real DynamoDB and EventBridge adapters on moto."""

import json
import uuid

import pytest
from pydantic import ValidationError

from choreography.handlers import charge_payment as c_charge
from choreography.handlers import notify_shipping as c_notify
from choreography.handlers import refund_payment as c_refund
from choreography.handlers import release_inventory as c_release
from choreography.handlers import reserve_inventory as c_reserve
from orchestration.handlers import charge_payment as o_charge
from orchestration.handlers import notify_shipping as o_notify
from orchestration.handlers import refund_payment as o_refund
from orchestration.handlers import release_inventory as o_release
from orchestration.handlers import reserve_inventory as o_reserve
from shared import faults
from shared.domain.errors import (
    AlreadyShipped,
    OutOfStockError,
    PaymentDeclinedError,
    ShippingRefusedError,
)
from shared.domain.payment import Entry
from shared.entrypoints.runtime import payment_ledger, saga_store
from shared.events import (
    MAX_REASON_LENGTH,
    InventoryReserved,
    OrderCreated,
    OrderRequest,
    PaymentCharged,
    PaymentFailed,
    PaymentRefunded,
    ShippingFailed,
)
from shared.steps import create_order, outcome_event
from tests.unit.lambda_events import LambdaContext, bus_event


def new_order(**overrides) -> dict:
    fields = {"customerId": "CUST-1", "sku": "SKU-1", "quantity": 2, "amount": 19.99}
    order, _ = create_order(OrderRequest.model_validate({**fields, **overrides}), saga_store())
    return outcome_event(order, OrderCreated).to_json_dict()


def ledger(order_id: str) -> list[Entry]:
    return sorted(e.entry for e in payment_ledger().entries(order_id))


def invoke(module, event: dict) -> dict:
    return module.handler(event, LambdaContext(aws_request_id=str(uuid.uuid4())))


def order(order_id: str) -> dict:
    return saga_store().get(order_id).as_record()


# --- orchestration: state input in, state output out, failures raised by name ---


def test_orchestration_tasks_run_the_happy_path(tables):
    created = new_order()
    reserved = invoke(o_reserve, created)
    charged = invoke(o_charge, reserved)
    shipped = invoke(o_notify, charged)
    record = order(created["orderId"])
    assert record["status"] == "SHIPPING_SCHEDULED"
    assert shipped["trackingNumber"] == record["trackingNumber"]
    assert (reserved["reservationId"], charged["paymentId"]) == (
        record["reservationId"],
        record["paymentId"],
    )
    assert saga_store().stock("SKU-1") == 3


def test_orchestration_reserve_raises_out_of_stock_for_the_catch(tables):
    created = new_order(sku="OUT-OF-STOCK")
    with pytest.raises(OutOfStockError, match="out of stock"):
        invoke(o_reserve, created)
    assert order(created["orderId"])["failureReason"] == "out of stock"


def test_orchestration_declined_payment_raises_then_compensation_releases(tables):
    created = new_order(customerId="CUST-DECLINE")
    reserved = invoke(o_reserve, created)
    with pytest.raises(PaymentDeclinedError, match="card declined"):
        invoke(o_charge, reserved)
    assert saga_store().stock("SKU-1") == 3
    caught = {
        "Error": "PaymentDeclinedError",
        "Cause": '{"errorMessage": "card declined", "errorType": "PaymentDeclinedError"}',
    }
    released = invoke(o_release, {**reserved, "error": caught})
    assert ledger(created["orderId"]) == []
    record = order(created["orderId"])
    assert record["status"] == "INVENTORY_RELEASED" and released["reason"] == "card declined"
    assert record["reservationId"] == reserved["reservationId"]
    assert saga_store().stock("SKU-1") == 5
    invoke(o_release, {**reserved, "error": caught})  # a retried compensation
    assert saga_store().stock("SKU-1") == 5


def test_orchestration_undeliverable_order_is_refunded_then_released(tables):
    created = new_order(customerId="CUST-UNDELIVERABLE")
    charged = invoke(o_charge, invoke(o_reserve, created))
    with pytest.raises(ShippingRefusedError, match="address undeliverable"):
        invoke(o_notify, charged)
    caught = {"Error": "ShippingRefusedError", "Cause": '{"errorMessage": "address undeliverable"}'}
    refunded = invoke(o_refund, {**charged, "error": caught})
    released = invoke(o_release, refunded)
    record = order(created["orderId"])
    assert record["status"] == "INVENTORY_RELEASED" and record["failureReason"] == "address undeliverable"
    assert (record["paymentId"], record["refundId"]) == (charged["paymentId"], refunded["refundId"])
    assert released["refundId"] == refunded["refundId"]
    assert ledger(created["orderId"]) == [Entry.CHARGE, Entry.REFUND]
    assert saga_store().stock("SKU-1") == 5


def test_orchestration_charge_lost_after_it_was_recorded_is_refunded_not_stranded(tables):
    created = new_order()
    reserved = invoke(o_reserve, created)
    invoke(o_charge, reserved)  # charged, but say its answer never reached the state machine
    caught = {"Error": "States.Timeout", "Cause": ""}
    refunded = invoke(o_refund, {**reserved, "error": caught})
    invoke(o_release, refunded)
    record = order(created["orderId"])
    assert record["status"] == "INVENTORY_RELEASED" and record["refundId"]
    assert record["failureReason"] == "shipping did not complete: States.Timeout"
    assert ledger(created["orderId"]) == [Entry.CHARGE, Entry.REFUND]


def test_orchestration_compensation_fits_any_caught_error_into_the_bounded_reason(tables):
    created = new_order()
    reserved = invoke(o_reserve, created)
    invoke(o_charge, reserved)
    # A caught error's message can be long and span lines (a validation error, a traceback).
    message = "1 validation error for PaymentCharged\npaymentId\n  Field required " + "x" * 2000
    caught = {"Error": "ValidationError", "Cause": json.dumps({"errorMessage": message})}
    refunded = invoke(o_refund, {**reserved, "error": caught})
    released = invoke(o_release, refunded)
    reason = order(created["orderId"])["failureReason"]
    assert reason.startswith("shipping did not complete: 1 validation error for PaymentCharged paymentId Field")
    assert len(reason) == MAX_REASON_LENGTH and reason.isprintable()
    assert refunded["reason"] == released["reason"] == reason
    assert ledger(created["orderId"]) == [Entry.CHARGE, Entry.REFUND]


def test_orchestration_compensation_of_a_shipped_order_is_refused_by_name(tables):
    created = new_order()
    charged = invoke(o_charge, invoke(o_reserve, created))
    invoke(o_notify, charged)  # shipped; its answer lost
    with pytest.raises(AlreadyShipped):
        invoke(o_refund, {**charged, "error": {"Error": "States.Timeout"}})
    assert order(created["orderId"])["status"] == "SHIPPING_SCHEDULED"
    assert ledger(created["orderId"]) == [Entry.CHARGE]


def test_orchestration_task_refuses_malformed_input_and_changes_nothing(tables):
    created = new_order()
    with pytest.raises(ValidationError):
        invoke(o_reserve, {**created, "quantity": "lots"})
    assert order(created["orderId"])["status"] == "CREATED"
    assert saga_store().stock("SKU-1") == 5


# --- choreography: bus event in, outcome published ---


def deliver(module, event_type, detail: dict) -> dict:
    return invoke(module, bus_event(event_type.detail_type(), event_type.source, detail))


def published(bus) -> list[tuple[str, str]]:
    return [(e["source"], e["detail-type"]) for e in bus.events()]


def test_choreography_services_react_and_publish_each_outcome(tables, bus):
    created = new_order()
    reserved = deliver(c_reserve, OrderCreated, created)
    charged = deliver(c_charge, InventoryReserved, reserved)
    deliver(c_notify, PaymentCharged, charged)
    assert published(bus) == [
        ("saga.inventory", "InventoryReserved"),
        ("saga.payment", "PaymentCharged"),
        ("saga.shipping", "ShippingScheduled"),
    ]
    assert order(created["orderId"])["status"] == "SHIPPING_SCHEDULED"


def test_choreography_decline_publishes_payment_failed_and_release_compensates(tables, bus):
    created = new_order(customerId="CUST-DECLINE")
    reserved = deliver(c_reserve, OrderCreated, created)
    failed = deliver(c_charge, InventoryReserved, reserved)
    deliver(c_release, PaymentFailed, failed)
    deliver(c_release, PaymentFailed, failed)  # at-least-once delivery: a duplicate
    assert [t for _, t in published(bus)] == [
        "InventoryReserved",
        "PaymentFailed",
        "InventoryReleased",
        "InventoryReleased",
    ]
    assert order(created["orderId"])["status"] == "INVENTORY_RELEASED"
    assert saga_store().stock("SKU-1") == 5


def test_choreography_undeliverable_order_is_refunded_then_released(tables, bus):
    created = new_order(customerId="CUST-UNDELIVERABLE")
    reserved = deliver(c_reserve, OrderCreated, created)
    charged = deliver(c_charge, InventoryReserved, reserved)
    failed = deliver(c_notify, PaymentCharged, charged)
    refunded = deliver(c_refund, ShippingFailed, failed)
    deliver(c_refund, ShippingFailed, failed)  # a duplicate refunds nothing twice
    deliver(c_release, PaymentRefunded, refunded)
    assert [t for _, t in published(bus)][2:] == [
        "ShippingFailed",
        "PaymentRefunded",
        "PaymentRefunded",
        "InventoryReleased",
    ]
    record = order(created["orderId"])
    assert record["status"] == "INVENTORY_RELEASED" and record["refundId"] == refunded["refundId"]
    assert ledger(created["orderId"]) == [Entry.CHARGE, Entry.REFUND]
    assert saga_store().stock("SKU-1") == 5


def test_choreography_service_refuses_an_event_it_does_not_react_to(tables, bus):
    created = new_order()
    with pytest.raises(ValueError, match="does not react to OrderCreated"):
        deliver(c_release, OrderCreated, created)
    assert bus.events() == []


def test_choreography_out_of_stock_publishes_inventory_failed(tables, bus):
    created = new_order(quantity=9)
    deliver(c_reserve, OrderCreated, created)
    assert published(bus) == [("saga.inventory", "InventoryFailed")]
    assert saga_store().stock("SKU-1") == 5


def test_choreography_malformed_event_fails_loudly_and_changes_nothing(tables, bus):
    created = new_order()
    with pytest.raises(ValidationError):
        deliver(c_reserve, OrderCreated, {k: v for k, v in created.items() if k != "sku"})
    assert order(created["orderId"])["status"] == "CREATED" and bus.events() == []


# --- injected faults: a retried step never doubles its effect ---


@pytest.mark.parametrize("module", [o_reserve, c_reserve], ids=["orchestration", "choreography"])
def test_a_fault_after_the_write_is_retried_without_reserving_twice(tables, bus, monkeypatch, module):
    created = new_order()
    event = created if module is o_reserve else bus_event("OrderCreated", "saga.orders", created)
    draws = iter([0.9, 0.1])  # no fault before the step, a fault after it committed
    monkeypatch.setattr(faults.random, "random", lambda: next(draws))
    monkeypatch.setenv("SAGA_FAULT_RATE", "0.5")
    with pytest.raises(faults.TransientFault, match="after reserve_inventory"):
        invoke(module, event)
    assert saga_store().stock("SKU-1") == 3
    monkeypatch.delenv("SAGA_FAULT_RATE")
    retried = invoke(module, event)
    assert retried["reservationId"] == order(created["orderId"])["reservationId"]
    assert saga_store().stock("SKU-1") == 3


def test_faults_are_off_unless_the_rate_is_set(tables, monkeypatch):
    monkeypatch.setattr(faults.random, "random", lambda: 0.0)
    invoke(o_reserve, new_order())  # would fail at any positive rate
    monkeypatch.setenv("SAGA_FAULT_RATE", "0.01")
    with pytest.raises(faults.TransientFault, match="before reserve_inventory"):
        invoke(o_reserve, new_order())
