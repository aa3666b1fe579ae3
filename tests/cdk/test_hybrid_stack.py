"""HybridStack: orchestration's saga, unchanged, whose ends publish the outcome on the stack's bus,
where a rule hands it to the notification service; the grants of each."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest
from aws_cdk.assertions import Template

from shared.events import OrderCompleted, OrderFailed
from tests.cdk.common_checks import CommonStackChecks
from tests.cdk.template_helpers import (
    actions,
    function_role,
    functions_by_handler,
    logical_id_of_type,
    only,
    refs,
    resources,
    resources_for_action,
    role_statements,
    state_machine_definition,
    strings,
    table_ids,
)
from tests.cdk.test_orchestration_stack import (
    COMPENSATION_RETRIES,
    TASK_STEPS,
    WORST_CASE_SECONDS,
    _longest_path,
    _task_budget,
)

NOTIFY_CUSTOMER = "hybrid.handlers.notify_customer.handler"
# Each end of the saga, written out by hand: the outcome it publishes and the order's status there.
ENDS = {
    "OrderCompleted": ("OrderCompleted", "SHIPPING_SCHEDULED"),
    "OutOfStock": ("OrderFailed", "INVENTORY_FAILED"),
    "PaymentFailed": ("OrderFailed", "INVENTORY_RELEASED"),
    "PaymentIncomplete": ("OrderFailed", "INVENTORY_RELEASED"),
    "ShippingFailed": ("OrderFailed", "INVENTORY_RELEASED"),
}
# A publish is retried like a compensation and bounded like a step: 9 x 10 s + 47 s of waits.
PUBLISH_WORST_CASE_SECONDS = 137
SAGA_TIMEOUT_SECONDS = 720  # 523 + 137 s, plus at least a minute, in whole minutes


def handler(step: str) -> str:
    return f"orchestration.handlers.{step}.handler"  # the hybrid's saga runs orchestration's handlers


@pytest.fixture(scope="module")
def template(hybrid_template: Template) -> Template:
    return hybrid_template


@pytest.fixture(scope="module")
def definition(template: Template) -> dict:
    return state_machine_definition(template)[2]


@pytest.fixture(scope="module")
def states(definition: dict) -> dict:
    return definition["States"]


@pytest.fixture(scope="module")
def sm_id(template: Template) -> str:
    return state_machine_definition(template)[0]


@pytest.fixture(scope="module")
def bus_id(template: Template) -> str:
    return only(resources(template, "AWS::Events::EventBus"))[0]


@pytest.fixture(scope="module")
def notify_id(template: Template) -> str:
    return functions_by_handler(template)[NOTIFY_CUSTOMER][0]


@pytest.fixture(scope="module")
def notifications_table_id(template: Template) -> str:
    saga_tables = set(table_ids(template).values())
    (table_id,) = set(resources(template, "AWS::DynamoDB::Table")) - saga_tables
    return table_id


@pytest.fixture(scope="module")
def outcome_rule(template: Template) -> dict:
    """The one rule with a detail-type pattern (not the event tap, not the reconciler's schedule)."""
    rules = resources(template, "AWS::Events::Rule").values()
    _, rule = only({str(i): r["Properties"] for i, r in enumerate(rules) if "detail-type" in str(r)})
    return rule


class TestCommon(CommonStackChecks):
    style = "hybrid"
    stack_name = "SagaHybrid"
    handler_style = "orchestration"
    extra_functions: ClassVar[dict[str, str]] = {NOTIFY_CUSTOMER: "notifications"}
    extra_outputs = frozenset({"StateMachineArn", "EventBusName", "NotificationsTableName", "EventLogGroupName"})
    extra_alarms = frozenset({"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"})


# --- the order saga: orchestration's ------------------------------------------------------------


def _without_publishing(states: dict) -> dict:
    """The states with every Publish<End> state cut out (what led to it leads to its end), and the
    Lambda ARNs as the step each invokes."""
    publish = {name: state["Next"] for name, state in states.items() if name.startswith("Publish")}
    out = {}
    for name, state in states.items():
        if name in publish:
            continue
        state = json.loads(json.dumps(state))
        if "Next" in state:
            state["Next"] = publish.get(state["Next"], state["Next"])
        for catch in state.get("Catch", []):
            catch["Next"] = publish.get(catch["Next"], catch["Next"])
        state.pop("Resource", None)  # the functions differ by stack; which step: test_each_task...
        out[name] = state
    return out


def test_the_order_saga_is_orchestrations_with_every_end_published(
    states: dict, orchestration_template: Template
) -> None:
    orchestration = state_machine_definition(orchestration_template)[2]["States"]
    assert _without_publishing(states) == _without_publishing(orchestration)
    assert sorted(name for name in states if name.startswith("Publish")) == sorted(f"Publish{end}" for end in ENDS)


def test_each_task_invokes_orchestrations_handler_of_its_step(template: Template, states: dict) -> None:
    functions = functions_by_handler(template)
    for state_name, step in TASK_STEPS.items():
        assert states[state_name]["Resource"] == functions[handler(step)][0], state_name


@pytest.mark.parametrize("end", sorted(ENDS))
def test_every_end_is_reached_only_through_its_publish_state(states: dict, end: str) -> None:
    assert states[end]["Type"] == "Succeed"
    into_end = [name for name, state in states.items() if state.get("Next") == end]
    caught_into_end = [name for name, state in states.items() for c in state.get("Catch", []) if c["Next"] == end]
    assert (into_end, caught_into_end) == ([f"Publish{end}"], [])


@pytest.mark.parametrize("end", sorted(ENDS))
def test_each_end_publishes_its_outcome_with_the_terminal_status(states: dict, bus_id: str, end: str) -> None:
    state = states[f"Publish{end}"]
    assert state["Type"] == "Task" and state["Resource"] == "arn:AWS::Partition:states:::events:putEvents"
    (entry,) = state["Parameters"]["Entries"]
    detail_type, status = ENDS[end]
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == ("saga.orders", detail_type, bus_id)
    assert entry["Detail"] == {
        "orderId.$": "$.orderId",
        "customerId.$": "$.customerId",
        "end": end,
        "status": status,
    }
    # What the notification service will parse: the model of its detail-type.
    model = {"OrderCompleted": OrderCompleted, "OrderFailed": OrderFailed}[detail_type]
    detail = {key.removesuffix(".$"): value for key, value in entry["Detail"].items()}
    model.model_validate({**detail, "orderId": "o-1", "customerId": "CUST-1"})


def test_publishing_keeps_the_saga_output_and_retries_like_a_compensation(states: dict) -> None:
    for name in (f"Publish{end}" for end in ENDS):
        state = states[name]
        assert state["ResultPath"] is None, name  # the execution's output stays the saga's last event
        assert state["TimeoutSeconds"] == 10, name  # an attempt bounded like a step's Lambda
        assert state["Retry"] == [
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": 1,
                "BackoffRate": 2,
                "MaxDelaySeconds": 8,
                "MaxAttempts": COMPENSATION_RETRIES,
                "JitterStrategy": "FULL",
            }
        ], name
        assert "Catch" not in state, name  # failing for good fails the execution: its alarm says so


