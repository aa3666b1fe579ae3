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

Built to be reused: `orchestrate(stack, ...)` puts the whole orchestrated saga into a stack, and
its `after_end` hook runs something at each of the ends (`ENDS`) before the Succeed state (the
hybrid style publishes the outcome there, `hybrid.infra.stack`); orchestration's hook runs
nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aws_cdk import ArnFormat, CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
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
from shared.domain.order import Status
from shared.infra import (
    OrdersApi,
    OutboxRelay,
    Reconciler,
    SagaAlarms,
    SagaLambdas,
    SagaTables,
)
from shared.infra import dead_letter_queue as dead_letter_queue_of
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


def saga_timeout(worst_case: float) -> Duration:
    """Above the worst case by at least a minute (state transitions, cold starts), in whole minutes."""
    timeout = Duration.minutes(math.ceil((worst_case + 60) / 60))
    if timeout.to_seconds() <= worst_case:  # the rounding above guarantees it; say so
        raise ValueError(f"saga timeout {timeout.to_seconds()} s within the retry budget {worst_case} s")
    return timeout


# The longest path: reserve, charge, notify, then refund and release.
WORST_CASE_SECONDS = 3 * worst_case_seconds(STEP_RETRIES) + 2 * worst_case_seconds(COMPENSATION_RETRIES)
SAGA_TIMEOUT = saga_timeout(WORST_CASE_SECONDS)


# --- the saga's ends ------------------------------------------------------------------------


@dataclass(frozen=True)
class SagaEnd:
    """One consistent end of the saga: its Succeed state, and the order's status when it gets there."""

    state: str
    status: Status
    comment: str | None = None

    @property
    def completed(self) -> bool:
        return self.status is Status.SHIPPING_SCHEDULED


COMPLETED = SagaEnd("OrderCompleted", Status.SHIPPING_SCHEDULED)
OUT_OF_STOCK = SagaEnd("OutOfStock", Status.INVENTORY_FAILED, "Not enough stock; nothing to compensate")
PAYMENT_FAILED = SagaEnd("PaymentFailed", Status.INVENTORY_RELEASED, "Payment declined; inventory released")
PAYMENT_INCOMPLETE = SagaEnd(
    "PaymentIncomplete",
    Status.INVENTORY_RELEASED,
    "Payment did not complete; payment voided or refunded, then inventory released",
)
SHIPPING_FAILED = SagaEnd(
    "ShippingFailed", Status.INVENTORY_RELEASED, "Shipping failed; payment refunded, then inventory released"
)
ENDS = (COMPLETED, OUT_OF_STOCK, PAYMENT_FAILED, PAYMENT_INCOMPLETE, SHIPPING_FAILED)

# The "after the end" hook: given one of the ENDS and its Succeed state, the state to go to
# instead, which must lead to that Succeed state (the hybrid publishes the outcome there).
AfterEnd = Callable[[SagaEnd, sfn.Succeed], sfn.IChainable]


def just_end(end: SagaEnd, succeed: sfn.Succeed) -> sfn.IChainable:
    """Orchestration's hook: nothing after the end."""
    return succeed


# --- the state machine ------------------------------------------------------------------------


def retry_with_backoff(task: sfn.TaskStateBase, retries: int) -> None:
    """Every error retried `retries` times with exponential backoff, full jitter and a capped delay."""
    task.add_retry(
        errors=[sfn.Errors.ALL],
        interval=Duration.seconds(RETRY_INTERVAL_SECONDS),
        backoff_rate=RETRY_BACKOFF_RATE,
        max_delay=Duration.seconds(RETRY_MAX_DELAY_SECONDS),
        max_attempts=retries,
        jitter_strategy=sfn.JitterType.FULL,
    )


def _invoke(scope: Construct, state_id: str, fn: lambda_.IFunction, *, retries: int) -> tasks.LambdaInvoke:
    task = tasks.LambdaInvoke(
        scope,
        state_id,
        lambda_function=fn,
        payload_response_only=True,
        retry_on_service_exceptions=False,  # replaced by the explicit retries below
    )
    task.add_retry(errors=DOMAIN_ERRORS, max_attempts=0)
    retry_with_backoff(task, retries)
    return task


def saga_definition(
    scope: Construct, steps: Mapping[str, lambda_.IFunction], after_end: AfterEnd = just_end
) -> sfn.IChainable:
    """The saga's states (module docstring), each end reached through `after_end`."""

    def state(state_id: str) -> tasks.LambdaInvoke:
        step = TASK_STEPS[state_id]
        retries = STEP_RETRIES if step in FORWARD_STEPS else COMPENSATION_RETRIES
        return _invoke(scope, state_id, steps[step], retries=retries)

    def end(saga_end: SagaEnd) -> sfn.IChainable:
        return after_end(saga_end, sfn.Succeed(scope, saga_end.state, comment=saga_end.comment))

    reserve, charge, notify = state("ReserveInventory"), state("ChargePayment"), state("NotifyShipping")
    completed = end(COMPLETED)
    declined = state("ReleaseInventory").next(end(PAYMENT_FAILED))
    cancel = state("CancelPayment")
    cancel.add_catch(completed, errors=[AlreadyShipped.__name__], result_path="$.error")
    charge_lost = cancel.next(state("ReleaseAfterCancel")).next(end(PAYMENT_INCOMPLETE))
    refund = state("RefundPayment")
    refund.add_catch(completed, errors=[AlreadyShipped.__name__], result_path="$.error")
    shipping_failed = refund.next(state("ReleaseAfterRefund")).next(end(SHIPPING_FAILED))

    reserve.add_catch(end(OUT_OF_STOCK), errors=[OutOfStockError.__name__], result_path="$.error")
    charge.add_catch(declined, errors=[PaymentDeclinedError.__name__], result_path="$.error")
    charge.add_catch(charge_lost, errors=[sfn.Errors.ALL], result_path="$.error")
    notify.add_catch(shipping_failed, errors=[sfn.Errors.ALL], result_path="$.error")
    return reserve.next(charge).next(notify).next(completed)


