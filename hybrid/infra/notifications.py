"""`NotificationService`: the hybrid's choreographed part. A rule on the bus hands each outcome the
state machine publishes (OrderCompleted, OrderFailed) to `notify_customer`, which records one
customer notification per order in a table of its own.

The service may write its table and nothing else: no order, no stock, no ledger (it cannot change
an order's terminal status), and it publishes nothing. Like choreography's rules, the rule's
target retries and then dead-letters into the stack's queue, and the function sends its own
failed invocations there after Lambda's async retries.
"""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from choreography.infra.stack import ASYNC_RETRY_ATTEMPTS, MAX_EVENT_AGE, TARGET_RETRY_ATTEMPTS, trigger_pattern
from shared.contract import HYBRID, NOTIFY_CUSTOMER, pascal
from shared.events import OUTCOMES
from shared.infra.functions import SagaFunction
from shared.infra.target import Target

HANDLER = f"{HYBRID}.handlers.{NOTIFY_CUSTOMER}.handler"
SERVICE = "notifications"
# hybrid.dynamodb: one conditional PutItem per delivery.
RECORD_NOTIFICATION = ("dynamodb:PutItem",)


class NotificationService(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        bus: events.IEventBus,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        target = Target.of(self)
        # Like the saga's tables (shared.infra.tables): on demand, point-in-time recovery, kept on AWS.
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="orderId", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=target.table_removal_policy,
            deletion_protection=True if target.table_deletion_protection else None,
        )
        self.function = SagaFunction(
            self,
            pascal(NOTIFY_CUSTOMER),
            code=code,
            handler=HANDLER,
            name=NOTIFY_CUSTOMER,
            service=SERVICE,
            saga_style=HYBRID,
            environment={"NOTIFICATIONS_TABLE": self.table.table_name},
        ).function
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=list(RECORD_NOTIFICATION), resources=[self.table.table_arn])
        )
        names = ", ".join(event.detail_type() for event in OUTCOMES)
        self.rule = events.Rule(
            self,
            "Rule",
            event_bus=bus,
            description=f"{names} -> {NOTIFY_CUSTOMER}",
            event_pattern=trigger_pattern(OUTCOMES),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    dead_letter_queue=dead_letter_queue,
                    retry_attempts=TARGET_RETRY_ATTEMPTS,
                    max_event_age=MAX_EVENT_AGE,
                )
            ],
        )
        self.function.configure_async_invoke(
            on_failure=destinations.SqsDestination(dead_letter_queue),
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=MAX_EVENT_AGE,
        )
