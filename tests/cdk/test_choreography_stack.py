"""ChoreographyStack: the bus, one rule per ROUTES entry, retries and the dead-letter queue."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from shared.events import ROUTES
from tests.cdk.common_checks import CREATE_ORDER, GET_ORDER, STEPS, CommonStackChecks
from tests.cdk.template_helpers import (
    actions,
    as_list,
    function_role,
    functions_by_handler,
    logical_id_of_type,
    only,
    refs,
    resources,
    resources_for_action,
    role_statements,
    statements_with_action,
)

# The saga written out by hand: if ROUTES or the rules drift from this, a test fails.
EXPECTED_WIRING = {
    ("saga.orders", "OrderCreated"): "reserve_inventory",
    ("saga.inventory", "InventoryReserved"): "charge_payment",
    ("saga.payment", "PaymentCharged"): "notify_shipping",
    ("saga.shipping", "ShippingFailed"): "refund_payment",
    ("saga.payment", "PaymentFailed"): "release_inventory",
    ("saga.payment", "PaymentRefunded"): "release_inventory",
}
# Every step publishes its outcome, the relay OrderCreated, the reconciler what a stuck order waits on.
PUBLISHERS = set(STEPS) | {"start_saga", "reconcile"}


def handler(step: str) -> str:
    return f"choreography.handlers.{step}.handler"


@pytest.fixture(scope="module")
def template(choreography_template: Template) -> Template:
    return choreography_template


@pytest.fixture(scope="module")
def bus_id(template: Template) -> str:
    return only(resources(template, "AWS::Events::EventBus"))[0]


@pytest.fixture(scope="module")
def all_rules(template: Template) -> dict[str, dict]:
    return {logical_id: r["Properties"] for logical_id, r in resources(template, "AWS::Events::Rule").items()}


@pytest.fixture(scope="module")
def rules(all_rules: dict[str, dict]) -> dict[str, dict]:
    """The saga's routing rules: every rule but the event tap (which matches on source alone) and
    the reconciler's schedule (which has no pattern)."""
    return {logical_id: rule for logical_id, rule in all_rules.items() if "detail-type" in rule.get("EventPattern", {})}


@pytest.fixture(scope="module")
def steps_by_function(template: Template) -> dict[str, str]:
    return {logical_id: name.split(".")[-2] for name, (logical_id, _) in functions_by_handler(template).items()}


@pytest.fixture(scope="module")
def wiring(rules: dict[str, dict], steps_by_function: dict[str, str]) -> dict[tuple[str, str], str]:
    """(source, detail-type) -> step, read back from the rules and their single Lambda target."""
    out = {}
    for logical_id, rule in rules.items():
        pattern = rule["EventPattern"]
        assert set(pattern) == {"source", "detail-type"}, logical_id
        (target,) = rule["Targets"]
        (function_id,) = refs(target["Arn"])
        for source in pattern["source"]:
            for detail_type in pattern["detail-type"]:
                assert (source, detail_type) not in out, (source, detail_type)
                out[(source, detail_type)] = steps_by_function[function_id]
    return out


class TestCommon(CommonStackChecks):
    style = "choreography"
    stack_name = "SagaChoreography"
    extra_outputs = frozenset({"EventBusName", "EventLogGroupName"})
    extra_alarms = frozenset[str]()


# --- rules -----------------------------------------------------------------------------------


def test_one_rule_per_step(rules: dict, steps_by_function: dict[str, str]) -> None:
    targeted = sorted(steps_by_function[next(iter(refs(rule["Targets"][0]["Arn"])))] for rule in rules.values())
    assert targeted == sorted(STEPS) == sorted(ROUTES)


def test_rules_follow_routes(wiring: dict) -> None:
    assert wiring == {(cls.source, cls.detail_type()): step for step, triggers in ROUTES.items() for cls in triggers}


def test_rules_follow_the_saga(wiring: dict) -> None:
    assert wiring == EXPECTED_WIRING


def test_release_hears_both_settled_payments_in_one_rule(rules: dict, steps_by_function: dict[str, str]) -> None:
    (pattern,) = [
        rule["EventPattern"]
        for rule in rules.values()
        if steps_by_function[next(iter(refs(rule["Targets"][0]["Arn"])))] == "release_inventory"
    ]
    assert pattern == {"source": ["saga.payment"], "detail-type": ["PaymentFailed", "PaymentRefunded"]}


