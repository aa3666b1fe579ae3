"""One saga Lambda: function, its own role and its own log group.

The function is named `<stack>-<name>` (`reserve_inventory` -> `<stack>-reserve-inventory`) and
its log group `/aws/lambda/<function name>`, where Lambda writes by default (shared.contract
names both). The log group is created before the function (so retention applies from the first
invocation) and the same name works on emulators that ignore LoggingConfig. The role gets nothing
but write access to that log group (and, where the target traces, X-Ray's trace upload, added by
CDK); everything else is granted by the stack with CDK grants.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from shared import contract
from shared.infra.log_groups import saga_log_group
from shared.infra.target import Target

RUNTIME = lambda_.Runtime.PYTHON_3_12
MEMORY_MB = 256
# Every saga step, the API and the outbox relay: a step is a few DynamoDB calls.
TIMEOUT = Duration.seconds(10)
# The reconciler walks every stuck order in one run, so it gets longer.
RECONCILER_TIMEOUT = Duration.seconds(60)
LOG_LEVEL = "INFO"


class SagaFunction(Construct):
    """A Python 3.12 Lambda with the saga's common settings and environment."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        handler: str,
        name: str,  # the function's name in shared.contract: `reserve_inventory`
        service: str,
        saga_style: str,
        environment: Mapping[str, str] | None = None,
        timeout: Duration = TIMEOUT,
    ) -> None:
        super().__init__(scope, construct_id)
        function_name = contract.function_name(Stack.of(self).stack_name, name)

        self.log_group = saga_log_group(self, "Logs", contract.log_group(function_name))
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {function_name}",
        )
        self.log_group.grant_write(self.role)

        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            runtime=RUNTIME,
            handler=handler,
            code=code,
            memory_size=MEMORY_MB,
            timeout=timeout,
            role=self.role,
            log_group=self.log_group,
            tracing=Target.of(self).lambda_tracing,
            environment={
                "POWERTOOLS_SERVICE_NAME": service,
                "SAGA_STYLE": saga_style,
                "LOG_LEVEL": LOG_LEVEL,
                **(environment or {}),
            },
        )
