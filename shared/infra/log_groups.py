"""The project's one log-group policy: kept a week, removed with the stack (a demo leaves nothing
behind). Every log group the stacks create comes from here."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

LOG_RETENTION = logs.RetentionDays.ONE_WEEK


def saga_log_group(scope: Construct, construct_id: str, name: str | None = None) -> logs.LogGroup:
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=LOG_RETENTION,
        removal_policy=RemovalPolicy.DESTROY,
    )
