"""Orchestration: a Standard Step Functions state machine drives the saga.

    ReserveInventory -> ChargePayment -> NotifyShipping -> OrderCompleted (Succeed)

    ReserveInventory --OutOfStockError------> OutOfStock
    ChargePayment    --PaymentDeclinedError-> ReleaseInventory -> PaymentFailed
    ChargePayment    --any other error------> CancelPayment -> ReleaseAfterCancel -> PaymentIncomplete
    NotifyShipping   --any error------------> RefundPayment -> ReleaseAfterRefund -> ShippingFailed
    CancelPayment, RefundPayment --AlreadyShipped--> OrderCompleted (the order shipped after all)

("any error": once the retries below are spent; ShippingRefusedError is one, and not retried.)

Every end above is a Succeed state: the saga reached a consistent end, and the order's status
says which. An execution FAILS only when the saga could not get there (a compensation that
failed for good, an order parked for a person) or TIMES OUT: exactly what the alarms on failed
and timed-out executions should wake someone for, and what the reconciler picks up.

Each task passes its whole input to the Lambda and its output is the handler's returned dict
(`payload_response_only`), so every step receives the previous step's event. The execution input
is the OrderCreated event. A Catch keeps the failed task's input and adds the error under `error`
({Error, Cause}); a compensation accepts that, or the previous compensation's outcome.

Compensation runs in reverse order: refund, then release. Each failure has its own chain, so the
states an execution went through, and the end state it reached, say which compensation ran:
`PaymentFailed` (declined: release only), `PaymentIncomplete` (the charge never answered: its
payment voided or refunded, then release), `ShippingFailed` (shipping refused or never answered:
refund, then release). `CancelPayment` and `RefundPayment` run the same function
(refund_payment), as do the three release states (release_inventory): CDK states and Step
Functions state names are used once, and a shared refund could not tell the two ends apart.
`TASK_STEPS` maps every task state to its step.

Retries: the domain answers (`DOMAIN_ERRORS`) are never retried. Everything else (Lambda service
errors, throttling, DynamoDB transaction conflicts, timeouts, injected faults) is retried with
exponential backoff, full jitter and a capped delay: steps `STEP_RETRIES` times, compensations,
which must complete, `COMPENSATION_RETRIES` times. The saga's own timeout (`SAGA_TIMEOUT`) is
longer than the worst case of the longest path, every retry of reserve, charge, notify, refund
and release spent in full (`WORST_CASE_SECONDS`), so a saga is never cut off mid-compensation by
its own clock. With 10 s Lambdas, 1 s first delay, backoff 2 and delays capped at 8 s: a step is
6 attempts + 1+2+4+8+8 s of waits = 83 s at most, a compensation 9 attempts + 47 s = 137 s, the
longest path 3 x 83 + 2 x 137 = 523 s; the saga times out after 10 minutes.
"""

from __future__ import annotations

import math

from aws_cdk import ArnFormat, CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from shared import contract
from shared.domain.errors import (
    AlreadyShipped,
    OrderNeedsAttention,
    OutOfStockError,
    PaymentDeclinedError,
    ShippingRefusedError,
)
from shared.infra import (
    OrdersApi,
    OutboxRelay,
    Reconciler,
    SagaAlarms,
    SagaLambdas,
    SagaTables,
    dead_letter_queue,
)
from shared.infra.functions import TIMEOUT
from shared.infra.log_groups import saga_log_group
from shared.infra.outputs import add_common_outputs
from shared.infra.target import Target

SAGA_STYLE = contract.ORCHESTRATION

# Business answers, not failures: a retry would get the same answer.
DOMAIN_ERRORS = [
    e.__name__
    for e in (OutOfStockError, PaymentDeclinedError, ShippingRefusedError, AlreadyShipped, OrderNeedsAttention)
]
RETRY_INTERVAL_SECONDS = 1
RETRY_BACKOFF_RATE = 2
RETRY_MAX_DELAY_SECONDS = 8
STEP_RETRIES = 5
COMPENSATION_RETRIES = 8
FORWARD_STEPS = frozenset(contract.FORWARD_STEPS)

# Task state -> the step (Lambda handler) it runs.
TASK_STEPS: dict[str, str] = {
    "ReserveInventory": "reserve_inventory",
    "ChargePayment": "charge_payment",
    "NotifyShipping": "notify_shipping",
    "ReleaseInventory": "release_inventory",
    "CancelPayment": "refund_payment",
    "ReleaseAfterCancel": "release_inventory",
    "RefundPayment": "refund_payment",
    "ReleaseAfterRefund": "release_inventory",
}


def retry_delays(retries: int) -> list[float]:
    """The longest wait before each retry: interval x backoff^n, capped (full jitter only shortens it)."""
    return [min(RETRY_INTERVAL_SECONDS * RETRY_BACKOFF_RATE**n, RETRY_MAX_DELAY_SECONDS) for n in range(retries)]


def worst_case_seconds(retries: int) -> float:
    """One task, every attempt running to the Lambda timeout and every retry waiting its longest."""
    return (retries + 1) * TIMEOUT.to_seconds() + sum(retry_delays(retries))


