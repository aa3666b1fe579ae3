"""OrchestrationStack on the aws target (context `target=aws`): every common check with the aws
expectations (retained tables, X-Ray, a month of logs, alarms to the topic), and the state
machine's logging."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from tests.cdk.common_checks import CommonStackChecks
from tests.cdk.template_helpers import refs, resources, state_machine_definition


@pytest.fixture(scope="module")
def template(orchestration_aws_template: Template) -> Template:
    return orchestration_aws_template


class TestCommon(CommonStackChecks):
    style = "orchestration"
    stack_name = "SagaOrchestration"
    extra_outputs = frozenset({"StateMachineArn"})
    extra_alarms = frozenset({"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"})
    target = "aws"


def test_logging_all_events_without_execution_data_and_tracing(template: Template) -> None:
    _, props, _ = state_machine_definition(template)
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False  # no customer ids or amounts in the logs
    (destination,) = logging["Destinations"]
    (group_id,) = refs(destination["CloudWatchLogsLogGroup"]["LogGroupArn"])
    assert resources(template, "AWS::Logs::LogGroup")[group_id]["Properties"]["RetentionInDays"] == 30
    assert props["TracingConfiguration"] == {"Enabled": True}
