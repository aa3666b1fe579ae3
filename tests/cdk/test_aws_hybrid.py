"""HybridStack on the aws target (context `target=aws`): every common check with the aws
expectations, the notification table kept like the saga's, and no event tap."""

from __future__ import annotations

from typing import ClassVar

import pytest
from aws_cdk.assertions import Template

from tests.cdk.common_checks import CommonStackChecks
from tests.cdk.template_helpers import resources, table_ids
from tests.cdk.test_hybrid_stack import NOTIFY_CUSTOMER


@pytest.fixture(scope="module")
def template(hybrid_aws_template: Template) -> Template:
    return hybrid_aws_template


class TestCommon(CommonStackChecks):
    style = "hybrid"
    stack_name = "SagaHybrid"
    handler_style = "orchestration"
    extra_functions: ClassVar[dict[str, str]] = {NOTIFY_CUSTOMER: "notifications"}
    extra_outputs = frozenset({"StateMachineArn", "EventBusName", "NotificationsTableName"})
    extra_alarms = frozenset({"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"})
    target = "aws"


def test_the_notifications_table_is_retained_with_deletion_protection(template: Template) -> None:
    (table_id,) = set(resources(template, "AWS::DynamoDB::Table")) - set(table_ids(template).values())
    resource = template.to_json()["Resources"][table_id]
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert resource["Properties"]["DeletionProtectionEnabled"] is True


def test_no_event_tap(template: Template) -> None:
    assert "EventLogGroupName" not in template.to_json()["Outputs"]
    assert not resources(template, "AWS::Logs::ResourcePolicy")
