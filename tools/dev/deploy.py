"""Deploy or destroy the styles' stacks with the pinned CDK CLI, then seed the demo stock and print
where the saga lives.

    python -m tools.dev.deploy deploy orchestration choreography
    python -m tools.dev.deploy destroy orchestration
    python -m tools.dev.deploy deploy --target aws      # a real account, with your own credentials

Target `local` (the default) is the running LocalStack, through cdklocal and LocalStack's test
credentials. Target `aws` is the account the ambient AWS credentials reach (environment, profile,
SSO...; `tools.dev.account`), never LocalStack: it bootstraps the account and region if CDK has
not yet, then `cdk deploy -c target=aws`, which shows the IAM and security changes and asks before
making them; it seeds the demo stock only where the SKU has none. Destroy asks too, and leaves
the retained tables and user pools (docs/aws.md, "Removing it").
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from botocore.exceptions import ClientError

from shared.infra.target import AWS, LOCAL, TARGET_CONTEXT, TARGETS
from tools import aws
from tools.dev import account as accounts
from tools.dev import bundle
from tools.operator.scenarios import DEMO_SKU, DEMO_STOCK

ROOT = Path(__file__).resolve().parents[2]
CDKLOCAL = ROOT / "node_modules" / ".bin" / "cdklocal"
CDK = ROOT / "node_modules" / ".bin" / "cdk"  # the pinned CDK CLI
ASSET_BUCKET = os.environ.get("SAGA_ASSET_BUCKET", "saga-cdk-assets")
CLI_ENV = {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_DISABLE_VERSION_CHECK": "1"}


def cdk(*args: str) -> None:
    if not CDKLOCAL.exists():
        sys.exit("error: the CDK CLI is not installed: run `make install`")
    env = {
        **os.environ,
        **aws.credentials_env(),
        "SAGA_ASSET_BUCKET": ASSET_BUCKET,
        **CLI_ENV,
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


# --- target aws: a real account -----------------------------------------------------------------


def aws_command(action: str, styles: list[str]) -> list[str]:
    """The CDK CLI command that does `action` (bootstrap, deploy, destroy) for target aws. CDK's
    own prompts stay on: deploy asks before widening IAM or security groups, destroy asks first."""
    command = [str(CDK), action, "-c", f"{TARGET_CONTEXT}={AWS}", "--no-notices"]
    return command if action == "bootstrap" else [*command, *(aws.STACKS[s] for s in styles)]


def aws_env() -> dict[str, str]:
    """The CLI's environment on target aws: the ambient one (its credentials), never LocalStack's."""
    return {**os.environ, **CLI_ENV}


def run_cdk_on_account(command: list[str]) -> None:
    if not CDK.exists():
        sys.exit("error: the CDK CLI is not installed: run `make install`")
    print("+ " + " ".join([CDK.relative_to(ROOT).as_posix(), *command[1:]]), flush=True)
    if subprocess.run(command, cwd=ROOT, env=aws_env()).returncode:
        sys.exit(f"error: cdk {command[1]} failed (see above)")


def require_account(action: str) -> accounts.Account:
    try:
        found = accounts.ambient_account()
    except accounts.NoAccount as why:
        sys.exit(f"error: `make {action} TARGET={AWS}` needs AWS credentials: {why}")
    print(f"target aws: {found}", flush=True)
    return found


def deploy_to_account(styles: list[str]) -> None:
    account = require_account("deploy")
    bundle.main()
    if not accounts.bootstrapped(account):
        run_cdk_on_account(aws_command("bootstrap", styles))
    run_cdk_on_account(aws_command("deploy", styles))
    for style in styles:
        out = accounts.stack_outputs(account, style)
        if out is None:
            sys.exit(f"error: {aws.STACKS[style]} is not deployed (see above)")
        seeded = seed_demo_stock(account.client("dynamodb"), out["InventoryTableName"])
        describe_on_account(style, out, seeded)


def seed_demo_stock(dynamodb, table: str) -> bool:
    """Put DEMO_STOCK units of DEMO_SKU in the table unless the SKU has stock already (a real
    account's stock is never reset by a deploy); whether it did."""
    try:
        dynamodb.put_item(
            TableName=table,
            Item={"sku": {"S": DEMO_SKU}, "stock": {"N": str(DEMO_STOCK)}},
            ConditionExpression="attribute_not_exists(sku)",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def describe_on_account(style: str, out: dict[str, str], seeded: bool) -> None:
    stock = f"{DEMO_STOCK} x {DEMO_SKU} seeded" if seeded else f"{DEMO_SKU} already stocked, left as it is"
    print(f"{aws.STACKS[style]}: API {out['ApiUrl'].rstrip('/')}/orders")
    print(f"  customers: user pool {out['UserPoolId']}, app client {out['UserPoolClientId']}")
    print(f"  API key: {out['ApiKeyId']} (its value: aws apigateway get-api-key --include-value --api-key <id>)")
    print(f"  stock: {stock} in {out['InventoryTableName']}")
    print("  a customer, a token and an order: docs/aws.md, 'Calling the API'")


def destroy_on_account(styles: list[str]) -> None:
    require_account("destroy")
    run_cdk_on_account(aws_command("destroy", styles))
    print("the tables and the user pool of each stack stay, with their data: docs/aws.md, 'Removing it'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["deploy", "destroy"])
    parser.add_argument("styles", nargs="*", metavar="STYLE", help=", ".join(aws.STYLES))
    parser.add_argument("--target", choices=list(TARGETS), default=LOCAL, help="local (LocalStack) or aws")
    args = parser.parse_intermixed_args()  # `deploy --target aws STYLE...` as well
    styles = args.styles or list(aws.STYLES)
    if unknown := set(styles) - set(aws.STYLES):
        parser.error(f"unknown style {', '.join(sorted(unknown))}: use {' or '.join(aws.STYLES)}")
    if args.target == AWS:
        (deploy_to_account if args.action == "deploy" else destroy_on_account)(styles)
        return
    aws.require_localstack()
    if args.action == "deploy":
        deploy(styles)
    else:
        cdk("destroy", "--force", *(aws.STACKS[s] for s in styles))


if __name__ == "__main__":
    main()
