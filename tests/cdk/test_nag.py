"""Security checks of the three stacks on both targets: cdk-nag's AwsSolutions pack finds nothing
unacknowledged, every acknowledgment is narrow and explains itself, and the templates carry no
secrets.

One app and one synth per target (every stack, as `cdk synth -c target=...` runs them through
`shared.infra.nag`), plus a tiny canary stack with wildcards the project must never accept: it
proves in the same run that the checks are live and that an acknowledged shape does not cover a
broader grant.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from aws_cdk import App, CfnResource, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parents[2]
INLINE_CODE = "def handler(event, context):\n    return event\n"
STACKS = ("SagaOrchestration", "SagaChoreography", "SagaHybrid")
TARGETS = ("local", "aws")
# The saga functions' construct ids (Lambdas/<id>), each with its own role.
FUNCTIONS = (
    "CreateOrder",
    "GetOrder",
    "ReserveInventory",
    "ChargePayment",
    "NotifyShipping",
    "RefundPayment",
    "ReleaseInventory",
    "StartSaga",
    "Reconcile",
)
# The stacks with the saga's state machine (its role invokes the steps: LambdaInvoke's `:*`).
STATE_MACHINE_STACKS = ("SagaOrchestration", "SagaHybrid")
# The hybrid's notification service (construct path under the stack).
NOTIFY_CUSTOMER = "Notifications/NotifyCustomer"
XRAY_UPLOAD = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
CANARY = "NagCanary"
PACK = "AwsSolutions"
MIN_REASON_CHARS = 20
ACK_KEY = Validations.ACKNOWLEDGED_RULES_METADATA_KEY

ACCESS_KEY_ID = re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA)[A-Z0-9]{16}\b")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
SECRET_WORDS = re.compile(r"password|passwd|secret|token|api[_-]?key|credential|private[_-]?key", re.I)


@dataclass(frozen=True)
class Acknowledged:
    path: str
    rule: str
    reason: str
    on_resource: bool  # held by a CloudFormation resource, not by a stack or a whole subtree


@dataclass(frozen=True)
class NagRun:
    target: str
    report: dict
    templates: dict[str, dict]
    acknowledgments: list[Acknowledged]
    synth_error: str | None

    def plugin(self) -> dict:
        (report,) = [r for r in self.report["pluginReports"] if r["pluginName"] == PACK]
        return report

    def findings(self, *, in_stacks: tuple[str, ...], key: str = "violations") -> list[tuple[str, str, str]]:
        """(severity, rule, construct path) of every finding under the given stacks."""
        return sorted(
            (violation["severity"], violation["ruleName"], construct["constructPath"])
            for violation in self.plugin().get(key, [])
            for construct in violation["violatingConstructs"]
            if construct["constructPath"].split("/")[0] in in_stacks
        )


def _canary(app: App) -> None:
    """Grants no stack of the project may have: must come out as findings despite the acknowledger."""
    stack = Stack(app, CANARY)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    # An accepted shape (X-Ray on *) next to a grant that is not: the shared Resource::* must stay.
    role.add_to_policy(iam.PolicyStatement(actions=["xray:PutTraceSegments"], resources=["*"]))
    role.add_to_policy(iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=["*"]))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:*"], resources=["arn:aws:s3:::canary/*"]))


@pytest.fixture(scope="module", params=TARGETS)
def nag(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> NagRun:
    from choreography.infra.stack import ChoreographyStack
    from hybrid.infra.stack import HybridStack
    from orchestration.infra.stack import OrchestrationStack
    from shared.infra.nag import check_with_cdk_nag

    outdir = tmp_path_factory.mktemp("cdk.out")
    context = {**json.loads((ROOT / "cdk.json").read_text())["context"], "target": request.param}
    app = App(context=context, outdir=str(outdir))
    OrchestrationStack(app, STACKS[0], lambda_code=lambda_.Code.from_inline(INLINE_CODE))
    ChoreographyStack(app, STACKS[1], lambda_code=lambda_.Code.from_inline(INLINE_CODE))
    HybridStack(app, STACKS[2], lambda_code=lambda_.Code.from_inline(INLINE_CODE))
    _canary(app)
    check_with_cdk_nag(app)
    try:
        app.synth()
        synth_error = None
    except RuntimeError as error:  # the canary's findings make the validation fail, as they must
        synth_error = str(error)
    acknowledgments = [
        Acknowledged(construct.node.path, rule, reason, isinstance(construct, CfnResource))
        for construct in app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == ACK_KEY
        for rule, reason in entry.data.items()
    ]
    return NagRun(
        target=request.param,
        report=json.loads((outdir / "validation-report.json").read_text()),
        templates={name: json.loads((outdir / f"{name}.template.json").read_text()) for name in STACKS},
        acknowledgments=acknowledgments,
        synth_error=synth_error,
    )


# --- the checks are live ---------------------------------------------------------------------


def test_the_checks_catch_wildcards_the_project_does_not_accept(nag: NagRun) -> None:
    assert nag.synth_error is not None and "ValidationFailed" in nag.synth_error
    assert nag.findings(in_stacks=(CANARY,)) == [
        ("error", "AwsSolutions-IAM5[Action::s3:*]", f"{CANARY}/Role/DefaultPolicy/Resource"),
        ("error", "AwsSolutions-IAM5[Resource::*]", f"{CANARY}/Role/DefaultPolicy/Resource"),
        ("error", "AwsSolutions-IAM5[Resource::arn:aws:s3:::canary/*]", f"{CANARY}/Role/DefaultPolicy/Resource"),
    ]


def test_the_pack_checked_every_stack(nag: NagRun) -> None:
    acknowledged = nag.findings(in_stacks=STACKS, key="suppressedViolations")
    assert {path.split("/")[0] for _, _, path in acknowledged} == set(STACKS)


# --- zero unacknowledged findings --------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_no_unacknowledged_findings(nag: NagRun, stack: str) -> None:
    findings = nag.findings(in_stacks=(stack,))  # errors and warnings alike
    assert findings == [], "\n".join(f"{severity} {rule} at {path}" for severity, rule, path in findings)


# --- acknowledgments: narrow and explained -----------------------------------------------------


def test_every_acknowledgment_has_a_written_reason(nag: NagRun) -> None:
    ours = [a for a in nag.acknowledgments if a.path.split("/")[0] in STACKS]
    assert ours
    for ack in ours:
        assert len(ack.reason.strip()) >= MIN_REASON_CHARS, ack
        assert len(set(ack.reason.lower().split())) >= 5, ack  # a sentence, not "ok" or "n/a" padded
    for violation in nag.plugin().get("suppressedViolations", []):
        assert len(violation["reason"].strip()) >= MIN_REASON_CHARS, violation["ruleName"]


def test_acknowledgments_are_on_single_resources_and_name_one_finding(nag: NagRun) -> None:
    for ack in nag.acknowledgments:
        assert ack.on_resource, f"{ack.rule} acknowledged on {ack.path}: a whole stack or subtree"
        assert ack.rule.startswith(f"{PACK}::{PACK}-"), ack
        if "IAM5" in ack.rule:
            assert re.fullmatch(rf"{PACK}::{PACK}-IAM5\[Resource::.+\]", ack.rule), ack  # never Action::


def test_no_acknowledgment_is_left_unused(nag: NagRun) -> None:
    used = {
        (construct["constructPath"], violation["acknowledgedId"])
        for violation in nag.plugin().get("suppressedViolations", [])
        for construct in violation["violatingConstructs"]
    }
    unused = [a for a in nag.acknowledgments if (a.path, a.rule) not in used]
    assert unused == []


def test_only_these_iam_wildcard_shapes_are_acknowledged(nag: NagRun) -> None:
    shapes = {
        re.sub(r"<[A-Za-z0-9]+\.(Arn|Name)>", r"<resource.\1>", a.rule) for a in nag.acknowledgments if "IAM5" in a.rule
    }
    assert shapes == {
        # log delivery, X-Ray, ListStreams, and PutMetricData under its namespace condition:
        # AWS defines no resource for them
        f"{PACK}::{PACK}-IAM5[Resource::*]",
        f"{PACK}::{PACK}-IAM5[Resource::<resource.Arn>:*]",  # LambdaInvoke: versions of one function
        # DescribeExecution: the executions of the one state machine
        f"{PACK}::{PACK}-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>"
        f":execution:<resource.Name>:*]",
    }
    paths = {a.path for a in nag.acknowledgments if "IAM5" in a.rule}
    # X-Ray's trace upload (target aws) puts a `*` statement in every function's role.
    functions = FUNCTIONS if nag.target == "aws" else ("StartSaga", "Reconcile")
    traced_extra = (f"{STACKS[2]}/{NOTIFY_CUSTOMER}/Role/DefaultPolicy/Resource",) if nag.target == "aws" else ()
    assert paths == {
        *(f"{stack}/OrderSaga/Role/DefaultPolicy/Resource" for stack in STATE_MACHINE_STACKS),
        *(f"{stack}/Lambdas/{fn}/Role/DefaultPolicy/Resource" for stack in STACKS for fn in functions),
        *traced_extra,
    }


def test_acknowledged_wildcards_come_from_the_expected_statements(nag: NagRun) -> None:
    """Read back the statements behind each acknowledged IAM5 finding: only the accepted actions."""
    allowed = {
        "StartSaga": {"*": {"dynamodb:ListStreams"}},
        "Reconcile": {"*": {"cloudwatch:PutMetricData"}, "execution": {"states:DescribeExecution"}},
    }
    traced = {"*": XRAY_UPLOAD} if nag.target == "aws" else {}
    for stack in STACKS:
        for logical_id, resource in nag.templates[stack]["Resources"].items():
            if resource["Type"] != "AWS::IAM::Policy":
                continue
            if logical_id.startswith("NotificationsNotifyCustomerRole"):
                fn: str | None = "NotifyCustomer"  # the hybrid's notification service: X-Ray only
            elif not logical_id.startswith("Lambdas"):
                continue  # a state machine's role: test_only_these_iam_wildcard_shapes...
            else:
                fn = next((name for name in FUNCTIONS if logical_id.startswith(f"Lambdas{name}Role")), None)
            assert fn is not None, logical_id
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                text = json.dumps(statement["Resource"])
                if statement["Resource"] == "*":
                    kind = "*"
                elif ":execution:" in text:
                    kind = "execution"
                else:
                    continue
                actions = set(statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
                permitted = allowed.get(fn, {}).get(kind, set()) | traced.get(kind, set())
                assert actions <= permitted, (stack, logical_id, statement)


def test_state_machine_logs_all_events_or_says_why_not(nag: NagRun) -> None:
    """SF1 (log ALL events) is met on AWS and acknowledged on LocalStack only, where the state
    machine logs errors only (shared.infra.target)."""
    acknowledged = [a for a in nag.acknowledgments if a.rule == f"{PACK}::{PACK}-SF1"]
    expected = {"local": [f"{stack}/OrderSaga/Resource" for stack in STATE_MACHINE_STACKS], "aws": []}
    assert [a.path for a in acknowledged] == expected[nag.target]
    assert all("LocalStack" in a.reason for a in acknowledged)


def test_no_acknowledged_finding_names_a_table_index(nag: NagRun) -> None:
    assert [a.rule for a in nag.acknowledgments if "/index/" in a.rule or "/stream/" in a.rule] == []


# --- no secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_template_has_no_credentials(nag: NagRun, stack: str) -> None:
    text = json.dumps(nag.templates[stack])
    assert not ACCESS_KEY_ID.search(text)
    assert not PRIVATE_KEY.search(text)
    assert "NoEcho" not in text  # no secret parameters either
    literal = [(key, value) for key, value in _properties(nag.templates[stack]) if isinstance(value, str)]
    assert [(key, value) for key, value in literal if SECRET_WORDS.search(key)] == []


@pytest.mark.parametrize("stack", STACKS)
def test_function_environments_hold_no_secrets(nag: NagRun, stack: str) -> None:
    functions = [r for r in nag.templates[stack]["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert functions
    for function in functions:
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        for name, value in variables.items():
            assert not SECRET_WORDS.search(name), name
            if isinstance(value, str):
                assert not SECRET_WORDS.search(value), (name, value)


def _properties(node: object):
    """Every (key, value) pair anywhere in a template."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _properties(value)
    elif isinstance(node, list):
        for item in node:
            yield from _properties(item)
