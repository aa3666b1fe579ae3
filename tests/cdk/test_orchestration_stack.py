"""OrchestrationStack: the state machine's shape, error handling, logging and permissions."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from common_checks import CommonStackChecks
from template_helpers import (
    actions,
    function_role,
    functions_by_handler,
    refs,
    resources,
    resources_for_action,
    role_statements,
    state_machine_definition,
)

TRANSIENT = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TransientFault",
}
DOMAIN_ERRORS = {"OutOfStockError", "PaymentDeclinedError"}
TASK_STEPS = {
    "ReserveInventory": "reserve_inventory",
    "ChargePayment": "charge_payment",
    "NotifyShipping": "notify_shipping",
    "ReleaseInventory": "release_inventory",
}


def handler(step: str) -> str:
    return f"orchestration.handlers.{step}.handler"


@pytest.fixture(scope="module")
def template(orchestration_template: Template) -> Template:
    return orchestration_template


@pytest.fixture(scope="module")
def definition(template: Template) -> dict:
    return state_machine_definition(template)[2]


@pytest.fixture(scope="module")
def states(definition: dict) -> dict:
    return definition["States"]


class TestCommon(CommonStackChecks):
    style = "orchestration"
    stack_name = "SagaOrchestration"
    extra_outputs = {"StateMachineArn"}


# --- shape -----------------------------------------------------------------------------------


def test_standard_state_machine(template: Template) -> None:
    _, props, _ = state_machine_definition(template)
    assert props["StateMachineType"] == "STANDARD"


def test_happy_path_order(definition: dict, states: dict) -> None:
    path, name = [], definition["StartAt"]
    while True:
        path.append(name)
        if "Next" not in states[name]:
            break
        name = states[name]["Next"]
    assert path == ["ReserveInventory", "ChargePayment", "NotifyShipping", "OrderCompleted"]
    assert states["OrderCompleted"]["Type"] == "Succeed"


def test_exactly_these_states(states: dict) -> None:
    assert {name: state["Type"] for name, state in states.items()} == {
        "ReserveInventory": "Task",
        "ChargePayment": "Task",
        "NotifyShipping": "Task",
        "ReleaseInventory": "Task",
        "OrderCompleted": "Succeed",
        "OutOfStock": "Fail",
        "PaymentFailed": "Fail",
    }


def test_each_task_invokes_its_step_function(template: Template, states: dict) -> None:
    functions = functions_by_handler(template)
    for state_name, step in TASK_STEPS.items():
        logical_id, _ = functions[handler(step)]
        assert states[state_name]["Resource"] == logical_id, state_name


def test_tasks_pass_the_handler_result_unchanged(states: dict) -> None:
    # Function ARN as Resource (payload_response_only): input is the whole state input, output is
    # exactly what the handler returned. No path or parameter rewriting on the way.
    for state_name in TASK_STEPS:
        state = states[state_name]
        for key in ("Parameters", "InputPath", "OutputPath", "ResultPath", "ResultSelector"):
            assert key not in state, (state_name, key)


# --- errors ----------------------------------------------------------------------------------


def test_out_of_stock_fails_without_compensation(states: dict) -> None:
    (catcher,) = states["ReserveInventory"]["Catch"]
    assert catcher["ErrorEquals"] == ["OutOfStockError"]
    assert catcher["Next"] == "OutOfStock"
    assert states["OutOfStock"]["Type"] == "Fail"
    assert states["OutOfStock"]["Error"] == "OutOfStockError"


def test_payment_failure_releases_inventory_then_fails(states: dict) -> None:
    (catcher,) = states["ChargePayment"]["Catch"]
    assert catcher["ErrorEquals"] == ["States.ALL"]
    assert catcher["ResultPath"] == "$.error"  # keeps InventoryReserved, adds error {Error, Cause}
    assert catcher["Next"] == "ReleaseInventory"
    assert states["ReleaseInventory"]["Next"] == "PaymentFailed"
    assert states["PaymentFailed"]["Type"] == "Fail"


def test_no_catch_after_payment_or_on_compensation(states: dict) -> None:
    assert "Catch" not in states["NotifyShipping"]
    assert "Catch" not in states["ReleaseInventory"]


@pytest.mark.parametrize("state_name,max_attempts", [
    ("ReserveInventory", 6),
    ("ChargePayment", 6),
    ("NotifyShipping", 6),
    ("ReleaseInventory", 8),
])
def test_retries_only_transient_lambda_errors(states: dict, state_name: str, max_attempts: int) -> None:
    (retrier,) = states[state_name]["Retry"]
    assert set(retrier["ErrorEquals"]) == TRANSIENT
    assert retrier["IntervalSeconds"] == 1
    assert retrier["BackoffRate"] == 2
    assert retrier["MaxAttempts"] == max_attempts
    assert retrier["JitterStrategy"] == "FULL"


def test_domain_errors_are_never_retried(states: dict) -> None:
    for name, state in states.items():
        for retrier in state.get("Retry", []):
            errors = set(retrier["ErrorEquals"])
            assert not errors & (DOMAIN_ERRORS | {"States.ALL", "States.TaskFailed"}), name


# --- observability ---------------------------------------------------------------------------


def test_logging_all_with_execution_data_and_tracing(template: Template) -> None:
    _, props, _ = state_machine_definition(template)
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is True
    (destination,) = logging["Destinations"]
    (group_id,) = refs(destination["CloudWatchLogsLogGroup"]["LogGroupArn"])
    group = resources(template, "AWS::Logs::LogGroup")[group_id]
    assert group["Properties"]["RetentionInDays"] <= 14
    assert props["TracingConfiguration"] == {"Enabled": True}


# --- permissions -----------------------------------------------------------------------------


def test_state_machine_may_invoke_exactly_the_four_steps(template: Template) -> None:
    sm_id, props, _ = state_machine_definition(template)
    (role_id,) = refs(props["RoleArn"])
    statements = role_statements(template, role_id)
    functions = functions_by_handler(template)
    expected = {functions[handler(step)][0] for step in TASK_STEPS.values()}
    assert resources_for_action(statements, "lambda:InvokeFunction") == expected
    assert {a for a in actions(statements) if a.startswith("lambda:")} == {"lambda:InvokeFunction"}


def test_only_create_order_may_start_executions(template: Template) -> None:
    sm_id, _, _ = state_machine_definition(template)
    for name, (_, props) in functions_by_handler(template).items():
        statements = role_statements(template, function_role(props))
        states_actions = {a for a in actions(statements) if a.startswith("states:")}
        if name == handler("create_order"):
            assert states_actions == {"states:StartExecution"}
            assert resources_for_action(statements, "states:StartExecution") == {sm_id}
        else:
            assert not states_actions, name


def test_create_order_knows_the_state_machine(template: Template) -> None:
    sm_id, _, _ = state_machine_definition(template)
    env = functions_by_handler(template)[handler("create_order")][1]["Environment"]["Variables"]
    assert refs(env["STATE_MACHINE_ARN"]) == {sm_id}
    for name, (_, props) in functions_by_handler(template).items():
        if name != handler("create_order"):
            assert "STATE_MACHINE_ARN" not in props["Environment"]["Variables"], name


def test_no_eventbridge_in_orchestration(template: Template) -> None:
    for name, (_, props) in functions_by_handler(template).items():
        statements = role_statements(template, function_role(props))
        assert not {a for a in actions(statements) if a.startswith("events:")}, name
        assert "EVENT_BUS_NAME" not in props["Environment"]["Variables"], name
    assert not resources(template, "AWS::Events::EventBus")


def test_outputs_point_at_the_state_machine(template: Template) -> None:
    sm_id, _, _ = state_machine_definition(template)
    outputs = template.to_json()["Outputs"]
    assert refs(outputs["StateMachineArn"]["Value"]) == {sm_id}
