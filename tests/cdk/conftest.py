"""Synthesized templates of both stacks, once per test module (a synth takes seconds).

The App gets the context of cdk.json, so the tests see the same feature flags as `cdk synth`
(`python app.py` alone does not read cdk.json). The Lambda code is inline: the stacks must not
care where the bundle comes from.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
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
    from orchestration.stack import OrchestrationStack

    app = _app(**context)
    stack = OrchestrationStack(app, "SagaOrchestration", lambda_code=lambda_.Code.from_inline(INLINE_CODE))
    return Template.from_stack(stack)


def choreography(**context: object) -> Template:
    """The choreography stack's template, with extra CDK context if given."""
    from choreography.stack import ChoreographyStack

    app = _app(**context)
    stack = ChoreographyStack(app, "SagaChoreography", lambda_code=lambda_.Code.from_inline(INLINE_CODE))
    return Template.from_stack(stack)


@pytest.fixture(scope="session")
def synth() -> Callable[..., Template]:
    """`synth("choreography", stuckAfterSeconds=30)`: a template with extra CDK context."""
    return lambda style, **context: {"orchestration": orchestration, "choreography": choreography}[style](**context)


@pytest.fixture(scope="module")
def orchestration_template() -> Template:
    return orchestration()


@pytest.fixture(scope="module")
def choreography_template() -> Template:
    return choreography()


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
