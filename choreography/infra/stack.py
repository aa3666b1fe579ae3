"""Choreography: the saga steps react to each other's events on one EventBridge bus.

The rules are built from `shared.events.ROUTES` (step -> the events that trigger it), the one
place where the wiring is written down: one rule per step, matching the sources and detail-types
of its triggers (release_inventory hears both PaymentFailed and PaymentRefunded). Every rule
target retries and then dead-letters into the stack's queue; the step functions also send their
own failed asynchronous invocations there (EventBridge's DLQ only catches delivery failures, not
errors raised inside the handler).

The saga starts from the orders table's stream (`shared.infra.outbox`): `start_saga` publishes
OrderCreated for each new order. The reconciler (`shared.infra.reconciler`) re-publishes the
event a stuck order waits on. Both, and every step, may put events on the bus, but only the events
each publishes (`published_events`): its PutEvents is conditioned on their sources and
detail-types, so no step can forge another's outcome. The API may not put events at all.

An event tap (a catch-all rule on `saga.*` into a log group) records every event on the bus for
`make compare`, without touching any service: it is a second subscriber, invisible to the saga.
It logs whole events, customer ids and amounts included, so only targets that want it have it
(`shared.infra.target`: LocalStack yes, AWS only with context `eventTap=true`); output
`EventLogGroupName` names its log group when there is one.
"""

from __future__ import annotations

from collections.abc import Iterable

import jsii
from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk.interfaces.aws_events import IRuleRef
from constructs import Construct

from shared import contract, steps
from shared.events import ROUTES, Message, OrderCreated
from shared.infra import (
    OrdersApi,
    OutboxRelay,
    Reconciler,
    SagaAlarms,
    SagaLambdas,
    SagaTables,
    dead_letter_queue,
)
from shared.infra.log_groups import saga_log_group
from shared.infra.outputs import add_common_outputs
from shared.infra.target import Target
from shared.recovery import WAITING_ON

SAGA_STYLE = contract.CHOREOGRAPHY
TARGET_RETRY_ATTEMPTS = 4
MAX_EVENT_AGE = Duration.hours(1)
ASYNC_RETRY_ATTEMPTS = 2
# Every source the saga publishes from starts with this (shared.events: saga.orders, saga.inventory...).
SAGA_SOURCE_PREFIX = "saga."


