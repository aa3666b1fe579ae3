"""cdk-nag's AwsSolutions checks, and the project's acknowledged findings, each with its reason.

`check_with_cdk_nag(app)` registers the AwsSolutions pack as a CDK validation plugin (cdk-nag 3:
`Validations.of(app).add_plugins(...)`; the v2 `Aspects` + `NagSuppressions` API is gone) and
acknowledges the findings below, one rule on one resource at a time. `app.synth()` (so `cdk
synth` and `cdk deploy`) then fails on any other finding, error or warning, and writes the full
report, acknowledged findings and their reasons included, to `<outdir>/validation-report.json`.

Fixed rather than acknowledged (in `shared.infra`): point-in-time recovery on the tables (DDB3),
API access logging (APIG1) and execution logging (APIG6). The dead-letter queue enforces TLS and
is encrypted (SQS4, SQS2), the state machine traces (SF2) and, on AWS, logs ALL events (SF1; on
LocalStack it logs errors only, acknowledged below), the alarm topic (AWS only) is encrypted with
a rotated key and enforces TLS (SNS2, SNS3, KMS5).

IAM wildcards (IAM5) are acknowledged only in the shapes AWS or CDK impose, and only after reading
the statement they come from: `*` for actions that AWS defines on no resource (Step Functions log
delivery, X-Ray, DynamoDB ListStreams for the outbox relay's stream), `*` for
`cloudwatch:PutMetricData` only under a condition naming the saga's metric namespace,
`<function>.Arn:*` for `lambda:InvokeFunction` on the versions and aliases of one function, and
`...:execution:<state machine>.Name:*` for `states:DescribeExecution` on the executions of one
state machine of the stack (their names are order ids). Any other wildcard, or these on any other
action, stays a finding. Table grants name the table or the one index they use, never `index/*`
(`shared.infra.lambdas`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set

from aws_cdk import Acknowledgment, CfnResource, Stack, Stage, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from shared.adapters.metrics import NAMESPACE
from shared.infra.api import OrdersApi
from shared.infra.functions import RUNTIME, SagaFunction
from shared.infra.target import Target

PACK = "AwsSolutions"

# Actions AWS defines on no resource ("Resource": "*" is the only form IAM accepts for them).
RESOURCE_STAR_ACTIONS = frozenset(
    {
        # Step Functions log delivery to CloudWatch Logs (CDK adds them with `logs=`).
        "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:DescribeLogGroups",
        "logs:DescribeResourcePolicies",
        "logs:GetLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:UpdateLogDelivery",
        # X-Ray tracing (CDK adds them with `tracing_enabled=True`).
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
        # The outbox relay's event source mapping (CDK adds it with the DynamoDB stream source;
        # the stream reads themselves are granted on the one stream's ARN).
        "dynamodb:ListStreams",
    }
)
# PutMetricData is defined on no resource either, but is accepted on "*" only with this condition.
NAMESPACED_METRIC_ACTIONS = frozenset({"cloudwatch:PutMetricData"})
METRIC_NAMESPACE_CONDITION = {"StringEquals": {"cloudwatch:namespace": NAMESPACE}}
QUALIFIED_INVOKE_ACTIONS = frozenset({"lambda:InvokeFunction"})
EXECUTION_READ_ACTIONS = frozenset({"states:DescribeExecution"})

REASONS = {
    "IAM5-resource-star": (
        "Only actions that AWS defines on no resource are granted on '*': Step Functions log "
        "delivery (logs:*LogDelivery*, DescribeLogGroups, DescribeResourcePolicies, "
        "PutResourcePolicy), X-Ray trace upload and dynamodb:ListStreams (the outbox relay's "
        "stream mapping; its stream reads name the one stream); IAM accepts no narrower Resource "
        "for them (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html, "
        "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html)."
    ),
    "IAM5-metric-namespace": (
        f"cloudwatch:PutMetricData is defined on no resource, so '*' is the only Resource IAM "
        f"accepts; the statement is limited by its condition to the saga's own namespace "
        f"(cloudwatch:namespace = {NAMESPACE}), where the reconciler reports the oldest open order."
    ),
    "IAM5-executions": (
        "states:DescribeExecution on '<state machine>:*' covers the executions of this one state "
        "machine, whose names (the order id, plus -r<n> for a recovery) are only known at run "
        "time; the reconciler reads an order's execution status and nothing else."
    ),
    "IAM5-qualified-invoke": (
        "lambda:InvokeFunction on '<function ARN>:*' is CDK's LambdaInvoke grant for the versions "
        "and aliases of that one saga function (a qualified ARN); it names no other function."
    ),
    "APIG2": (
        "POST /orders bodies are validated by the create_order handler (pydantic OrderRequest, 4 KiB "
        "cap), because the API contract answers 400 naming each bad field, which an API Gateway "
        "model validator cannot (it answers a bare 'Invalid request body'); the only parameter, the "
        "{orderId} path segment, is always present by routing."
    ),
    "APIG3": (
        "Local demo API, deployed to LocalStack community, which has no WAF. A production "
        "deployment associates a WAFv2 web ACL (AWS managed common and IP reputation rule sets, a "
        "rate-based rule) with this stage; the stage is throttled in the meantime."
    ),
    "APIG4": (
        "Local target only (shared.infra.target): LocalStack community has no Cognito and the "
        "scenarios name their customer in the body. The aws target puts a Cognito user pool "
        "authorizer on both methods and scopes GET /orders/{orderId} to the order's customer."
    ),
    "COG4": (
        "Local target only: LocalStack community has no Cognito, so no user pool authorizer. The "
        "aws target puts the stack's Cognito user pool authorizer on both methods (shared.infra.api)."
    ),
    "COG2": (
        "MFA is optional for the shop's customers (TOTP offered, SMS off): requiring a second factor "
        "of every customer is a product decision. The pool has no self sign-up: the shop creates each "
        "customer, with a strong password policy (shared.infra.customers)."
    ),
    "COG8": (
        "The Essentials feature plan: the Plus plan's threat protection (compromised credentials, "
        "adaptive authentication) is billed per monthly active user, a cost left to the shop's "
        "choice (docs/aws.md); the pool has no self sign-up and a strong password policy."
    ),
    "L1": (
        f"The runtime is pinned to {RUNTIME.name} on purpose: the code bundle (`make bundle`) "
        f"installs compiled wheels for Python 3.12 and the Docker-free Lambda executor runs "
        f"Python 3.12; moving to a newer runtime is a deliberate change of bundle, executor and tests."
    ),
    "SF1": (
        "Local target only (shared.infra.target): LocalStack writes state machine logs synchronously "
        "on the execution's critical path, so every logged event slows each hand-off; the state "
        "machine logs errors only there, and `make compare` reads the execution history instead. "
        "The aws target logs ALL events (without execution data)."
    ),
    "SQS3": (
        "This queue is the dead-letter queue itself (the rule targets' DLQ, the functions' and the "
        "outbox stream mapping's on-failure destination); cdk-nag only recognises a DLQ through "
        "another queue's RedrivePolicy, and a DLQ of a DLQ would only move the messages one hop "
        "further."
    ),
}


def check_with_cdk_nag(app: Stage) -> None:
    """Run the AwsSolutions pack on every stack of `app` at synth, with the project's acknowledgments."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    for stack in _stacks(app):
        acknowledge_findings(stack)


