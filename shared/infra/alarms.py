"""`SagaAlarms`: what must wake somebody up, the same in both styles.

- `DeadLetters`: the dead-letter queue holds a message (an event, a stream record or an
  invocation the saga gave up on).
- `ReconcilerErrors`: a reconciler run failed (nobody is then looking after stuck orders).
- `StuckOrders`: the oldest open order was placed more than `STUCK_FACTOR` x stuck-after ago:
  the reconciler has not got it to an end yet (custom metric `OrderSaga/OldestOpenOrderAge`, put
  by the reconciler every minute, dimension Style=<style>). Measured from the order's creation,
  since each recovery attempt updates the order.
- `OrdersNeedingAttention`: the reconciler parked orders it could not finish (custom metric
  `OrderSaga/OrdersNeedingAttention`, the count of parked orders).
- with a state machine (orchestration, hybrid): `ExecutionsFailed` and `ExecutionsTimedOut`.
  Every consistent end of the saga (shipped, out of stock, declined, compensated) is a Succeed
  state, so a failed execution is one that could not reach such an end. And `ExecutionsAborted`:
  somebody stopped an execution. The reconciler finishes an order left open, but one stopped after
  its end was stored and before the hybrid published its outcome gets no notification: a person
  should look.

One-minute periods, one breaching period is enough, and no data is good news (an idle demo stack
is quiet, not in alarm). Every alarm is named `<stack>-<Alarm>`: `DescribeAlarms(AlarmNamePrefix=
<stack>-)` lists them (output `AlarmNamePrefix`).

Where the target has an alarm topic (`shared.infra.target`: on AWS, not on LocalStack), every
alarm notifies the stack's SNS topic `<stack>-alarms` (output `AlarmTopicArn`) when it goes into
alarm and when it is back to OK; subscribe a mailbox or a paging tool to it. The topic is
encrypted with a key of its own (the AWS managed SNS key lets no service principal use it, so
CloudWatch could not publish) and refuses plain HTTP; CloudWatch may publish to it, and use the
key, only for this stack's alarms (`aws:SourceArn` `...:alarm:<stack>-*` in this account).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from shared.adapters.metrics import NAMESPACE, OLDEST_OPEN_ORDER_AGE, ORDERS_NEEDING_ATTENTION, STYLE_DIMENSION
from shared.infra.target import Target

PERIOD = Duration.minutes(1)
# Alarm when the stalest open order has been still for this many stuck-after periods.
STUCK_FACTOR = 3
# A removed topic's key: deleted after the shortest waiting period KMS allows.
TOPIC_KEY_PENDING_WINDOW = Duration.days(7)
CLOUDWATCH = "cloudwatch.amazonaws.com"


class SagaAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        saga_style: str,
        dead_letter_queue: sqs.IQueue,
        reconciler: lambda_.IFunction,
        stuck_after_seconds: int,
        state_machine: sfn.IStateMachine | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name_prefix = f"{Stack.of(self).stack_name}-"
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self.topic = self._topic() if Target.of(self).alarm_topic else None
        self._above(
            "DeadLetters",
            dead_letter_queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            0,
            "The dead-letter queue holds messages the saga gave up on: look at them (make dlq).",
        )
        self._above(
            "ReconcilerErrors",
            reconciler.metric_errors(period=PERIOD, statistic="Sum"),
            0,
            "A reconciler run failed: stuck orders are not being looked after.",
        )
        self.stuck_threshold_seconds = STUCK_FACTOR * stuck_after_seconds
        self._above(
            "StuckOrders",
            self._saga_metric(saga_style, OLDEST_OPEN_ORDER_AGE),
            self.stuck_threshold_seconds,
            f"An order has been open for over {self.stuck_threshold_seconds} s: slow, or stuck (make stuck).",
        )
        self._above(
            "OrdersNeedingAttention",
            self._saga_metric(saga_style, ORDERS_NEEDING_ATTENTION),
            0,
            "The reconciler parked orders it could not finish: they wait for a person (make stuck).",
        )
        if state_machine is not None:
            self._above(
                "ExecutionsFailed",
                state_machine.metric_failed(period=PERIOD, statistic="Sum"),
                0,
                "A saga execution failed: it could not reach a consistent end (those are Succeed states).",
            )
            self._above(
                "ExecutionsTimedOut",
                state_machine.metric_timed_out(period=PERIOD, statistic="Sum"),
                0,
                "A saga execution ran out of time: its retry budget is longer than it should be.",
            )
            self._above(
                "ExecutionsAborted",
                state_machine.metric_aborted(period=PERIOD, statistic="Sum"),
                0,
                "A saga execution was stopped by hand: an open order is resumed by the reconciler,"
                " a finished one may have missed its outcome's publication (hybrid).",
            )

    def _saga_metric(self, saga_style: str, name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=name,
            dimensions_map={STYLE_DIMENSION: saga_style},
            period=PERIOD,
            statistic="Maximum",
        )

    def _topic(self) -> sns.Topic:
        stack = Stack.of(self)
        # Only this stack's alarms, in this account, through CloudWatch (no confused deputy).
        from_these_alarms = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name=f"{self.name_prefix}*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            },
        }
        key = kms.Key(
            self,
            "TopicKey",
            description=f"Encrypts the alarm topic of {stack.stack_name}",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=TOPIC_KEY_PENDING_WINDOW,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisStack",
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions=from_these_alarms,
            )
        )
        topic = sns.Topic(
            self,
            "Topic",
            topic_name=f"{self.name_prefix}alarms",
            display_name=f"{stack.stack_name} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisStack",
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=from_these_alarms,
            )
        )
        return topic

    def _above(self, name: str, metric: cloudwatch.IMetric, threshold: float, description: str) -> None:
        alarm = self.alarms[name] = cloudwatch.Alarm(
            self,
            name,
            alarm_name=f"{self.name_prefix}{name}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if self.topic is not None:
            action = cloudwatch_actions.SnsAction(self.topic)
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
