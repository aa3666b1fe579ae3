"""Orchestration: a Standard Step Functions state machine drives the saga.

    ReserveInventory -> ChargePayment -> NotifyShipping -> OrderCompleted
      | OutOfStockError   | any error (after retries)
      v                   v
    OutOfStock (Fail)   ReleaseInventory -> PaymentFailed (Fail)

Each task passes its whole input to the Lambda and its output is the handler's returned dict
(`payload_response_only`), so every step receives the previous step's event. The execution input
is the OrderCreated event. When ChargePayment fails, its input (InventoryReserved) is kept and the
error is added under `error` ({Error, Cause}) for ReleaseInventory.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from shared.infra import OrdersApi, SagaLambdas, SagaTables
from shared.infra.log_groups import saga_log_group
from shared.infra.outputs import add_common_outputs

SAGA_STYLE = "orchestration"

# Transient errors of the Lambda service itself, plus the injected TransientFault
# (shared/faults.py): safe to retry, since every step is idempotent. Domain errors
# (OutOfStockError, PaymentDeclinedError) are never retried: they are answers, not failures.
TRANSIENT_LAMBDA_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TransientFault",
]
STEP_MAX_ATTEMPTS = 6
# Compensation must complete: it retries longer (at most 1+2+...+64 s of backoff).
COMPENSATION_MAX_ATTEMPTS = 8
OUT_OF_STOCK_ERROR = "OutOfStockError"


def _invoke(scope: Construct, state_id: str, fn: lambda_.IFunction, *, max_attempts: int) -> tasks.LambdaInvoke:
    task = tasks.LambdaInvoke(
        scope,
        state_id,
        lambda_function=fn,
        payload_response_only=True,
        retry_on_service_exceptions=False,  # replaced by the explicit retry below
    )
    task.add_retry(
        errors=TRANSIENT_LAMBDA_ERRORS,
        interval=Duration.seconds(1),
        backoff_rate=2,
        max_attempts=max_attempts,
        jitter_strategy=sfn.JitterType.FULL,
    )
    return task


class OrchestrationStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, lambda_code: lambda_.Code, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        tables = SagaTables(self, "Tables")
        lambdas = SagaLambdas(self, "Lambdas", code=lambda_code, saga_style=SAGA_STYLE, tables=tables)
        steps = lambdas.steps

        reserve = _invoke(self, "ReserveInventory", steps["reserve_inventory"], max_attempts=STEP_MAX_ATTEMPTS)
        charge = _invoke(self, "ChargePayment", steps["charge_payment"], max_attempts=STEP_MAX_ATTEMPTS)
        notify = _invoke(self, "NotifyShipping", steps["notify_shipping"], max_attempts=STEP_MAX_ATTEMPTS)
        release = _invoke(
            self, "ReleaseInventory", steps["release_inventory"], max_attempts=COMPENSATION_MAX_ATTEMPTS
        )

        out_of_stock = sfn.Fail(
            self, "OutOfStock", error=OUT_OF_STOCK_ERROR, cause="Not enough stock to reserve; nothing to compensate"
        )
        payment_failed = sfn.Fail(
            self, "PaymentFailed", error="PaymentFailed", cause="Payment did not go through; inventory released"
        )
        reserve.add_catch(out_of_stock, errors=[OUT_OF_STOCK_ERROR], result_path="$.error")
        charge.add_catch(release.next(payment_failed), errors=[sfn.Errors.ALL], result_path="$.error")

        definition = reserve.next(charge).next(notify).next(sfn.Succeed(self, "OrderCompleted"))

        log_group = saga_log_group(self, "StateMachineLogs")
        self.state_machine = sfn.StateMachine(
            self,
            "OrderSaga",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=Duration.minutes(5),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )

        create_order = lambdas.create_order
        create_order.add_environment("STATE_MACHINE_ARN", self.state_machine.state_machine_arn)
        self.state_machine.grant_start_execution(create_order)

        api = OrdersApi(self, "Api", create_order=create_order, get_order=lambdas.get_order)
        add_common_outputs(self, api=api, tables=tables)
        CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)
