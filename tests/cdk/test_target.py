"""shared.infra.target: the targets' settings, read from context, and readable refusals."""

from __future__ import annotations

import pytest
from aws_cdk import App, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn

from shared.infra.target import Target, TargetError, target_named


def test_local_is_the_default() -> None:
    assert Target.of(App()).name == "local"
    assert target_named(None) == target_named("local")


def test_what_the_aws_target_changes() -> None:
    local, aws = target_named("local"), target_named("aws")
    assert (local.bootstrap, aws.bootstrap) == (False, True)
    assert (local.table_removal_policy, aws.table_removal_policy) == (RemovalPolicy.DESTROY, RemovalPolicy.RETAIN)
    assert (local.table_deletion_protection, aws.table_deletion_protection) == (False, True)
    assert (local.state_machine_log_level, aws.state_machine_log_level) == (sfn.LogLevel.ERROR, sfn.LogLevel.ALL)
    assert (local.lambda_tracing, aws.lambda_tracing) == (None, lambda_.Tracing.ACTIVE)
    assert (local.event_tap, aws.event_tap) == (True, False)
    assert (local.alarm_topic, aws.alarm_topic) == (False, True)
    # LocalStack community has no Cognito: its API stays open, the body names the customer.
    assert (local.api_authorizer, aws.api_authorizer) == (False, True)
    assert (local.api_usage_plan, aws.api_usage_plan) == (False, True)


@pytest.mark.parametrize(
    ("value", "tapped"), [("true", True), ("TRUE", True), (True, True), ("false", False), (False, False)]
)
def test_event_tap_context_overrides_the_target(value: object, tapped: bool) -> None:
    app = App(context={"target": "aws", "eventTap": value})
    assert Target.of(app).event_tap is tapped
    assert Target.of(app).name == "aws"


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"target": "prod"}, "unknown target 'prod' (context `target`): use local or aws"),
        ({"target": ""}, "unknown target '' (context `target`): use local or aws"),
        ({"target": "aws", "eventTap": "yes"}, "context `eventTap` must be true or false, got 'yes'"),
    ],
)
def test_a_bad_context_is_one_readable_line(context: dict[str, str], message: str) -> None:
    with pytest.raises(TargetError) as error:
        Target.of(App(context=context))
    assert str(error.value) == message
    assert "\n" not in str(error.value)
