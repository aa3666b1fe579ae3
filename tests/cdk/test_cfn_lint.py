"""cfn-lint (pinned in requirements.in) on the templates app.py synthesizes for both targets (every stack), as
`cdk synth -c target=...` writes them: no errors, and no warning but the known ones.

Known warnings:
- W3005 (a DependsOn that a GetAtt already enforces): CDK makes each function and the state
  machine depend on their role and its default policy, and the role is also named by GetAtt.
  Harmless, and CDK's to change, not ours.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint

TARGETS = ("local", "aws")
STACKS = ("SagaOrchestration", "SagaChoreography", "SagaHybrid")
REGIONS = ["us-east-1"]
KNOWN_WARNINGS = {"W3005"}


def _findings(assembly: Path, stack: str) -> list[tuple[str, str, str]]:
    """(rule id, where, message) of every cfn-lint finding on the stack's template."""
    path = assembly / f"{stack}.template.json"
    matches = lint(path.read_text(), config=ManualArgs(regions=REGIONS))
    return sorted((m.rule.id, "/".join(map(str, getattr(m, "path", None) or [])), m.message) for m in matches)


@pytest.fixture(scope="module")
def findings(synthesized_app: Callable[[str], Path]) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    return {(target, stack): _findings(synthesized_app(target), stack) for target in TARGETS for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("target", TARGETS)
def test_no_cfn_lint_errors(findings: dict, target: str, stack: str) -> None:
    errors = [f for f in findings[target, stack] if f[0].startswith("E")]
    assert errors == [], "\n".join(f"{rule} at {where}: {message}" for rule, where, message in errors)


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("target", TARGETS)
def test_only_known_cfn_lint_warnings(findings: dict, target: str, stack: str) -> None:
    unknown = [f for f in findings[target, stack] if not f[0].startswith("E") and f[0] not in KNOWN_WARNINGS]
    assert unknown == [], "\n".join(f"{rule} at {where}: {message}" for rule, where, message in unknown)