def saga_state_machine(scope: Construct, definition: sfn.IChainable, *, timeout: Duration) -> sfn.StateMachine:
    log_group = saga_log_group(scope, "StateMachineLogs")
    return sfn.StateMachine(
        scope,
        "OrderSaga",
        state_machine_type=sfn.StateMachineType.STANDARD,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        timeout=timeout,
        tracing_enabled=True,
        # Never the states' inputs and outputs (customer ids, amounts): `make compare` reads the
        # execution history. The level is the target's (`shared.infra.target`).
        logs=sfn.LogOptions(
            destination=log_group,
            level=Target.of(scope).state_machine_log_level,
            include_execution_data=False,
        ),
    )


# --- the whole orchestrated saga --------------------------------------------------------------


@dataclass(frozen=True)
class OrchestratedSaga:
    tables: SagaTables
    lambdas: SagaLambdas
    state_machine: sfn.StateMachine
    dead_letter_queue: sqs.Queue
    alarms: SagaAlarms
    api: OrdersApi


def orchestrate(
    stack: Stack,
    *,
    lambda_code: lambda_.Code,
    saga_style: str = SAGA_STYLE,
    after_end: AfterEnd = just_end,
    after_end_seconds: float = 0,
) -> OrchestratedSaga:
    """The orchestrated order saga in `stack`: tables, functions (orchestration's handlers, named
    and measured as `saga_style`), the state machine, the outbox relay that starts it, the
    reconciler that restarts it, the alarms, the API and the common outputs. `after_end` runs at
    each end of the saga and may take up to `after_end_seconds` (added to the saga's timeout)."""
    tables = SagaTables(stack, "Tables")
    lambdas = SagaLambdas(
        stack, "Lambdas", code=lambda_code, saga_style=saga_style, tables=tables, handler_style=SAGA_STYLE
    )
    state_machine = saga_state_machine(
        stack,
        saga_definition(stack, lambdas.steps, after_end),
        timeout=saga_timeout(WORST_CASE_SECONDS + after_end_seconds),
    )

    # The outbox relay starts one execution per new order.
    dead_letter_queue = dead_letter_queue_of(stack, "DeadLetterQueue")
    start_saga = lambdas.start_saga
    start_saga.add_environment("STATE_MACHINE_ARN", state_machine.state_machine_arn)
    state_machine.grant_start_execution(start_saga)
    OutboxRelay(stack, "Outbox", table=tables.orders, function=start_saga, dead_letter_queue=dead_letter_queue)

    # The reconciler looks at an order's execution and starts a new one if it stopped, and lists
    # the executions that ended badly (a finished order whose run was cut short).
    reconcile = lambdas.reconcile
    reconcile.add_environment("STATE_MACHINE_ARN", state_machine.state_machine_arn)
    state_machine.grant_start_execution(reconcile)
    reconcile.add_to_role_policy(
        iam.PolicyStatement(actions=["states:ListExecutions"], resources=[state_machine.state_machine_arn])
    )
    reconcile.add_to_role_policy(
        iam.PolicyStatement(
            actions=["states:DescribeExecution"],
            resources=[
                stack.format_arn(
                    service="states",
                    resource="execution",
                    resource_name=f"{state_machine.state_machine_name}:*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )
    )
    reconciler = Reconciler(stack, "Reconciler", function=reconcile)

    alarms = SagaAlarms(
        stack,
        "Alarms",
        saga_style=saga_style,
        dead_letter_queue=dead_letter_queue,
        reconciler=reconcile,
        stuck_after_seconds=reconciler.stuck_after_seconds,
        state_machine=state_machine,
    )

    api = OrdersApi(stack, "Api", create_order=lambdas.create_order, get_order=lambdas.get_order)
    add_common_outputs(
        stack,
        api=api,
        tables=tables,
        dead_letter_queue=dead_letter_queue,
        reconciler=reconcile,
        alarms=alarms,
    )
    CfnOutput(stack, "StateMachineArn", value=state_machine.state_machine_arn)
    return OrchestratedSaga(tables, lambdas, state_machine, dead_letter_queue, alarms, api)


class OrchestrationStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, lambda_code: lambda_.Code, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        saga = orchestrate(self, lambda_code=lambda_code)
        self.state_machine = saga.state_machine
        self.dead_letter_queue = saga.dead_letter_queue
