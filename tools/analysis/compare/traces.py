"""One entry point for the builders: a Capture in, a Trace out."""

from __future__ import annotations

from shared.contract import CHOREOGRAPHY, HYBRID, ORCHESTRATION
from tools.analysis.compare import eventbus, stepfunctions
from tools.analysis.compare.model import Capture, Trace
from tools.operator.scenarios import SCENARIOS

# The hybrid's saga is a Step Functions execution, followed by events (stepfunctions.followers).
BUILDERS = {ORCHESTRATION: stepfunctions.build, CHOREOGRAPHY: eventbus.build, HYBRID: stepfunctions.build}


def scenario_of(record: dict) -> str:
    """The scenario whose outcome this record shows ("" if none: e.g. still running)."""
    for name, scenario in SCENARIOS.items():
        if (record.get("status"), record.get("failureReason")) == (scenario.status, scenario.failure_reason):
            return name
    return ""


def build(capture: Capture, scenario: str | None = None) -> Trace:
    return BUILDERS[capture.style](capture, scenario if scenario is not None else scenario_of(capture.record))