@jsii.implements(events.IRuleTarget)
class _LogGroupTarget:
    """A log group as a rule target, without `targets.CloudWatchLogGroup`: that one writes the
    log group's resource policy through an AwsCustomResource (a Node.js Lambda), which a
    Docker-free LocalStack cannot run. The policy is a native AWS::Logs::ResourcePolicy instead."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._log_group = log_group

    def bind(self, rule: IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._log_group.log_group_arn)


def _event_tap(stack: Stack, bus: events.IEventBus) -> logs.LogGroup:
    log_group = saga_log_group(stack, "EventTapLogs", f"/aws/events/{stack.stack_name}-tap")
    # What EventBridge needs to write into the group (AWS checks it; LocalStack does not).
    logs.ResourcePolicy(
        stack,
        "EventTapPolicy",
        resource_policy_name=f"{stack.stack_name}-event-tap",
        policy_statements=[
            iam.PolicyStatement(
                principals=[
                    iam.ServicePrincipal("events.amazonaws.com"),
                    iam.ServicePrincipal("delivery.logs.amazonaws.com"),
                ],
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        ],
    )
    events.Rule(
        stack,
        "EventTapRule",
        event_bus=bus,
        description=f"every {SAGA_SOURCE_PREFIX}* event -> the event tap log group (make compare)",
        event_pattern=events.EventPattern(source=events.Match.prefix(SAGA_SOURCE_PREFIX)),
        targets=[_LogGroupTarget(log_group)],
    )
    return log_group


def published_events(step_names: Iterable[str]) -> dict[str, tuple[type[Message], ...]]:
    """What each publishing function may put on the bus, read from the code that publishes: a step
    its outcomes (its return annotation, `steps.outcomes`), the outbox relay OrderCreated
    (`steps.start_saga`), the reconciler any event a stuck order waits on (`WAITING_ON`)."""
    return {
        **{name: steps.outcomes(getattr(steps, name)) for name in step_names},
        contract.START_SAGA: (OrderCreated,),
        contract.RECONCILE: tuple(dict.fromkeys(WAITING_ON.values())),
    }


def put_events_statements(bus: events.IEventBus, published: Iterable[type[Message]]) -> list[iam.PolicyStatement]:
    """PutEvents on `bus` for exactly the events `published`, so a function cannot forge another
    service's events: one statement per source, allowing only the detail-types published from it
    (a single statement would allow every source with every detail-type). ForAllValues passes a
    request without the key, hence the Null condition: the detail-type must be there."""
    by_source: dict[str, set[str]] = {}
    for event in published:
        by_source.setdefault(event.source, set()).add(event.detail_type())
    return [
        iam.PolicyStatement(
            actions=["events:PutEvents"],
            resources=[bus.event_bus_arn],
            conditions={
                "StringEquals": {"events:source": source},
                "ForAllValues:StringEquals": {"events:detail-type": sorted(detail_types)},
                "Null": {"events:detail-type": "false"},
            },
        )
        for source, detail_types in sorted(by_source.items())
    ]


def trigger_pattern(triggers: tuple[type[Message], ...]) -> events.EventPattern:
    """The events of `triggers`: their sources and detail-types (each detail-type is published
    from one source only, so the two lists match exactly these events)."""
    return events.EventPattern(
        source=sorted({event.source for event in triggers}),
        detail_type=[event.detail_type() for event in triggers],
    )


class ChoreographyStack(Stack):
    def __init__(self, scope: Construct, construct_id_: str, *, lambda_code: lambda_.Code, **kwargs) -> None:
        super().__init__(scope, construct_id_, **kwargs)
        tables = SagaTables(self, "Tables")
        lambdas = SagaLambdas(self, "Lambdas", code=lambda_code, saga_style=SAGA_STYLE, tables=tables)
        unknown = set(ROUTES) - set(lambdas.steps)
        if unknown:
            raise ValueError(f"ROUTES names steps without a function: {sorted(unknown)}")

        self.bus = events.EventBus(self, "Bus", event_bus_name=f"{self.stack_name}-bus")
        self.dead_letter_queue = dead_letter_queue(self, "DeadLetterQueue")

        # Everything that publishes (the relay, the reconciler, each step) may put on the bus the
        # events it publishes, and no others.
        for name, published in published_events(lambdas.steps).items():
            fn = lambdas.functions[name]
            fn.add_environment("EVENT_BUS_NAME", self.bus.event_bus_name)
            for statement in put_events_statements(self.bus, published):
                fn.add_to_role_policy(statement)

        for step, triggers in ROUTES.items():
            fn = lambdas.steps[step]
            names = ", ".join(event.detail_type() for event in triggers)
            events.Rule(
                self,
                f"{contract.pascal(step)}Rule",
                event_bus=self.bus,
                description=f"{names} -> {step}",
                event_pattern=trigger_pattern(triggers),
                targets=[
                    targets.LambdaFunction(
                        fn,
                        dead_letter_queue=self.dead_letter_queue,
                        retry_attempts=TARGET_RETRY_ATTEMPTS,
                        max_event_age=MAX_EVENT_AGE,
                    )
                ],
            )
            fn.configure_async_invoke(
                on_failure=destinations.SqsDestination(self.dead_letter_queue),
                retry_attempts=ASYNC_RETRY_ATTEMPTS,
                max_event_age=MAX_EVENT_AGE,
            )

        OutboxRelay(
            self,
            "Outbox",
            table=tables.orders,
            function=lambdas.start_saga,
            dead_letter_queue=self.dead_letter_queue,
        )
        reconciler = Reconciler(self, "Reconciler", function=lambdas.reconcile)
        alarms = SagaAlarms(
            self,
            "Alarms",
            saga_style=SAGA_STYLE,
            dead_letter_queue=self.dead_letter_queue,
            reconciler=lambdas.reconcile,
            stuck_after_seconds=reconciler.stuck_after_seconds,
        )

        self.event_tap = _event_tap(self, self.bus) if Target.of(self).event_tap else None

        api = OrdersApi(self, "Api", create_order=lambdas.create_order, get_order=lambdas.get_order)
        add_common_outputs(
            self,
            api=api,
            tables=tables,
            dead_letter_queue=self.dead_letter_queue,
            reconciler=lambdas.reconcile,
            alarms=alarms,
        )
        CfnOutput(self, "EventBusName", value=self.bus.event_bus_name)
        if self.event_tap is not None:
            CfnOutput(self, "EventLogGroupName", value=self.event_tap.log_group_name)