# The longest path: reserve, charge, notify, then refund and release.
WORST_CASE_SECONDS = 3 * worst_case_seconds(STEP_RETRIES) + 2 * worst_case_seconds(COMPENSATION_RETRIES)
# Above the worst case by at least a minute (state transitions, cold starts), in whole minutes.
SAGA_TIMEOUT = Duration.minutes(math.ceil((WORST_CASE_SECONDS + 60) / 60))
if SAGA_TIMEOUT.to_seconds() <= WORST_CASE_SECONDS:  # the rounding above guarantees it; say so
    raise ValueError(f"saga timeout {SAGA_TIMEOUT.to_seconds()} s within the retry budget {WORST_CASE_SECONDS} s")


def _invoke(scope: Construct, state_id: str, fn: lambda_.IFunction, *, retries: int) -> tasks.LambdaInvoke:
    task = tasks.LambdaInvoke(
        scope,
        state_id,
        lambda_function=fn,
        payload_response_only=True,
        retry_on_service_exceptions=False,  # replaced by the explicit retries below
    )
    task.add_retry(errors=DOMAIN_ERRORS, max_attempts=0)
    task.add_retry(
        errors=[sfn.Errors.ALL],
        interval=Duration.seconds(RETRY_INTERVAL_SECONDS),
        backoff_rate=RETRY_BACKOFF_RATE,
        max_delay=Duration.seconds(RETRY_MAX_DELAY_SECONDS),
        max_attempts=retries,
        jitter_strategy=sfn.JitterType.FULL,
    )
    return task


class OrchestrationStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, lambda_code: lambda_.Code, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        tables = SagaTables(self, "Tables")
        lambdas = SagaLambdas(self, "Lambdas", code=lambda_code, saga_style=SAGA_STYLE, tables=tables)

        def state(state_id: str) -> tasks.LambdaInvoke:
            step = TASK_STEPS[state_id]
            retries = STEP_RETRIES if step in FORWARD_STEPS else COMPENSATION_RETRIES
            return _invoke(self, state_id, lambdas.steps[step], retries=retries)

        reserve, charge, notify = state("ReserveInventory"), state("ChargePayment"), state("NotifyShipping")
        completed = sfn.Succeed(self, "OrderCompleted")

        def end(state_id: str, comment: str) -> sfn.Succeed:
            return sfn.Succeed(self, state_id, comment=comment)

        out_of_stock = end("OutOfStock", "Not enough stock; nothing to compensate")
        declined = state("ReleaseInventory").next(end("PaymentFailed", "Payment declined; inventory released"))
        cancel = state("CancelPayment")
        cancel.add_catch(completed, errors=[AlreadyShipped.__name__], result_path="$.error")
        charge_lost = cancel.next(state("ReleaseAfterCancel")).next(
            end("PaymentIncomplete", "Payment did not complete; payment voided or refunded, then inventory released")
        )
        refund = state("RefundPayment")
        refund.add_catch(completed, errors=[AlreadyShipped.__name__], result_path="$.error")
        shipping_failed = refund.next(state("ReleaseAfterRefund")).next(
            end("ShippingFailed", "Shipping failed; payment refunded, then inventory released")
        )

        reserve.add_catch(out_of_stock, errors=[OutOfStockError.__name__], result_path="$.error")
        charge.add_catch(declined, errors=[PaymentDeclinedError.__name__], result_path="$.error")
        charge.add_catch(charge_lost, errors=[sfn.Errors.ALL], result_path="$.error")
        notify.add_catch(shipping_failed, errors=[sfn.Errors.ALL], result_path="$.error")

        definition = reserve.next(charge).next(notify).next(completed)

        log_group = saga_log_group(self, "StateMachineLogs")
        self.state_machine = sfn.StateMachine(
            self,
            "OrderSaga",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=SAGA_TIMEOUT,
            tracing_enabled=True,
            # Never the states' inputs and outputs (customer ids, amounts): `make compare` reads the
            # execution history. The level is the target's (`shared.infra.target`).
            logs=sfn.LogOptions(
                destination=log_group,
                level=Target.of(self).state_machine_log_level,
                include_execution_data=False,
            ),
        )

        # The outbox relay starts one execution per new order.
        self.dead_letter_queue = dead_letter_queue(self, "DeadLetterQueue")
        start_saga = lambdas.start_saga
        start_saga.add_environment("STATE_MACHINE_ARN", self.state_machine.state_machine_arn)
        self.state_machine.grant_start_execution(start_saga)
        OutboxRelay(self, "Outbox", table=tables.orders, function=start_saga, dead_letter_queue=self.dead_letter_queue)

        # The reconciler looks at an order's execution and starts a new one if it stopped.
        reconcile = lambdas.reconcile
        reconcile.add_environment("STATE_MACHINE_ARN", self.state_machine.state_machine_arn)
        self.state_machine.grant_start_execution(reconcile)
        reconcile.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution"],
                resources=[
                    self.format_arn(
                        service="states",
                        resource="execution",
                        resource_name=f"{self.state_machine.state_machine_name}:*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        reconciler = Reconciler(self, "Reconciler", function=reconcile)

        alarms = SagaAlarms(
            self,
            "Alarms",
            saga_style=SAGA_STYLE,
            dead_letter_queue=self.dead_letter_queue,
            reconciler=reconcile,
            stuck_after_seconds=reconciler.stuck_after_seconds,
            state_machine=self.state_machine,
        )

        api = OrdersApi(self, "Api", create_order=lambdas.create_order, get_order=lambdas.get_order)
        add_common_outputs(
            self,
            api=api,
            tables=tables,
            dead_letter_queue=self.dead_letter_queue,
            reconciler=reconcile,
            alarms=alarms,
        )
        CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)
