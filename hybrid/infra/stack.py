"""Hybrid: orchestration for the order, choreography for what follows.

The order saga is orchestration's, unchanged: the same state machine, steps (orchestration's
handlers, `shared.infra.lambdas`), compensations, retries, outbox start, reconciler and alarms
(`orchestration.infra.stack.orchestrate`). At each of its ends the state machine publishes the
outcome on the stack's bus before its Succeed state, with the native Step Functions integration
(`events:putEvents`, no Lambda in between):

    ... -> PublishOrderCompleted -> OrderCompleted        OrderCompleted, status SHIPPING_SCHEDULED
    ... -> PublishOutOfStock -> OutOfStock                OrderFailed, status INVENTORY_FAILED
    ... -> Publish<PaymentFailed|PaymentIncomplete|ShippingFailed> -> <the same>
                                                          OrderFailed, status INVENTORY_RELEASED

The event says which order, whose, which end and the order's terminal status there. What follows
is choreographed: a rule routes the outcomes to the notification service
(`hybrid.infra.notifications`), which the state machine does not know; more subscribers need a
rule each, and no change to the saga.

The order's status is written by the last step, before the outcome is published, so a publish
that fails changes no order: it is retried like a compensation (every error, backoff with full
jitter), each attempt bounded like a step's Lambda, and the saga's timeout grows by that budget.
Should it fail for good, the execution fails: the ExecutionsFailed alarm says an outcome was not
announced (the reconciler only looks at open orders, and this one is finished).

The state machine may put events on the bus and nowhere else (CDK's grant names the bus). An
event tap, as in choreography (`shared.infra.target`: LocalStack only, unless context
`eventTap=true`), logs every `saga.*` event for `make compare`.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from choreography.infra.stack import _event_tap
from hybrid.infra.notifications import NotificationService
from orchestration.infra.stack import (
    COMPENSATION_RETRIES,
    AfterEnd,
    SagaEnd,
    orchestrate,
    retry_with_backoff,
    worst_case_seconds,
)
from shared import contract
from shared.events import OrderCompleted, OrderFailed, SagaEnded
from shared.infra.functions import TIMEOUT
from shared.infra.target import Target

SAGA_STYLE = contract.HYBRID
# The outcome must get out, like a compensation: retried as often, each attempt bounded like a
# step's Lambda, so its worst case is a compensation's.
PUBLISH_RETRIES = COMPENSATION_RETRIES
PUBLISH_WORST_CASE_SECONDS = worst_case_seconds(PUBLISH_RETRIES)


def outcome_of(end: SagaEnd) -> type[SagaEnded]:
    return OrderCompleted if end.completed else OrderFailed


def outcome_detail(end: SagaEnd) -> dict:
    """The event's detail at `end`: the order and customer from the state's input (every end's
    input carries both: the last step's event, or a caught step's input), the end and the
    order's terminal status from the definition."""
    return {
        "orderId": sfn.JsonPath.string_at("$.orderId"),
        "customerId": sfn.JsonPath.string_at("$.customerId"),
        "end": end.state,
        "status": str(end.status),
    }


def publish_outcomes(scope: Construct, bus: events.IEventBus) -> AfterEnd:
    """The after-the-end hook: put the saga's outcome on `bus`, then end."""

    def after_end(end: SagaEnd, succeed: sfn.Succeed) -> sfn.IChainable:
        event = outcome_of(end)
        publish = tasks.EventBridgePutEvents(
            scope,
            f"Publish{end.state}",
            comment=f"{event.detail_type()} on the bus: whoever follows the saga hears of its end",
            entries=[
                tasks.EventBridgePutEventsEntry(
                    event_bus=bus,
                    source=event.source,
                    detail_type=event.detail_type(),
                    detail=sfn.TaskInput.from_object(outcome_detail(end)),
                )
            ],
            result_path=sfn.JsonPath.DISCARD,  # the execution's output stays the saga's last event
            task_timeout=sfn.Timeout.duration(TIMEOUT),
        )
        retry_with_backoff(publish, PUBLISH_RETRIES)
        return publish.next(succeed)

    return after_end


class HybridStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, lambda_code: lambda_.Code, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.bus = events.EventBus(self, "Bus", event_bus_name=f"{self.stack_name}-bus")
        saga = orchestrate(
            self,
            lambda_code=lambda_code,
            saga_style=SAGA_STYLE,
            after_end=publish_outcomes(self, self.bus),
            after_end_seconds=PUBLISH_WORST_CASE_SECONDS,
        )
        self.state_machine = saga.state_machine
        self.dead_letter_queue = saga.dead_letter_queue
        self.notifications = NotificationService(
            self, "Notifications", code=lambda_code, bus=self.bus, dead_letter_queue=self.dead_letter_queue
        )
        self.event_tap = _event_tap(self, self.bus) if Target.of(self).event_tap else None

        CfnOutput(self, "EventBusName", value=self.bus.event_bus_name)
        CfnOutput(
            self,
            "NotificationsTableName",
            value=self.notifications.table.table_name,
            description="The customer notifications, one per finished order",
        )
        if self.event_tap is not None:
            CfnOutput(self, "EventLogGroupName", value=self.event_tap.log_group_name)
