"""app.py: refuses to run without a bundle, and synthesizes both stacks for a bootstrap-free deploy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_app(env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=cwd,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_bundle_is_one_clear_line() -> None:
    result = run_app({"SAGA_LAMBDA_ASSET": "build/no-such-bundle"})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Lambda bundle not found at build/no-such-bundle: run `make bundle` first"
    ]


@pytest.fixture(scope="module")
def cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bundle = tmp_path_factory.mktemp("bundle")
    (bundle / "marker.py").write_text("# stands in for the real bundle\n")
    out = tmp_path_factory.mktemp("cdk.out")
    result = run_app({"SAGA_LAMBDA_ASSET": str(bundle), "SAGA_ASSET_BUCKET": "test-assets", "CDK_OUTDIR": str(out)})
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.mark.parametrize("stack", ["SagaOrchestration", "SagaChoreography"])
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
