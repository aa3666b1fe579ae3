"""OrchestrationStack: the state machine's shape, error handling, retry budget, logging and permissions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aws_cdk.assertions import Template

from tests.cdk.common_checks import CREATE_ORDER, GET_ORDER, CommonStackChecks
from tests.cdk.template_helpers import (
    actions,
    flatten,
    function_role,
    functions_by_handler,
    refs,
    resources,
    resources_for_action,
    role_statements,
    state_machine_definition,
)

# Business answers: never retried.
DOMAIN_ERRORS = [
    "OutOfStockError",
    "PaymentDeclinedError",
    "ShippingRefusedError",
    "AlreadyShipped",
    "OrderNeedsAttention",
]
# Task state -> the step it runs; forward steps retry 5 times, compensations 8.
TASK_STEPS = {
    "ReserveInventory": "reserve_inventory",
    "ChargePayment": "charge_payment",
    "NotifyShipping": "notify_shipping",
    "ReleaseInventory": "release_inventory",
    "CancelPayment": "refund_payment",
    "ReleaseAfterCancel": "release_inventory",
    "RefundPayment": "refund_payment",
    "ReleaseAfterRefund": "release_inventory",
}
FORWARD = {"ReserveInventory", "ChargePayment", "NotifyShipping"}
STEP_RETRIES, COMPENSATION_RETRIES = 5, 8
# Worst case of the longest path with 10 s Lambdas, delays 1, 2, 4, 8, 8... s:
# steps 6 x 10 + 23 = 83 s each, compensations 9 x 10 + 47 = 137 s each; 3 x 83 + 2 x 137 = 523 s.
WORST_CASE_SECONDS = 523
SAGA_TIMEOUT_SECONDS = 600


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


@pytest.fixture(scope="module")
def sm_id(template: Template) -> str:
    return state_machine_definition(template)[0]


class TestCommon(CommonStackChecks):
    style = "orchestration"
    stack_name = "SagaOrchestration"
    extra_outputs = frozenset({"StateMachineArn"})
    extra_alarms = frozenset({"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"})


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
        **{name: "Task" for name in TASK_STEPS},
        "OrderCompleted": "Succeed",
        "OutOfStock": "Succeed",
        "PaymentFailed": "Succeed",
        "PaymentIncomplete": "Succeed",
        "ShippingFailed": "Succeed",
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


# --- errors and compensation -----------------------------------------------------------------


def catches(states: dict, name: str) -> list[tuple[list[str], str, str | None]]:
    return [(c["ErrorEquals"], c["Next"], c.get("ResultPath")) for c in states[name].get("Catch", [])]


def test_out_of_stock_ends_without_compensation(states: dict) -> None:
    assert catches(states, "ReserveInventory") == [(["OutOfStockError"], "OutOfStock", "$.error")]
    assert states["OutOfStock"]["Type"] == "Succeed"


def test_declined_payment_releases_inventory_then_ends(states: dict) -> None:
    first, _ = catches(states, "ChargePayment")
    assert first == (["PaymentDeclinedError"], "ReleaseInventory", "$.error")  # keeps InventoryReserved
    assert states["ReleaseInventory"]["Next"] == "PaymentFailed"
    assert states["PaymentFailed"]["Type"] == "Succeed"


def test_any_other_payment_error_cancels_the_payment_then_releases(states: dict) -> None:
    _, last = catches(states, "ChargePayment")  # after the declined catch: States.ALL comes last
    assert last == (["States.ALL"], "CancelPayment", "$.error")
    assert states["CancelPayment"]["Next"] == "ReleaseAfterCancel"
    assert states["ReleaseAfterCancel"]["Next"] == "PaymentIncomplete"
    assert states["PaymentIncomplete"]["Type"] == "Succeed"


def test_shipping_failure_refunds_then_releases(states: dict) -> None:
    # ShippingRefusedError is one of "any error": it is caught here, never retried.
    assert catches(states, "NotifyShipping") == [(["States.ALL"], "RefundPayment", "$.error")]
    assert states["RefundPayment"]["Next"] == "ReleaseAfterRefund"
    assert states["ReleaseAfterRefund"]["Next"] == "ShippingFailed"
    assert states["ShippingFailed"]["Type"] == "Succeed"


def test_a_refund_of_a_shipped_order_completes_it(states: dict) -> None:
    for name in ("CancelPayment", "RefundPayment"):
        assert catches(states, name) == [(["AlreadyShipped"], "OrderCompleted", "$.error")], name


def test_every_end_is_a_success_and_says_which_compensation_ran(states: dict) -> None:
    # A consistent end is not an execution failure: only a saga that could not get there fails
    # (and trips the failed-executions alarm).
    assert [name for name, state in states.items() if state["Type"] == "Fail"] == []
    # The one state before each end: the compensation that ran last (OutOfStock: none).
    last_compensation = {
        "OutOfStock": [],
        "PaymentFailed": ["ReleaseInventory"],
        "PaymentIncomplete": ["ReleaseAfterCancel"],
        "ShippingFailed": ["ReleaseAfterRefund"],
    }
    for fail, expected in last_compensation.items():
        assert [name for name, state in states.items() if state.get("Next") == fail] == expected, fail


def test_compensations_catch_nothing_but_already_shipped(states: dict) -> None:
    for name in ("ReleaseInventory", "ReleaseAfterCancel", "ReleaseAfterRefund"):
        assert "Catch" not in states[name], name


# --- retries and the saga's timeout ------------------------------------------------------------


@pytest.mark.parametrize("state_name", sorted(TASK_STEPS))
def test_domain_errors_first_never_retried_then_everything_else_with_capped_jittered_backoff(
    states: dict, state_name: str
) -> None:
    domain, everything = states[state_name]["Retry"]
    assert domain == {"ErrorEquals": DOMAIN_ERRORS, "MaxAttempts": 0}
    assert everything == {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 1,
        "BackoffRate": 2,
        "MaxDelaySeconds": 8,
        "MaxAttempts": STEP_RETRIES if state_name in FORWARD else COMPENSATION_RETRIES,
        "JitterStrategy": "FULL",
    }


def test_domain_errors_are_never_retried(states: dict) -> None:
    for name, state in states.items():
        seen: set[str] = set()
        for retrier in state.get("Retry", []):
            errors = set(retrier["ErrorEquals"])
            if retrier.get("MaxAttempts", 3) > 0:
                # A retrier that retries may only see errors that no earlier retrier took.
                assert not (errors - {"States.ALL"}) & set(DOMAIN_ERRORS), name
                assert set(DOMAIN_ERRORS) <= seen, name
            seen |= errors


def _task_budget(state: dict, lambda_timeout: int) -> float:
    """Every attempt to the Lambda timeout, every wait its longest (full jitter only shortens it)."""
    (retrier,) = [r for r in state["Retry"] if r["ErrorEquals"] == ["States.ALL"]]
    attempts = retrier["MaxAttempts"]
    delays = [
        min(retrier["IntervalSeconds"] * retrier["BackoffRate"] ** n, retrier["MaxDelaySeconds"])
        for n in range(attempts)
    ]
    return (attempts + 1) * lambda_timeout + sum(delays)


def _longest_path(states: dict, name: str, budget: Callable[[str], float]) -> float:
    state = states[name]
    if state["Type"] != "Task":
        return 0.0
    following = [state["Next"]] + [c["Next"] for c in state.get("Catch", [])]
    return budget(name) + max(_longest_path(states, n, budget) for n in following)


def test_saga_timeout_outlasts_the_worst_case_retry_budget(template: Template, definition: dict) -> None:
    functions = {logical_id: props for logical_id, props in functions_by_handler(template).values()}
    states = definition["States"]

    def budget(name: str) -> float:
        return _task_budget(states[name], functions[states[name]["Resource"]]["Timeout"])

    worst = _longest_path(states, definition["StartAt"], budget)
    assert worst == WORST_CASE_SECONDS  # reserve, charge, notify, refund, release
    assert definition["TimeoutSeconds"] == SAGA_TIMEOUT_SECONDS > worst


def test_module_constants_state_the_same_numbers() -> None:
    from orchestration.infra import stack

    assert stack.WORST_CASE_SECONDS == WORST_CASE_SECONDS
    assert stack.SAGA_TIMEOUT.to_seconds() == SAGA_TIMEOUT_SECONDS
    assert stack.TASK_STEPS == TASK_STEPS


# --- observability ---------------------------------------------------------------------------


def test_logging_errors_only_without_execution_data_and_tracing(template: Template) -> None:
    """Local target: LocalStack writes these logs on the execution's critical path; `make compare`
    reads the execution history, not them (the aws target logs ALL: test_aws_orchestration)."""
    _, props, _ = state_machine_definition(template)
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ERROR"
    assert logging["IncludeExecutionData"] is False
    (destination,) = logging["Destinations"]
    (group_id,) = refs(destination["CloudWatchLogsLogGroup"]["LogGroupArn"])
    group = resources(template, "AWS::Logs::LogGroup")[group_id]
    assert group["Properties"]["RetentionInDays"] <= 14
    assert props["TracingConfiguration"] == {"Enabled": True}


@pytest.mark.parametrize("metric", ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"])
def test_execution_alarms(alarms: dict[str, dict], sm_id: str, metric: str) -> None:
    props = alarms[f"SagaOrchestration-{metric}"]
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/States", metric, "Sum")
    (dimension,) = props["Dimensions"]
    assert dimension["Name"] == "StateMachineArn" and refs(dimension["Value"]) == {sm_id}
    assert props["Threshold"] == 0


# --- permissions -----------------------------------------------------------------------------


def test_state_machine_may_invoke_exactly_the_five_steps(template: Template) -> None:
    _, props, _ = state_machine_definition(template)
    (role_id,) = refs(props["RoleArn"])
    statements = role_statements(template, role_id)
    functions = functions_by_handler(template)
    expected = {functions[handler(step)][0] for step in set(TASK_STEPS.values())}
    assert len(expected) == 5
    assert resources_for_action(statements, "lambda:InvokeFunction") == expected
    assert {a for a in actions(statements) if a.startswith("lambda:")} == {"lambda:InvokeFunction"}


def test_only_the_relay_and_the_reconciler_may_start_executions(template: Template, sm_id: str) -> None:
    starters = {handler("start_saga"), handler("reconcile")}
    for name, (_, props) in functions_by_handler(template).items():
        statements = role_statements(template, function_role(props))
        states_actions = {a for a in actions(statements) if a.startswith("states:")}
        if name == handler("start_saga"):
            assert states_actions == {"states:StartExecution"}
        elif name == handler("reconcile"):
            assert states_actions == {"states:StartExecution", "states:DescribeExecution", "states:ListExecutions"}
            assert resources_for_action(statements, "states:ListExecutions") == {sm_id}
        else:
            assert not states_actions, name
        if name in starters:
            assert resources_for_action(statements, "states:StartExecution") == {sm_id}, name
    assert not {CREATE_ORDER, GET_ORDER} & starters


def test_reconciler_reads_the_executions_of_this_state_machine_only(template: Template, sm_id: str) -> None:
    _, props = functions_by_handler(template)[handler("reconcile")]
    statements = role_statements(template, function_role(props))
    (statement,) = [s for s in statements if s["Action"] == "states:DescribeExecution"]
    assert flatten(statement["Resource"]) == (
        f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<{sm_id}.Name>:*"
    )


def test_only_the_relay_and_the_reconciler_know_the_state_machine(template: Template, sm_id: str) -> None:
    for name, (_, props) in functions_by_handler(template).items():
        env = props["Environment"]["Variables"]
        if name in {handler("start_saga"), handler("reconcile")}:
            assert refs(env["STATE_MACHINE_ARN"]) == {sm_id}, name
        else:
            assert "STATE_MACHINE_ARN" not in env, name


def test_no_eventbridge_bus_in_orchestration(template: Template) -> None:
    for name, (_, props) in functions_by_handler(template).items():
        statements = role_statements(template, function_role(props))
        assert not {a for a in actions(statements) if a.startswith("events:")}, name
        assert "EVENT_BUS_NAME" not in props["Environment"]["Variables"], name
    assert not resources(template, "AWS::Events::EventBus")
    # The one rule is the reconciler's schedule, on the default bus.
    assert [r["Properties"]["ScheduleExpression"] for r in resources(template, "AWS::Events::Rule").values()] == [
        "rate(1 minute)"
    ]


def test_outputs_point_at_the_state_machine(template: Template, sm_id: str) -> None:
    outputs = template.to_json()["Outputs"]
    assert refs(outputs["StateMachineArn"]["Value"]) == {sm_id}
