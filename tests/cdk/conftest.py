"""Synthesized templates of the three stacks, once per test module (a synth takes seconds).

The App gets the context of cdk.json, so the tests see the same feature flags as `cdk synth`
(`python app.py` alone does not read cdk.json). The Lambda code is inline: the stacks must not
care where the bundle comes from. Context `target=aws` gives the templates of the real-account
target (`*_aws_template`); `synthesized_app(target)` runs app.py itself, as `cdk synth -c
target=...` does (its synthesizer and cdk-nag included), into a cloud assembly directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Set before aws_cdk is imported: jsii reads it when it starts.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

ROOT = Path(__file__).resolve().parents[2]

INLINE_CODE = "def handler(event, context):\n    return event\n"


def _app(**context: object) -> App:
    return App(context={**json.loads((ROOT / "cdk.json").read_text())["context"], **context})


def orchestration(**context: object) -> Template:
    """The orchestration stack's template, with extra CDK context if given (`stuckAfterSeconds`)."""
    from orchestration.infra.stack import OrchestrationStack

    app = _app(**context)
    stack = OrchestrationStack(app, "SagaOrchestration", lambda_code=lambda_.Code.from_inline(INLINE_CODE))
    return Template.from_stack(stack)


def choreography(**context: object) -> Template:
    """The choreography stack's template, with extra CDK context if given."""
    from choreography.infra.stack import ChoreographyStack

    app = _app(**context)
    stack = ChoreographyStack(app, "SagaChoreography", lambda_code=lambda_.Code.from_inline(INLINE_CODE))
    return Template.from_stack(stack)


def hybrid(**context: object) -> Template:
    """The hybrid stack's template, with extra CDK context if given."""
    from hybrid.infra.stack import HybridStack

    app = _app(**context)
    stack = HybridStack(app, "SagaHybrid", lambda_code=lambda_.Code.from_inline(INLINE_CODE))
    return Template.from_stack(stack)


STYLES = {"orchestration": orchestration, "choreography": choreography, "hybrid": hybrid}


@pytest.fixture(scope="session")
def synth() -> Callable[..., Template]:
    """`synth("choreography", stuckAfterSeconds=30)`: a template with extra CDK context."""
    return lambda style, **context: STYLES[style](**context)


@pytest.fixture(scope="module")
def orchestration_template() -> Template:
    return orchestration()


@pytest.fixture(scope="module")
def choreography_template() -> Template:
    return choreography()


@pytest.fixture(scope="module")
def hybrid_template() -> Template:
    return hybrid()


@pytest.fixture(scope="module")
def orchestration_aws_template() -> Template:
    return orchestration(target="aws")


@pytest.fixture(scope="module")
def choreography_aws_template() -> Template:
    return choreography(target="aws")


@pytest.fixture(scope="module")
def hybrid_aws_template() -> Template:
    return hybrid(target="aws")


TARGETS = ("local", "aws")


def start_app(env: dict[str, str], cwd: Path = ROOT, **context: object) -> subprocess.Popen:
    """app.py in a subprocess; with `context`, the CDK CLI's way of passing it (cdk.json's context
    merged with `-c` options, in CDK_CONTEXT_JSON)."""
    if context:
        merged = {**json.loads((ROOT / "cdk.json").read_text())["context"], **context}
        env = {"CDK_CONTEXT_JSON": json.dumps(merged), **env}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        cwd=cwd,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_app(env: dict[str, str], cwd: Path = ROOT, **context: object) -> subprocess.CompletedProcess:
    process = start_app(env, cwd, **context)
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.fixture(scope="session")
def synthesized_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Path]]:
    """`synthesized_app("aws")`: the cloud assembly app.py writes for that target, with a stand-in
    bundle and the asset bucket `test-assets` (used by the local target only). The first call
    starts both targets' synths side by side; each runs once per session."""
    bundle = tmp_path_factory.mktemp("bundle")
    (bundle / "marker.py").write_text("# stands in for the real bundle\n")
    running: dict[str, tuple[subprocess.Popen, Path]] = {}
    done: dict[str, Path] = {}

    def synthesize(target: str) -> Path:
        if not running and not done:
            for name in TARGETS:
                out = tmp_path_factory.mktemp(f"cdk.out-{name}")
                env = {"SAGA_LAMBDA_ASSET": str(bundle), "SAGA_ASSET_BUCKET": "test-assets", "CDK_OUTDIR": str(out)}
                running[name] = (start_app(env, target=name), out)
        if target not in done:
            process, out = running.pop(target)
            _, stderr = process.communicate(timeout=300)
            assert process.returncode == 0, stderr[-3000:]
            done[target] = out
        return done[target]

    yield synthesize
    for process, _ in running.values():  # a target no test asked for
        process.kill()
        process.communicate()


# --- fixtures over the `template` fixture of the test module ---------------------------------


@pytest.fixture(scope="module")
def dlq_id(template: Template) -> str:
    """The stack's one SQS queue: its dead-letter queue."""
    (logical_id,) = template.find_resources("AWS::SQS::Queue")
    return logical_id


@pytest.fixture(scope="module")
def alarms(template: Template) -> dict[str, dict]:
    """Alarm name -> Properties of every CloudWatch alarm."""
    found = template.find_resources("AWS::CloudWatch::Alarm").values()
    return {alarm["Properties"]["AlarmName"]: alarm["Properties"] for alarm in found}
