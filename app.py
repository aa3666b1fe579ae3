#!/usr/bin/env python3
"""CDK app: the order saga as `SagaOrchestration`, `SagaChoreography` and `SagaHybrid` (shared.contract.STACKS).

The Lambda code is a prebuilt bundle directory (`make bundle`), taken from `SAGA_LAMBDA_ASSET`
(default `build/lambda`, relative to this file). CDK context `target` (`shared.infra.target`)
says where it goes. `local` (the default, LocalStack): the synthesizer needs no bootstrap stack,
the CLI's own credentials upload file assets to one fixed bucket (env `SAGA_ASSET_BUCKET`, else
context `sagaAssetBucket`, else `saga-cdk-assets`), which must exist before `cdk deploy`.
`aws` (a real account): the default synthesizer, which needs `cdk bootstrap` once per account
and region. An unknown target stops the app with one line. No account is pinned, so templates
keep `${AWS::AccountId}` (LocalStack: 000000000000).
cdk-nag's AwsSolutions checks run at synth (`shared.infra.nag`): any unacknowledged finding fails it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_ASSET_DIR = "build/lambda"
DEFAULT_ASSET_BUCKET = "saga-cdk-assets"


def lambda_asset_dir() -> Path:
    configured = os.environ.get("SAGA_LAMBDA_ASSET") or DEFAULT_ASSET_DIR
    path = Path(configured)
    if not path.is_absolute():
        path = ROOT / path
    if not path.is_dir():
        sys.exit(f"Lambda bundle not found at {configured}: run `make bundle` first")
    return path


def main() -> None:
    asset_dir = lambda_asset_dir()  # before importing CDK: fail fast and cheaply

    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_

    from choreography.infra.stack import ChoreographyStack
    from hybrid.infra.stack import HybridStack
    from orchestration.infra.stack import OrchestrationStack
    from shared.contract import CHOREOGRAPHY, HYBRID, ORCHESTRATION, STACKS
    from shared.infra.nag import check_with_cdk_nag
    from shared.infra.target import Target, TargetError

    app = cdk.App()
    try:
        target = Target.of(app)
    except TargetError as error:
        sys.exit(str(error))
    bucket = os.environ.get("SAGA_ASSET_BUCKET") or app.node.try_get_context("sagaAssetBucket") or DEFAULT_ASSET_BUCKET

    def synthesizer() -> cdk.IStackSynthesizer:
        if target.bootstrap:
            return cdk.DefaultStackSynthesizer()
        return cdk.CliCredentialsStackSynthesizer(file_assets_bucket_name=bucket, bucket_prefix="")

    def code() -> lambda_.Code:
        # A Code asset binds to one stack: each stack gets its own (same directory, same hash).
        return lambda_.Code.from_asset(str(asset_dir))

    styles = {
        ORCHESTRATION: (OrchestrationStack, "Order saga, orchestrated by a Step Functions state machine"),
        CHOREOGRAPHY: (ChoreographyStack, "Order saga, choreographed with EventBridge events"),
        HYBRID: (HybridStack, "Order saga orchestrated by Step Functions, its outcome choreographed on EventBridge"),
    }
    for style, (stack, description) in styles.items():
        stack(app, STACKS[style], lambda_code=code(), synthesizer=synthesizer(), description=description)
    check_with_cdk_nag(app)
    app.synth()


if __name__ == "__main__":
    main()
