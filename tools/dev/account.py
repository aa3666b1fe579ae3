"""The real AWS account that the ambient credentials reach, for `make deploy TARGET=aws` and `make
test-aws`: whatever boto3 finds (environment variables, a profile, SSO, an instance role) and the
region it is set to. Never LocalStack: every other tool is wired to LocalStack (tools.aws), these
two refuse it.

`ambient_account()` answers only once the credentials resolve and `sts get-caller-identity`
succeeds; otherwise `NoAccount` says why in one line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.contract import STACKS

# LocalStack's account: credentials that reach it are not an AWS account's.
LOCALSTACK_ACCOUNT = "000000000000"
# The ambient endpoint overrides that send every SDK call elsewhere (to LocalStack, typically).
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS")
# Fail fast when AWS cannot be reached, instead of botocore's longer default retries.
QUICK = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
BOOTSTRAP_STACK = "CDKToolkit"


class NoAccount(Exception):
    """Why no AWS account can be used: one readable line."""


@dataclass(frozen=True)
class Account:
    account_id: str
    arn: str
    region: str
    session: boto3.Session

    def __str__(self) -> str:
        return f"account {self.account_id} in {self.region} as {self.arn}"

    def client(self, service: str):
        return self.session.client(service, region_name=self.region)


def ambient_account(session: boto3.Session | None = None) -> Account:
    """The account of the ambient credentials, or NoAccount."""
    overridden = [name for name in ENDPOINT_VARIABLES if os.environ.get(name)]
    if overridden:
        raise NoAccount(f"{overridden[0]} is set (LocalStack?): unset it to reach AWS itself")
    try:
        session = session or boto3.Session()
        credentials = session.get_credentials()
    except BotoCoreError as error:  # a profile that does not exist, a broken config file
        raise NoAccount(f"AWS credentials do not resolve: {error}") from None
    if credentials is None:
        raise NoAccount("no AWS credentials found (environment variables, profile, SSO or instance role)")
    if not session.region_name:
        raise NoAccount("no AWS region: set AWS_REGION or the profile's region")
    try:
        identity = session.client("sts", config=QUICK).get_caller_identity()
    except (BotoCoreError, ClientError) as error:
        raise NoAccount(f"sts get-caller-identity failed: {error}") from None
    if identity["Account"] == LOCALSTACK_ACCOUNT:
        raise NoAccount(f"the credentials reach LocalStack (account {LOCALSTACK_ACCOUNT}), not AWS")
    return Account(identity["Account"], identity["Arn"], session.region_name, session)


def stack_outputs(account: Account, style: str) -> dict[str, str] | None:
    """The outputs of the style's stack in the account, or None if it is not deployed (or not
    completely: a stack being created, rolled back or deleted)."""
    try:
        [found] = account.client("cloudformation").describe_stacks(StackName=STACKS[style])["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    if not found["StackStatus"].endswith("_COMPLETE") or found["StackStatus"].startswith(("DELETE", "ROLLBACK")):
        return None
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def bootstrapped(account: Account) -> bool:
    """Whether `cdk bootstrap` has run in the account and region (its stack is there)."""
    try:
        account.client("cloudformation").describe_stacks(StackName=BOOTSTRAP_STACK)
    except ClientError as error:
        if "does not exist" in str(error):
            return False
        raise
    return True