def test_saga_timeout_outlasts_the_worst_case_with_the_publish(template: Template, definition: dict) -> None:
    functions = {logical_id: props for logical_id, props in functions_by_handler(template).values()}
    states = definition["States"]

    def budget(name: str) -> float:
        state = states[name]
        timeout = state.get("TimeoutSeconds") or functions[state["Resource"]]["Timeout"]
        return _task_budget(state, timeout)

    worst = _longest_path(states, definition["StartAt"], budget)
    assert worst == WORST_CASE_SECONDS + PUBLISH_WORST_CASE_SECONDS
    assert definition["TimeoutSeconds"] == SAGA_TIMEOUT_SECONDS > worst


def test_module_constants_state_the_same_numbers() -> None:
    from hybrid.infra import stack

    assert stack.PUBLISH_WORST_CASE_SECONDS == PUBLISH_WORST_CASE_SECONDS


@pytest.mark.parametrize("metric", ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"])
def test_execution_alarms(alarms: dict[str, dict], sm_id: str, metric: str) -> None:
    props = alarms[f"SagaHybrid-{metric}"]
    (dimension,) = props["Dimensions"]
    assert dimension["Name"] == "StateMachineArn" and refs(dimension["Value"]) == {sm_id}


# --- the state machine's grants -----------------------------------------------------------------


def test_state_machine_invokes_the_five_steps_and_puts_events_on_the_bus_only(
    template: Template, sm_id: str, bus_id: str
) -> None:
    _, props, _ = state_machine_definition(template)
    (role_id,) = refs(props["RoleArn"])
    statements = role_statements(template, role_id)
    functions = functions_by_handler(template)
    steps = {functions[handler(step)][0] for step in set(TASK_STEPS.values())}
    assert resources_for_action(statements, "lambda:InvokeFunction") == steps
    assert resources_for_action(statements, "events:PutEvents") == {bus_id}
    business = {a for a in actions(statements) if not a.startswith(("logs:", "xray:"))}
    assert business == {"lambda:InvokeFunction", "events:PutEvents"}


def test_the_state_machine_does_not_know_the_notification_service(
    template: Template, notify_id: str, notifications_table_id: str
) -> None:
    _, props, _ = state_machine_definition(template)
    assert not {notify_id, notifications_table_id} & refs(props)
    (role_id,) = refs(props["RoleArn"])
    assert not {notify_id, notifications_table_id} & refs(role_statements(template, role_id))


def test_only_the_state_machine_puts_events(template: Template) -> None:
    for name, (_, props) in functions_by_handler(template).items():
        statements = role_statements(template, function_role(props))
        assert not {a for a in actions(statements) if a.startswith("events:")}, name
        assert "EVENT_BUS_NAME" not in props["Environment"]["Variables"], name


# --- the notification service -------------------------------------------------------------------


def test_a_rule_hands_the_outcomes_to_notify_customer(outcome_rule: dict, bus_id: str, notify_id: str, dlq_id: str):
    assert refs(outcome_rule["EventBusName"]) == {bus_id}
    assert outcome_rule["EventPattern"] == {"source": ["saga.orders"], "detail-type": ["OrderCompleted", "OrderFailed"]}
    (target,) = outcome_rule["Targets"]
    assert refs(target["Arn"]) == {notify_id}
    assert refs(target["DeadLetterConfig"]["Arn"]) == {dlq_id}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 3600}


