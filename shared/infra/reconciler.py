"""`Reconciler`: the `reconcile` function run every minute by an EventBridge schedule (default
bus), with its settings and its one CloudWatch permission.

It looks at an order once the order has not moved for `stuckAfterSeconds` (CDK context, default
`shared.recovery.DEFAULT_STUCK_AFTER`) and parks it for a person after `MAX_RECOVERY_ATTEMPTS`
attempts (`shared.recovery`). A failed run is not retried: the next one is a minute away, and the
failure shows on the reconciler's Errors alarm (`shared.infra.alarms`).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from shared.adapters.metrics import NAMESPACE
from shared.contract import STUCK_AFTER_VARIABLE
from shared.recovery import DEFAULT_MAX_ATTEMPTS, DEFAULT_STUCK_AFTER

STUCK_AFTER_CONTEXT = "stuckAfterSeconds"
SCHEDULE = events.Schedule.rate(Duration.minutes(1))
# A run EventBridge could not hand over within a minute is overtaken by the next one.
MAX_EVENT_AGE = Duration.minutes(1)
TARGET_RETRY_ATTEMPTS = 2


def stuck_after_seconds(scope: Construct) -> int:
    """Context `stuckAfterSeconds` (`cdk synth -c stuckAfterSeconds=30`), else the runtime default."""
    value = scope.node.try_get_context(STUCK_AFTER_CONTEXT)
    if value is None:
        return int(DEFAULT_STUCK_AFTER.total_seconds())
    seconds = int(value)
    if seconds <= 0:
        raise ValueError(f"context {STUCK_AFTER_CONTEXT} must be a positive number of seconds, got {value!r}")
    return seconds


class Reconciler(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.Function) -> None:
        super().__init__(scope, construct_id)
        self.function = function
        self.stuck_after_seconds = stuck_after_seconds(self)
        self.max_attempts = DEFAULT_MAX_ATTEMPTS
        function.add_environment(STUCK_AFTER_VARIABLE, str(self.stuck_after_seconds))
        function.add_environment("MAX_RECOVERY_ATTEMPTS", str(self.max_attempts))
        # PutMetricData is defined on no resource: "*" is the only Resource IAM accepts; the
        # condition keeps it to the saga's own namespace.
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": NAMESPACE}},
            )
        )
        function.configure_async_invoke(retry_attempts=0, max_event_age=MAX_EVENT_AGE)
        self.schedule = events.Rule(
            self,
            "Schedule",
            description="every minute: the reconciler (resumes stuck sagas, reports the oldest open order)",
            schedule=SCHEDULE,
            targets=[
                targets.LambdaFunction(function, retry_attempts=TARGET_RETRY_ATTEMPTS, max_event_age=MAX_EVENT_AGE)
            ],
        )
