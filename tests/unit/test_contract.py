"""The contract between the deployed saga and the tools: names, converters, statuses."""

import pytest

from shared import contract
from shared.domain.order import TERMINAL, Status
from shared.entrypoints.start_saga import STEP as START_SAGA_STEP
from shared.events import EVENTS_BY_NAME, ROUTES
from tools import aws


def test_function_and_log_group_names():
    name = contract.function_name("SagaOrchestration", "reserve_inventory")
    assert name == "SagaOrchestration-reserve-inventory"
    assert contract.log_group(name) == "/aws/lambda/SagaOrchestration-reserve-inventory"
    assert contract.function_name("SagaChoreography", "reconcile") == "SagaChoreography-reconcile"


def test_the_tools_name_a_style_s_functions_as_its_stack_does():
    assert aws.function_name("choreography", "start_saga") == "SagaChoreography-start-saga"
    assert aws.log_group("orchestration", "create_order") == "/aws/lambda/SagaOrchestration-create-order"
    assert aws.STYLES == contract.STYLES == ("orchestration", "choreography", "hybrid")
    assert aws.function_name("hybrid", "notify_customer") == "SagaHybrid-notify-customer"


@pytest.mark.parametrize(
    ("snake_name", "pascal_name"),
    [("reserve_inventory", "ReserveInventory"), ("order_completed", "OrderCompleted"), ("reconcile", "Reconcile")],
)
def test_pascal_and_back(snake_name, pascal_name):
    assert contract.pascal(snake_name) == pascal_name
    assert contract.unpascal(pascal_name) == snake_name


def test_a_final_status_names_the_event_that_reports_it():
    assert contract.pascal("SHIPPING_SCHEDULED") == "ShippingScheduled"
    assert contract.pascal("INVENTORY_RELEASED") == "InventoryReleased"
    reported = {str(s) for s in TERMINAL if contract.pascal(s) in EVENTS_BY_NAME}
    assert reported == contract.TERMINAL_STATUSES - {Status.NEEDS_ATTENTION}


def test_kebab_and_camel():
    assert contract.kebab("notify_shipping") == "notify-shipping"
    assert contract.camel("reservation_id") == "reservationId"
    assert contract.snake("reservationId") == "reservation_id"


def test_terminal_statuses_are_the_domain_s_as_strings():
    expected = {"INVENTORY_FAILED", "SHIPPING_SCHEDULED", "INVENTORY_RELEASED", "NEEDS_ATTENTION"}
    assert expected == contract.TERMINAL_STATUSES
    assert all(type(s) is str for s in contract.TERMINAL_STATUSES)


def test_the_runtime_s_steps_are_the_contract_s():
    assert tuple(ROUTES) == contract.STEPS
    assert START_SAGA_STEP == contract.START_SAGA