def test_notify_customer_failures_reach_the_dead_letter_queue(template: Template, notify_id: str, dlq_id: str):
    (config,) = [
        c["Properties"]
        for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()
        if refs(c["Properties"]["FunctionName"]) == {notify_id}
    ]
    assert refs(config["DestinationConfig"]["OnFailure"]["Destination"]) == {dlq_id}
    assert config["MaximumRetryAttempts"] == 2


def test_notify_customer_records_in_its_table_and_touches_nothing_else(
    template: Template, notifications_table_id: str
) -> None:
    _, props = functions_by_handler(template)[NOTIFY_CUSTOMER]
    statements = role_statements(template, function_role(props))
    business = {a for a in actions(statements) if not a.startswith(("logs:", "xray:", "sqs:"))}
    assert business == {"dynamodb:PutItem"}
    assert resources_for_action(statements, "dynamodb:PutItem") == {notifications_table_id}
    # No order, stock or ledger: it cannot change an order's terminal status.
    assert not set(table_ids(template).values()) & refs(statements)
    env = props["Environment"]["Variables"]
    assert refs(env["NOTIFICATIONS_TABLE"]) == {notifications_table_id}
    assert not {"ORDERS_TABLE", "INVENTORY_TABLE", "PAYMENTS_TABLE", "STATE_MACHINE_ARN"} & set(env)
    assert env["SAGA_STYLE"] == "hybrid"


def test_the_notifications_table_is_one_item_per_order(template: Template, notifications_table_id: str) -> None:
    resource = template.to_json()["Resources"][notifications_table_id]
    props = resource["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "orderId", "KeyType": "HASH"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert resource["DeletionPolicy"] == "Delete"  # the local target (aws: test_aws_hybrid)


def test_outputs_point_at_the_bus_the_table_and_the_state_machine(
    template: Template, bus_id: str, sm_id: str, notifications_table_id: str
) -> None:
    outputs = template.to_json()["Outputs"]
    assert refs(outputs["EventBusName"]["Value"]) == {bus_id}
    assert refs(outputs["StateMachineArn"]["Value"]) == {sm_id}
    assert refs(outputs["NotificationsTableName"]["Value"]) == {notifications_table_id}
    assert logical_id_of_type(template, "AWS::Events::EventBus") == bus_id
    assert "SagaHybrid-bus" in strings(resources(template, "AWS::Events::EventBus")[bus_id]["Properties"])
