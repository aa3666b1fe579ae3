"""app.py: refuses to run without a bundle or with an unknown target, and synthesizes the three stacks
for a bootstrap-free deploy (target local, LocalStack) or a bootstrapped account (target aws)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cdk.conftest import run_app

STACKS = ("SagaOrchestration", "SagaChoreography", "SagaHybrid")
# `cdk bootstrap`'s default qualifier and the names of what it creates.
BOOTSTRAP_BUCKET = "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"
ROLE = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-%s-role-${AWS::AccountId}-${AWS::Region}"


def test_missing_bundle_is_one_clear_line() -> None:
    result = run_app({"SAGA_LAMBDA_ASSET": "build/no-such-bundle"})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Lambda bundle not found at build/no-such-bundle: run `make bundle` first"
    ]


def test_unknown_target_is_one_clear_line(tmp_path: Path) -> None:
    result = run_app({"SAGA_LAMBDA_ASSET": str(tmp_path), "CDK_OUTDIR": str(tmp_path / "out")}, target="prod")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == ["unknown target 'prod' (context `target`): use local or aws"]


@pytest.fixture(scope="module")
def cloud_assembly(synthesized_app: Callable[[str], Path]) -> Path:
    return synthesized_app("local")


@pytest.mark.parametrize("stack", STACKS)
def test_stack_synthesizes_without_bootstrap(cloud_assembly: Path, stack: str) -> None:
    template = json.loads((cloud_assembly / f"{stack}.template.json").read_text())
    assert "BootstrapVersion" not in template.get("Parameters", {})
    assert "CheckBootstrapVersion" not in template.get("Rules", {})
    assets = json.loads((cloud_assembly / f"{stack}.assets.json").read_text())
    zips = [a for a in assets["files"].values() if a["source"]["packaging"] == "zip"]
    assert len(zips) == 1  # one bundle for all functions of the stack
    for asset in assets["files"].values():
        for destination in asset["destinations"].values():
            assert destination["bucketName"] == "test-assets"
            assert "assumeRoleArn" not in destination  # CLI credentials, no bootstrap roles
    codes = {
        json.dumps(r["Properties"]["Code"], sort_keys=True)
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert len(codes) == 1 and '"S3Bucket": "test-assets"' in codes.pop()
    manifest = json.loads((cloud_assembly / "manifest.json").read_text())
    environment = manifest["artifacts"][stack]["environment"]
    assert environment == "aws://unknown-account/unknown-region"


# --- target aws: the default synthesizer, for an account prepared with `cdk bootstrap` ---------


@pytest.fixture(scope="module")
def aws_assembly(synthesized_app: Callable[[str], Path]) -> Path:
    return synthesized_app("aws")


@pytest.mark.parametrize("stack", STACKS)
def test_aws_target_deploys_through_the_bootstrap_stack(aws_assembly: Path, stack: str) -> None:
    template = json.loads((aws_assembly / f"{stack}.template.json").read_text())
    # The template refuses to deploy into an account that was not bootstrapped (or too long ago).
    assert template["Parameters"]["BootstrapVersion"]["Default"] == "/cdk-bootstrap/hnb659fds/version"
    assert "CheckBootstrapVersion" in template["Rules"]
    assets = json.loads((aws_assembly / f"{stack}.assets.json").read_text())
    zips = [a for a in assets["files"].values() if a["source"]["packaging"] == "zip"]
    assert len(zips) == 1  # one bundle for all functions of the stack
    for asset in assets["files"].values():
        for destination in asset["destinations"].values():
            assert destination["bucketName"] == BOOTSTRAP_BUCKET  # not the local target's bucket
            assert destination["assumeRoleArn"] == ROLE % "file-publishing"
    codes = {
        json.dumps(r["Properties"]["Code"], sort_keys=True)
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert len(codes) == 1 and json.loads(codes.pop())["S3Bucket"] == {"Fn::Sub": BOOTSTRAP_BUCKET}
    manifest = json.loads((aws_assembly / "manifest.json").read_text())
    artifact = manifest["artifacts"][stack]
    assert artifact["environment"] == "aws://unknown-account/unknown-region"  # the CLI's account and region
    assert artifact["properties"]["assumeRoleArn"] == ROLE % "deploy"
    assert artifact["properties"]["cloudFormationExecutionRoleArn"] == ROLE % "cfn-exec"
