"""ChoreographyStack on the aws target (context `target=aws`): every common check with the aws
expectations (retained tables, X-Ray, a month of logs, alarms to the topic), and no event tap
(it would log every event, customer ids and amounts included) unless context `eventTap=true`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aws_cdk.assertions import Template

from tests.cdk.common_checks import CommonStackChecks
from tests.cdk.template_helpers import resources, strings

TAP_PATTERN = {"source": [{"prefix": "saga."}]}


@pytest.fixture(scope="module")
def template(choreography_aws_template: Template) -> Template:
    return choreography_aws_template


class TestCommon(CommonStackChecks):
    style = "choreography"
    stack_name = "SagaChoreography"
    extra_outputs = frozenset({"EventBusName"})
    extra_alarms: frozenset[str] = frozenset()
    target = "aws"


def _has_event_tap(template: Template) -> bool:
    rules = resources(template, "AWS::Events::Rule").values()
    taps = [rule for rule in rules if rule["Properties"].get("EventPattern") == TAP_PATTERN]
    groups = [
        name
        for group in resources(template, "AWS::Logs::LogGroup").values()
        for name in strings(group["Properties"].get("LogGroupName", ""))
        if name.startswith("/aws/events/")
    ]
    has_output = "EventLogGroupName" in template.to_json()["Outputs"]
    has_policy = bool(resources(template, "AWS::Logs::ResourcePolicy"))
    assert len({bool(taps), bool(groups), has_output, has_policy}) == 1, "a partial event tap"
    return has_output


def test_no_event_tap(template: Template) -> None:
    assert not _has_event_tap(template)


@pytest.mark.parametrize(
    ("context", "tapped"),
    [
        ({"target": "aws", "eventTap": "true"}, True),  # `cdk deploy -c target=aws -c eventTap=true`
        ({"target": "aws", "eventTap": False}, False),
        ({"eventTap": "false"}, False),  # the local target without it
        ({}, True),  # the local target: `make compare` reads it
    ],
)
def test_context_event_tap_overrides_the_target(
    synth: Callable[..., Template], context: dict[str, object], tapped: bool
) -> None:
    assert _has_event_tap(synth("choreography", **context)) is tapped
