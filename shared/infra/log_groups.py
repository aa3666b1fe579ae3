"""The project's one log-group policy: kept for the target's retention (`shared.infra.target`: a
week on LocalStack, a month on AWS), removed with the stack (logs expire anyway; a removed stack
leaves no log group behind). Every log group the stacks create comes from here."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from shared.infra.target import Target


def saga_log_group(scope: Construct, construct_id: str, name: str | None = None) -> logs.LogGroup:
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=Target.of(scope).log_retention,
        removal_policy=RemovalPolicy.DESTROY,
    )