def test_rules_listen_on_the_stack_bus(rules: dict, bus_id: str) -> None:
    for logical_id, rule in rules.items():
        assert refs(rule["EventBusName"]) == {bus_id}, logical_id
        assert rule["State"] == "ENABLED", logical_id


def test_rule_targets_retry_then_dead_letter(rules: dict, dlq_id: str) -> None:
    for logical_id, rule in rules.items():
        (target,) = rule["Targets"]
        assert refs(target["DeadLetterConfig"]["Arn"]) == {dlq_id}, logical_id
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 3600}


def test_eventbridge_may_invoke_each_routed_function_from_its_rule(
    template: Template, all_rules: dict, rules: dict
) -> None:
    granted = {
        (next(iter(refs(p["Properties"]["FunctionName"]))), next(iter(refs(p["Properties"]["SourceArn"]))))
        for p in resources(template, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
    }
    expected = {(next(iter(refs(rule["Targets"][0]["Arn"]))), logical_id) for logical_id, rule in rules.items()}
    # ... and the reconciler from its schedule (CommonStackChecks.test_reconciler_runs_every_minute...).
    (schedule_id,) = [i for i, rule in all_rules.items() if "ScheduleExpression" in rule]
    assert granted - expected == {(next(iter(refs(all_rules[schedule_id]["Targets"][0]["Arn"]))), schedule_id)}


def test_handler_failures_also_reach_the_dead_letter_queue(template: Template, dlq_id: str) -> None:
    functions = functions_by_handler(template)
    configs = {
        next(iter(refs(c["Properties"]["FunctionName"]))): c["Properties"]
        for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()
        if "DestinationConfig" in c["Properties"]
    }
    assert set(configs) == {functions[handler(step)][0] for step in STEPS}
    for function_id, config in configs.items():
        assert refs(config["DestinationConfig"]["OnFailure"]["Destination"]) == {dlq_id}, function_id
        assert config["MaximumRetryAttempts"] == 2, function_id


# --- dead-letter queue -----------------------------------------------------------------------


def test_dead_letter_queue_enforces_ssl_and_accepts_only_the_routing_rules(
    template: Template, dlq_id: str, rules: dict
) -> None:
    (policy,) = resources(template, "AWS::SQS::QueuePolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in deny)
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows and all(s["Principal"] == {"Service": "events.amazonaws.com"} for s in allows)
    allowed_rules = set().union(*(refs(s["Condition"]) for s in allows))
    assert allowed_rules == set(rules)


# --- permissions and environment ---------------------------------------------------------------


def test_put_events_only_for_publishers_and_only_on_the_bus(template: Template, bus_id: str) -> None:
    publishers = {handler(name) for name in PUBLISHERS}
    assert set(functions_by_handler(template)) == publishers | {CREATE_ORDER, GET_ORDER}
    for name, (_, props) in functions_by_handler(template).items():
        statements = role_statements(template, function_role(props))
        events_actions = {a for a in actions(statements) if a.startswith("events:")}
        env = props["Environment"]["Variables"]
        if name in publishers:
            assert events_actions == {"events:PutEvents"}, name
            assert resources_for_action(statements, "events:PutEvents") == {bus_id}, name
            assert refs(env["EVENT_BUS_NAME"]) == {bus_id}, name
        else:  # the API stores and reads orders; the stream starts the saga
            assert not events_actions, name
            assert "EVENT_BUS_NAME" not in env, name


# What each publishing function may put on the bus, written out by hand: source -> detail-types.
# A step its outcomes; the relay OrderCreated; the reconciler whatever a stuck order waits on.
EXPECTED_PUBLISHING = {
    "reserve_inventory": {"saga.inventory": ["InventoryFailed", "InventoryReserved"]},
    "charge_payment": {"saga.payment": ["PaymentCharged", "PaymentFailed"]},
    "notify_shipping": {"saga.shipping": ["ShippingFailed", "ShippingScheduled"]},
    "refund_payment": {"saga.payment": ["PaymentFailed", "PaymentRefunded"]},
    "release_inventory": {"saga.inventory": ["InventoryReleased"]},
    "start_saga": {"saga.orders": ["OrderCreated"]},
    "reconcile": {
        "saga.orders": ["OrderCreated"],
        "saga.inventory": ["InventoryReserved"],
        "saga.payment": ["PaymentCharged", "PaymentFailed", "PaymentRefunded"],
        "saga.shipping": ["ShippingFailed"],
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED_PUBLISHING))
def test_put_events_is_limited_to_the_sources_and_detail_types_each_function_publishes(
    template: Template, bus_id: str, name: str
) -> None:
    (_, props) = functions_by_handler(template)[handler(name)]
    statements = statements_with_action(role_statements(template, function_role(props)), "events:PutEvents")
    allowed: dict[str, list[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow" and as_list(statement["Action"]) == ["events:PutEvents"], name
        assert refs(statement["Resource"]) == {bus_id}, name
        condition = statement["Condition"]
        assert set(condition) == {"StringEquals", "ForAllValues:StringEquals", "Null"}, name
        assert set(condition["StringEquals"]) == {"events:source"}, name
        assert set(condition["ForAllValues:StringEquals"]) == {"events:detail-type"}, name
        # ForAllValues alone would pass a request without a detail-type.
        assert condition["Null"] == {"events:detail-type": "false"}, name
        source = condition["StringEquals"]["events:source"]
        assert source not in allowed, name
        allowed[source] = sorted(as_list(condition["ForAllValues:StringEquals"]["events:detail-type"]))
    assert allowed == EXPECTED_PUBLISHING[name]


def test_every_publisher_is_limited(template: Template) -> None:
    assert set(EXPECTED_PUBLISHING) == PUBLISHERS


def test_no_step_functions_in_choreography(template: Template) -> None:
    assert not resources(template, "AWS::StepFunctions::StateMachine")
    for name, (_, props) in functions_by_handler(template).items():
        statements = role_statements(template, function_role(props))
        assert not {a for a in actions(statements) if a.startswith("states:")}, name


def test_outputs_point_at_bus_and_queue(template: Template, bus_id: str, dlq_id: str) -> None:
    outputs = template.to_json()["Outputs"]
    assert refs(outputs["EventBusName"]["Value"]) == {bus_id}
    assert refs(outputs["DeadLetterQueueUrl"]["Value"]) == {dlq_id}
    assert logical_id_of_type(template, "AWS::Events::EventBus") == bus_id


# --- CDK context ------------------------------------------------------------------------------


def test_stuck_after_comes_from_context(synth) -> None:
    template = synth("choreography", stuckAfterSeconds="30")  # as `cdk synth -c stuckAfterSeconds=30` gives it
    (_, props) = functions_by_handler(template)[handler("reconcile")]
    assert props["Environment"]["Variables"]["STUCK_AFTER_SECONDS"] == "30"
    (stuck,) = [
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "OldestOpenOrderAge"
    ]
    assert stuck["Threshold"] == 90


# --- event tap (make compare) ----------------------------------------------------------------


def test_event_tap_logs_every_saga_event_without_a_custom_resource(
    template: Template, all_rules: dict, rules: dict, bus_id: str
) -> None:
    (tap_id,) = {i for i, rule in all_rules.items() if "ScheduleExpression" not in rule} - set(rules)
    tap = all_rules[tap_id]
    assert refs(tap["EventBusName"]) == {bus_id}
    assert tap["EventPattern"] == {"source": [{"prefix": "saga."}]}
    assert all(source.startswith("saga.") for source, _ in EXPECTED_WIRING)
    (target,) = tap["Targets"]
    (log_group_id,) = refs(target["Arn"])
    assert template.to_json()["Resources"][log_group_id]["Type"] == "AWS::Logs::LogGroup"
    assert "RetryPolicy" not in target and "DeadLetterConfig" not in target
    # The log group's resource policy is native: an AwsCustomResource would need a Node.js Lambda.
    types = {r["Type"] for r in template.to_json()["Resources"].values()}
    assert not {t for t in types if t.startswith("Custom::") or t == "AWS::CloudFormation::CustomResource"}
    (policy,) = resources(template, "AWS::Logs::ResourcePolicy").values()
    document = policy["Properties"]["PolicyDocument"]
    assert log_group_id in refs(document)
    assert '"events.amazonaws.com"' in "".join(p for p in document["Fn::Join"][1] if isinstance(p, str))
    outputs = template.to_json()["Outputs"]
    assert refs(outputs["EventLogGroupName"]["Value"]) == {log_group_id}
