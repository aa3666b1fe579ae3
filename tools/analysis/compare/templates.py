"""The stacks as CloudFormation sees them: `app.py` synthesized offline, and what its templates
say: resources by type, IAM statements, and the places that state the flow (state machines, and
rules that deliver events to a function or a state machine; a rule into a log group, an event
tap, only watches)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from shared.contract import snake


class FlowPlace(BaseModel):
    """A deployed place that states part of the flow: a state machine or an event rule."""

    kind: Literal["state machine", "rule"]
    name: str  # the resource's logical id, without CDK's hash
    links: list[str]  # "ReserveInventory → ChargePayment", "OrderCreated → reserve_inventory"


# --- synth -----------------------------------------------------------------------------------


class SynthFailed(RuntimeError):
    pass


@cache
def synthesize(root: Path) -> dict[str, dict]:
    """Stack name -> template, as `app.py` writes them for `cdk synth`: cdk.json's context (the
    CLI passes it in CDK_CONTEXT_JSON), a stand-in Lambda bundle, cdk-nag included. Offline; once
    per root and process."""
    with tempfile.TemporaryDirectory(prefix="saga-synth-") as tmp:
        bundle, out = Path(tmp, "bundle"), Path(tmp, "cdk.out")
        bundle.mkdir()
        (bundle / "marker.py").write_text("# stands in for the Lambda bundle: templates only\n")
        context = json.loads((root / "cdk.json").read_text())["context"]
        env = {
            **os.environ,
            "CDK_CONTEXT_JSON": json.dumps(context),
            "SAGA_LAMBDA_ASSET": str(bundle),
            "CDK_OUTDIR": str(out),
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        }
        run = subprocess.run(
            [sys.executable, str(root / "app.py")], cwd=root, env=env, capture_output=True, text=True, timeout=600
        )
        if run.returncode:
            raise SynthFailed(f"app.py failed in {root}: {run.stderr.strip()[-2000:]}")
        return {p.name.removesuffix(".template.json"): json.loads(p.read_text()) for p in out.glob("*.template.json")}


def resources_by_type(template: dict) -> dict[str, int]:
    counted = Counter(r["Type"] for r in template.get("Resources", {}).values() if r["Type"] != "AWS::CDK::Metadata")
    return dict(sorted(counted.items()))


def _statements(document: object) -> int:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return 1
    if isinstance(document, dict) and isinstance(document.get("Statement"), list):
        return len(document["Statement"])
    return 1  # one statement, or a document CloudFormation builds at deploy time (Fn::Join)


def iam_statements(template: dict) -> int:
    total = 0
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            total += _statements(properties.get("PolicyDocument"))
        elif resource["Type"] == "AWS::IAM::Role":
            total += sum(_statements(p.get("PolicyDocument")) for p in properties.get("Policies", []))
    return total


def resource_permissions(template: dict) -> int:
    total = 0
    for resource in template.get("Resources", {}).values():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::Lambda::Permission":
            total += 1
        elif kind.startswith("AWS::IAM::"):
            continue
        elif "PolicyDocument" in properties:
            total += _statements(properties["PolicyDocument"])
    return total


def _joined(value: object) -> str | None:
    """A string CloudFormation joins at deploy time, with each intrinsic as a placeholder."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(p if isinstance(p, str) else "${token}" for p in parts)
    return None


def _transitions(states: dict) -> Iterator[str]:
    for name, state in states.items():
        for key in ("Next", "Default"):
            if key in state:
                yield f"{name} → {state[key]}"
        for choice in state.get("Choices", []):
            yield f"{name} → {choice['Next']}"
        for catch in state.get("Catch", []):
            yield f"{name} → {catch['Next']} (catch {', '.join(catch['ErrorEquals'])})"
        for branch in [*state.get("Branches", []), state.get("Iterator"), state.get("ItemProcessor")]:
            if branch:
                yield from _transitions(branch.get("States", {}))


def _target_name(resources: dict, stack: str, arn: object) -> str | None:
    """What a rule target is, by name; None for a log group (a tap: it only watches)."""
    logical = arn.get("Fn::GetAtt", [None])[0] if isinstance(arn, dict) else None
    if isinstance(arn, dict) and "Ref" in arn:
        logical = arn["Ref"]
    resource = resources.get(logical, {})
    kind, properties = resource.get("Type", ""), resource.get("Properties", {})
    if kind == "AWS::Logs::LogGroup":
        return None
    name = properties.get("FunctionName") or properties.get("StateMachineName")
    if isinstance(name, str):
        return snake(name.removeprefix(f"{stack}-").replace("-", "_")) if kind == "AWS::Lambda::Function" else name
    return logical or "?"


def _unhashed(logical: str) -> str:
    """`OrderSagaF61556E2` -> `OrderSaga`: CDK's logical id without the hash it appends."""
    return re.sub(r"[0-9A-F]{8}$", "", logical) or logical


def flow(template: dict, stack: str) -> list[FlowPlace]:
    resources = template.get("Resources", {})
    places = []
    for logical, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            definition = _joined(properties.get("DefinitionString"))
            states = json.loads(definition).get("States", {}) if definition else {}
            places.append(FlowPlace(kind="state machine", name=_unhashed(logical), links=list(_transitions(states))))
        elif resource["Type"] == "AWS::Events::Rule" and "EventPattern" in properties:
            targets = [_target_name(resources, stack, t.get("Arn")) for t in properties.get("Targets", [])]
            delivered = [t for t in targets if t]
            if delivered:
                pattern = properties["EventPattern"]
                heard = " | ".join(pattern.get("detail-type") or [json.dumps(pattern.get("source"))])
                links = [f"{heard} → {t}" for t in delivered]
                places.append(FlowPlace(kind="rule", name=_unhashed(logical), links=links))
    return places


def step_names(templates: Iterable[dict], stacks: Iterable[str]) -> set[str]:
    """The functions the stacks deploy, by step name (`SagaX-reserve-inventory` -> reserve_inventory)."""
    names = set()
    for template, stack in zip(templates, stacks, strict=True):
        for resource in template.get("Resources", {}).values():
            name = resource.get("Properties", {}).get("FunctionName")
            if resource["Type"] == "AWS::Lambda::Function" and isinstance(name, str):
                names.add(name.removeprefix(f"{stack}-").replace("-", "_"))
    return names


def handler_modules(template: dict) -> set[str]:
    """The modules the stack's functions run (`Handler`: `orchestration.handlers.x.handler`)."""
    found = set()
    for resource in template.get("Resources", {}).values():
        handler = resource.get("Properties", {}).get("Handler")
        if resource["Type"] == "AWS::Lambda::Function" and isinstance(handler, str) and "." in handler:
            found.add(handler.rpartition(".")[0])
    return found
