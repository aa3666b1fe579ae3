"""cdk-nag's AwsSolutions checks, and the project's acknowledged findings, each with its reason.

`check_with_cdk_nag(app)` registers the AwsSolutions pack as a CDK validation plugin (cdk-nag 3:
`Validations.of(app).add_plugins(...)`; the v2 `Aspects` + `NagSuppressions` API is gone) and
acknowledges the findings below, one rule on one resource at a time. `app.synth()` (so `cdk
synth` and `cdk deploy`) then fails on any other finding, error or warning, and writes the full
report, acknowledged findings and their reasons included, to `<outdir>/validation-report.json`.

Fixed rather than acknowledged (in `shared.infra`): point-in-time recovery on the tables (DDB3),
API access logging (APIG1) and execution logging (APIG6). The dead-letter queue enforces TLS and
is encrypted (SQS4, SQS2), the state machine logs and traces (SF1, SF2).

IAM wildcards (IAM5) are acknowledged only in the two shapes AWS or CDK impose, and only after
reading the statement they come from: `*` for actions that AWS defines on no resource (Step
Functions log delivery, X-Ray), `<function>.Arn:*` for `lambda:InvokeFunction` on the versions and
aliases of one function. Any other wildcard, or these on any other action, stays a finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from aws_cdk import Acknowledgment, CfnResource, Stack, Stage, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from shared.infra.api import OrdersApi
from shared.infra.functions import RUNTIME, SagaFunction

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
    }
)
QUALIFIED_INVOKE_ACTIONS = frozenset({"lambda:InvokeFunction"})

REASONS = {
    "IAM5-resource-star": (
        "Only actions that AWS defines on no resource are granted on '*': Step Functions log "
        "delivery (logs:*LogDelivery*, DescribeLogGroups, DescribeResourcePolicies, "
        "PutResourcePolicy) and X-Ray trace upload; IAM accepts no narrower Resource for them "
        "(https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html)."
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
        "Local demo API without authentication: LocalStack community has no Cognito and the demo "
        "client carries no identity. A production deployment adds an authorizer (Cognito user pool "
        "or IAM SigV4) and scopes GET /orders/{orderId} to the order's customer."
    ),
    "COG4": (
        "Local demo API: LocalStack community has no Cognito, so no user pool authorizer. A "
        "production deployment adds a Cognito user pool authorizer (or IAM auth) to both methods."
    ),
    "L1": (
        f"The runtime is pinned to {RUNTIME.name} on purpose: the code bundle (`make bundle`) "
        f"installs compiled wheels for Python 3.12 and the Docker-free Lambda executor runs "
        f"Python 3.12; moving to a newer runtime is a deliberate change of bundle, executor and tests."
    ),
    "SQS3": (
        "This queue is the dead-letter queue itself (the rule targets' DLQ and the functions' "
        "on-failure destination); cdk-nag only recognises a DLQ through another queue's "
        "RedrivePolicy, and a DLQ of a DLQ would only move the messages one hop further."
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
            _acknowledge(method.node.default_child, "APIG4", "COG4")

    for saga_function in _all(stack, SagaFunction):
        if saga_function.function.runtime.name == RUNTIME.name:
            _acknowledge(saga_function.function.node.default_child, "L1")

    dead_letter_queue = getattr(stack, "dead_letter_queue", None)
    if isinstance(dead_letter_queue, sqs.Queue):
        _acknowledge(dead_letter_queue.node.default_child, "SQS3")

    functions = {stack.get_logical_id(fn.node.default_child) for fn in _all(stack, lambda_.Function)}
    for policy in _all(stack, iam.CfnPolicy):
        for finding, reason_key in _accepted_wildcards(stack.resolve(policy.policy_document), functions):
            Validations.of(policy).acknowledge(
                Acknowledgment(id=f"{PACK}::{PACK}-IAM5[{finding}]", reason=REASONS[reason_key])
            )


def _accepted_wildcards(document: dict, lambda_logical_ids: set[str]) -> Iterator[tuple[str, str]]:
    """IAM5 findings (`Resource::...`) of a policy that are one of the two accepted shapes, and only
    if no statement uses the same wildcard resource for anything else."""
    accepted: dict[str, str] = {}
    refused: set[str] = set()
    qualified = {f"<{logical_id}.Arn>:*" for logical_id in lambda_logical_ids}
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        actions = set(_as_list(statement.get("Action")))
        for resource in map(_flatten, _as_list(statement.get("Resource"))):
            if "*" not in resource:
                continue
            finding = f"Resource::{resource}"
            if resource == "*" and actions <= RESOURCE_STAR_ACTIONS:
                accepted[finding] = "IAM5-resource-star"
            elif resource in qualified and actions <= QUALIFIED_INVOKE_ACTIONS:
                accepted[finding] = "IAM5-qualified-invoke"
            else:
                refused.add(finding)
    return ((finding, key) for finding, key in accepted.items() if finding not in refused)


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


def _stacks(app: Stage) -> Iterable[Stack]:
    return (c for c in app.node.find_all() if isinstance(c, Stack))


def _all(scope: IConstruct, kind: type) -> list:
    return [c for c in scope.node.find_all() if isinstance(c, kind)]


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