def acknowledge_findings(stack: Stack) -> None:
    """Acknowledge, on the resources they concern, the findings this project accepts (see REASONS)."""
    for api in _all(stack, OrdersApi):
        rest_api = api.rest_api
        _acknowledge(rest_api.node.default_child, "APIG2")
        _acknowledge(rest_api.deployment_stage.node.default_child, "APIG3")
        for method in rest_api.methods:
            if _authorization_type(method) == apigw.AuthorizationType.NONE.value:
                _acknowledge(method.node.default_child, "APIG4", "COG4")
        if api.customers is not None:
            _acknowledge(api.customers.user_pool.node.default_child, "COG2", "COG8")

    for saga_function in _all(stack, SagaFunction):
        if saga_function.function.runtime.name == RUNTIME.name:
            _acknowledge(saga_function.function.node.default_child, "L1")

    for state_machine in _all(stack, sfn.StateMachine):
        if Target.of(state_machine).state_machine_log_level != sfn.LogLevel.ALL:
            _acknowledge(state_machine.node.default_child, "SF1")

    dead_letter_queue = getattr(stack, "dead_letter_queue", None)
    if isinstance(dead_letter_queue, sqs.Queue):
        _acknowledge(dead_letter_queue.node.default_child, "SQS3")

    functions = {stack.get_logical_id(fn.node.default_child) for fn in _all(stack, lambda_.Function)}
    state_machines = {stack.get_logical_id(sm.node.default_child) for sm in _all(stack, sfn.StateMachine)}
    for policy in _all(stack, iam.CfnPolicy):
        document = stack.resolve(policy.policy_document)
        for finding, reason_keys in _accepted_wildcards(document, functions, state_machines):
            Validations.of(policy).acknowledge(
                Acknowledgment(
                    id=f"{PACK}::{PACK}-IAM5[{finding}]",
                    reason=" ".join(REASONS[key] for key in sorted(reason_keys)),
                )
            )


