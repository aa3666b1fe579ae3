"""Synthesized templates of both stacks, once per test module (a synth takes seconds).

The App gets the context of cdk.json, so the tests see the same feature flags as `cdk synth`
(`python app.py` alone does not read cdk.json). The Lambda code is inline: the stacks must not
care where the bundle comes from.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aws_cdk import App  # noqa: E402
from aws_cdk import aws_lambda as lambda_  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

INLINE_CODE = "def handler(event, context):\n    return event\n"


def _app() -> App:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return App(context=context)


@pytest.fixture(scope="module")
def orchestration_template() -> Template:
    from orchestration.stack import OrchestrationStack

    stack = OrchestrationStack(_app(), "SagaOrchestration", lambda_code=lambda_.Code.from_inline(INLINE_CODE))
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def choreography_template() -> Template:
    from choreography.stack import ChoreographyStack

    stack = ChoreographyStack(_app(), "SagaChoreography", lambda_code=lambda_.Code.from_inline(INLINE_CODE))
    return Template.from_stack(stack)
