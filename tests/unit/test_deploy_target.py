"""tools.dev.deploy with `--target aws`: the account of the ambient credentials or one line saying
why not; the CDK commands it runs (bootstrap only when needed, then deploy, with CDK's prompts);
never LocalStack, its CLI wrapper or its test credentials; demo stock only where there is none."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from tools.dev import account as accounts
from tools.dev import deploy

CDK = str(deploy.ROOT / "node_modules" / ".bin" / "cdk")
OUTPUTS = {
    "ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/prod/",
    "UserPoolId": "eu-west-1_pool",
    "UserPoolClientId": "client",
    "ApiKeyId": "key",
    "InventoryTableName": "inventory",
}


@pytest.fixture(autouse=True)
def no_localstack(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the aws target must not reach LocalStack or cdklocal")

    monkeypatch.setattr(deploy.aws, "require_localstack", refuse)
    monkeypatch.setattr(deploy.aws, "client", refuse)
    monkeypatch.setattr(deploy, "cdk", refuse)


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The CDK commands run on the account (nothing runs), with the bundle built."""
    commands: list[list[str]] = []
    monkeypatch.setattr(deploy, "run_cdk_on_account", commands.append)
    monkeypatch.setattr(deploy.bundle, "main", lambda: commands.append(["bundle"]))
    return commands


def main(monkeypatch: pytest.MonkeyPatch, *argv: str) -> None:
    monkeypatch.setattr("sys.argv", ["deploy", *argv])
    deploy.main()


def test_the_commands_for_a_real_account() -> None:
    both = ["orchestration", "choreography"]
    assert deploy.aws_command("bootstrap", both) == [CDK, "bootstrap", "-c", "target=aws", "--no-notices"]
    assert deploy.aws_command("deploy", both) == [
        *[CDK, "deploy", "-c", "target=aws", "--no-notices"],
        *["SagaOrchestration", "SagaChoreography"],
    ]
    assert deploy.aws_command("destroy", ["orchestration"]) == [
        *[CDK, "destroy", "-c", "target=aws", "--no-notices", "SagaOrchestration"],
    ]
    # CDK's prompts stay on: it asks before widening IAM, and before destroying.
    assert not any("--require-approval" in deploy.aws_command(a, both) for a in ("deploy", "destroy"))
    assert "--force" not in deploy.aws_command("destroy", both)


def test_the_cli_gets_the_ambient_credentials_not_localstacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "shop")
    env = deploy.aws_env()
    assert env["AWS_PROFILE"] == "shop"
    assert "AWS_ENDPOINT_URL" not in env and env.get("AWS_ACCESS_KEY_ID") != "test"


def test_without_credentials_it_says_why_in_one_line_and_runs_nothing(
    monkeypatch: pytest.MonkeyPatch, ran: list[list[str]]
) -> None:
    def none() -> accounts.Account:
        raise accounts.NoAccount("no AWS credentials found (environment variables, profile, SSO or instance role)")

    monkeypatch.setattr(accounts, "ambient_account", none)
    for action in ("deploy", "destroy"):
        with pytest.raises(SystemExit) as stopped:
            main(monkeypatch, action, "--target", "aws")
        assert stopped.value.code == (
            f"error: `make {action} TARGET=aws` needs AWS credentials: no AWS credentials found "
            "(environment variables, profile, SSO or instance role)"
        )
    assert ran == []


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> accounts.Account:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        found = accounts.Account("123456789012", "arn:aws:iam::123456789012:user/ci", "eu-west-1", boto3.Session())
        monkeypatch.setattr(accounts, "ambient_account", lambda: found)
        found.client("dynamodb").create_table(
            TableName="inventory",
            KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield found


@pytest.mark.parametrize("bootstrapped", [False, True])
def test_deploy_bootstraps_only_if_needed_then_deploys_and_seeds(
    monkeypatch: pytest.MonkeyPatch,
    ran: list[list[str]],
    account: accounts.Account,
    capsys: pytest.CaptureFixture[str],
    bootstrapped: bool,
) -> None:
    monkeypatch.setattr(accounts, "bootstrapped", lambda _account: bootstrapped)
    monkeypatch.setattr(accounts, "stack_outputs", lambda _account, _style: OUTPUTS)
    main(monkeypatch, "deploy", "--target", "aws", "orchestration")
    expected = [["bundle"], *([] if bootstrapped else [deploy.aws_command("bootstrap", [])])]
    assert ran == [*expected, deploy.aws_command("deploy", ["orchestration"])]
    stock = account.client("dynamodb").get_item(TableName="inventory", Key={"sku": {"S": "DEMO-SKU"}})["Item"]
    assert stock["stock"] == {"N": "1000"}
    shown = capsys.readouterr().out
    assert "SagaOrchestration: API https://abc.execute-api.eu-west-1.amazonaws.com/prod/orders" in shown
    assert "eu-west-1_pool" in shown and "1000 x DEMO-SKU seeded" in shown


def test_a_deploy_never_resets_the_stock_of_a_real_account(account: accounts.Account) -> None:
    dynamodb = account.client("dynamodb")
    dynamodb.put_item(TableName="inventory", Item={"sku": {"S": "DEMO-SKU"}, "stock": {"N": "7"}})
    assert deploy.seed_demo_stock(dynamodb, "inventory") is False
    assert dynamodb.get_item(TableName="inventory", Key={"sku": {"S": "DEMO-SKU"}})["Item"]["stock"] == {"N": "7"}


def test_destroy_asks_cdk_and_says_what_stays(
    monkeypatch: pytest.MonkeyPatch,
    ran: list[list[str]],
    account: accounts.Account,
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(monkeypatch, "destroy", "orchestration", "--target", "aws")
    assert ran == [deploy.aws_command("destroy", ["orchestration"])]
    assert "tables and the user pool" in capsys.readouterr().out