def _accepted_wildcards(
    document: dict, lambda_logical_ids: Set[str], state_machine_logical_ids: Set[str] = frozenset()
) -> Iterator[tuple[str, set[str]]]:
    """IAM5 findings (`Resource::...`) of a policy that are one of the accepted shapes, with the
    reasons of the statements they come from, and only if no statement uses the same wildcard
    resource for anything else."""
    accepted: dict[str, set[str]] = {}
    refused: set[str] = set()
    qualified = {f"<{logical_id}.Arn>:*" for logical_id in lambda_logical_ids}
    executions = {
        f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<{logical_id}.Name>:*"
        for logical_id in state_machine_logical_ids
    }
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        actions = set(_as_list(statement.get("Action")))
        for resource in map(_flatten, _as_list(statement.get("Resource"))):
            if "*" not in resource:
                continue
            finding = f"Resource::{resource}"
            key = _accepted_shape(resource, actions, statement.get("Condition"), qualified, executions)
            if key is None:
                refused.add(finding)
            else:
                accepted.setdefault(finding, set()).add(key)
    return ((finding, keys) for finding, keys in accepted.items() if finding not in refused)


def _accepted_shape(
    resource: str, actions: set[str], condition: object, qualified: set[str], executions: set[str]
) -> str | None:
    """The REASONS key of an accepted wildcard shape, or None."""
    if resource == "*" and actions <= RESOURCE_STAR_ACTIONS:
        return "IAM5-resource-star"
    if resource == "*" and actions <= NAMESPACED_METRIC_ACTIONS and condition == METRIC_NAMESPACE_CONDITION:
        return "IAM5-metric-namespace"
    if resource in qualified and actions <= QUALIFIED_INVOKE_ACTIONS:
        return "IAM5-qualified-invoke"
    if resource in executions and actions <= EXECUTION_READ_ACTIONS:
        return "IAM5-executions"
    return None


def _flatten(reference: object) -> str:
    """A resource as cdk-nag writes it in an IAM5 finding (port of its `flattenCfnReference`)."""
    if isinstance(reference, str):
        return reference.replace("${", "<").replace("}", ">")
    if isinstance(reference, dict):
        if "Fn::Join" in reference:
            delimiter, items = reference["Fn::Join"]
            return delimiter.join(_flatten(item) for item in items)
        if "Fn::GetAtt" in reference:
            resource, attribute = reference["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Ref" in reference:
            return f"<{_flatten(reference['Ref'])}>"
    return repr(reference)  # any other shape: never matches an accepted finding


def _acknowledge(resource: IConstruct | None, *rules: str) -> None:
    if not isinstance(resource, CfnResource):
        raise TypeError(f"expected a CloudFormation resource, got {resource!r}")
    Validations.of(resource).acknowledge(
        *(Acknowledgment(id=f"{PACK}::{PACK}-{rule}", reason=REASONS[rule]) for rule in rules)
    )


def _authorization_type(method: apigw.Method) -> str:
    """The method's authorization type as the template will have it (none given: NONE)."""
    resource = method.node.default_child
    if not isinstance(resource, apigw.CfnMethod):
        raise TypeError(f"expected a CloudFormation method, got {resource!r}")
    return resource.authorization_type or apigw.AuthorizationType.NONE.value


def _stacks(app: Stage) -> Iterable[Stack]:
    return (c for c in app.node.find_all() if isinstance(c, Stack))


def _all(scope: IConstruct, kind: type) -> list:
    return [c for c in scope.node.find_all() if isinstance(c, kind)]


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
