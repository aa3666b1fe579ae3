"""Deploy or destroy a style's stack on the running LocalStack with the pinned CDK CLI
(cdklocal), then seed the demo stock and print where the saga lives.

    python -m tools.dev.deploy deploy orchestration choreography
    python -m tools.dev.deploy destroy orchestration
    python -m tools.dev.deploy deploy --target aws      # prints the commands for a real account

Target `local` (the default) is LocalStack. Target `aws` is not driven from here: every tool
is wired to LocalStack (its endpoint, its test credentials), and a real account deserves a person
at the keyboard reading what CDK is about to change, so `--target aws` prints the commands to run
with one's own credentials and why, deploys nothing and exits non-zero.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from shared.infra.target import AWS, LOCAL, TARGET_CONTEXT, TARGETS
from tools import aws
from tools.dev import bundle
from tools.operator.scenarios import DEMO_SKU, DEMO_STOCK

ROOT = Path(__file__).resolve().parents[2]
CDKLOCAL = ROOT / "node_modules" / ".bin" / "cdklocal"
CDK = "node_modules/.bin/cdk"  # the pinned CDK CLI, as the commands for a real account name it
ASSET_BUCKET = os.environ.get("SAGA_ASSET_BUCKET", "saga-cdk-assets")


def cdk(*args: str) -> None:
    if not CDKLOCAL.exists():
        sys.exit("error: the CDK CLI is not installed: run `make install`")
    env = {
        **os.environ,
        **aws.credentials_env(),
        "SAGA_ASSET_BUCKET": ASSET_BUCKET,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    command = [str(CDKLOCAL), *args, "-c", f"{TARGET_CONTEXT}={LOCAL}", "--require-approval", "never", "--no-notices"]
    if subprocess.run(command, cwd=ROOT, env=env).returncode:
        sys.exit(f"error: cdk {args[0]} failed (see above)")


def deploy(styles: list[str]) -> None:
    bundle.main()
    s3 = aws.client("s3")
    if ASSET_BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=ASSET_BUCKET)
    cdk("deploy", *(aws.STACKS[s] for s in styles))
    for style in styles:
        aws.outputs.cache_clear()
        aws.store(style).set_stock(DEMO_SKU, DEMO_STOCK)
        describe(style)


def describe(style: str) -> None:
    out = aws.outputs(style)
    wiring = out.get("StateMachineArn") or out.get("EventBusName")
    print(f"{aws.STACKS[style]}: API {aws.api_url(style)}/orders")
    print(f"  {'state machine' if 'StateMachineArn' in out else 'event bus'}: {wiring}")
    print(f"  stock: {DEMO_STOCK} x {DEMO_SKU} in {out['InventoryTableName']}")


def aws_commands(action: str, styles: list[str]) -> str:
    """What to run, by hand and with one's own credentials, to do `action` on a real account."""
    stacks = " ".join(aws.STACKS[s] for s in styles)
    context = f"-c {TARGET_CONTEXT}={AWS}"
    if action == "deploy":
        steps = [
            ("make bundle", "the Lambda code asset (build/lambda)"),
            (f"{CDK} bootstrap {context}", "once per account and region"),
            (f"{CDK} deploy {context} {stacks}", "shows the IAM changes and asks before deploying"),
        ]
    else:
        steps = [
            (f"{CDK} destroy {context} {stacks}", "the tables stay: README, 'Removing it'"),
        ]
    width = max(len(command) for command, _ in steps)
    return "\n".join(
        [
            f"error: `make {action} TARGET={AWS}` does not touch a real account: these tools are wired to "
            "LocalStack (its endpoint and test credentials). With your own credentials "
            "(README, 'Deploying to an AWS account'), run:",
            *(f"  {command:<{width}}  # {why}" for command, why in steps),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["deploy", "destroy"])
    parser.add_argument("styles", nargs="*", metavar="STYLE", help="orchestration, choreography")
    parser.add_argument("--target", choices=list(TARGETS), default=LOCAL, help="local (LocalStack) or aws")
    args = parser.parse_intermixed_args()  # `deploy --target aws STYLE...` as well
    styles = args.styles or list(aws.STYLES)
    if unknown := set(styles) - set(aws.STYLES):
        parser.error(f"unknown style {', '.join(sorted(unknown))}: use {' or '.join(aws.STYLES)}")
    if args.target == AWS:
        sys.exit(aws_commands(args.action, styles))
    aws.require_localstack()
    if args.action == "deploy":
        deploy(styles)
    else:
        cdk("destroy", "--force", *(aws.STACKS[s] for s in styles))


if __name__ == "__main__":
    main()
