"""`make test-aws` (tools.dev.conformance): without an AWS account it says in one line that it was
skipped and why, and exits 0 without running anything; with one, it runs tests/aws, opted in, on
the styles deployed there. And tools.dev.account: what counts as an AWS account."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tools.dev import account as accounts
from tools.dev import conformance


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine with no AWS credentials anywhere boto3 looks (and no instance role to ask)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)


@pytest.fixture
def nothing_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    commands: list[list[str]] = []

    def run(command: list[str], **_kwargs: object):
        commands.append(command)
        raise AssertionError("the conformance run started without an account")

    monkeypatch.setattr(conformance.subprocess, "run", run)
    return commands


def skipped(capsys: pytest.CaptureFixture[str]) -> str:
    assert conformance.main([]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert len(lines) == 1 and out.err == ""
    assert lines[0].startswith("test-aws: skipped: ")
    return lines[0]


def test_without_credentials_it_is_skipped_in_one_line(
    no_credentials: None, nothing_runs: list, capsys: pytest.CaptureFixture[str]
) -> None:
    line = skipped(capsys)
    assert line == (
        "test-aws: skipped: no AWS credentials found (environment variables, profile, SSO or instance role)"
    )
    assert nothing_runs == []


def test_an_endpoint_override_is_not_an_aws_account(
    monkeypatch: pytest.MonkeyPatch, nothing_runs: list, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert skipped(capsys) == "test-aws: skipped: AWS_ENDPOINT_URL is set (LocalStack?): unset it to reach AWS itself"


class Session:
    """A boto3 session whose credentials resolve, and whose STS answers `identity` or fails."""

    def __init__(self, identity: dict | Exception, region: str | None = "eu-west-1") -> None:
        self.identity, self.region_name = identity, region

    def get_credentials(self) -> object:
        return object()

    def client(self, service: str, **_kwargs: object):
        assert service == "sts"
        session = self

        class Sts:
            def get_caller_identity(self) -> dict:
                if isinstance(session.identity, Exception):
                    raise session.identity
                return session.identity

        return Sts()


@pytest.mark.parametrize(
    ("session", "why"),
    [
        (
            Session(ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "GetCallerIdentity")),
            "sts get-caller-identity failed: An error occurred (ExpiredToken) when calling the "
            "GetCallerIdentity operation: expired",
        ),
        (
            Session({"Account": "000000000000", "Arn": "arn:aws:iam::000000000000:root"}),
            "the credentials reach LocalStack (account 000000000000), not AWS",
        ),
        (
            Session({"Account": "123456789012", "Arn": "a"}, region=None),
            "no AWS region: set AWS_REGION or the profile's region",
        ),
    ],
)
def test_credentials_that_do_not_reach_an_aws_account_are_skipped(
    monkeypatch: pytest.MonkeyPatch,
    nothing_runs: list,
    capsys: pytest.CaptureFixture[str],
    session: Session,
    why: str,
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(accounts.boto3, "Session", lambda: session)
    assert skipped(capsys) == f"test-aws: skipped: {why}"


@pytest.fixture
def aws_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def test_the_account_is_the_one_sts_names(aws_account: None) -> None:
    found = accounts.ambient_account()
    assert (found.account_id, found.region) == ("123456789012", "eu-west-1")
    assert str(found).startswith("account 123456789012 in eu-west-1 as arn:aws:")


def test_with_an_account_it_runs_tests_aws_on_the_deployed_styles(
    monkeypatch: pytest.MonkeyPatch, aws_account: None, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(accounts, "stack_outputs", lambda _a, style: {} if style == "choreography" else None)
    runs: list[tuple[list[str], dict]] = []

    class Done:
        returncode = 0

    def run(command: list[str], *, cwd: Path, env: dict) -> Done:
        runs.append((command, env))
        return Done()

    monkeypatch.setattr(conformance.subprocess, "run", run)
    assert conformance.main(["-x"]) == 0
    [(command, env)] = runs
    assert command[1:] == ["-m", "pytest", "tests/aws", "-x"]
    assert (env["SAGA_TEST_AWS"], env["SAGA_TEST_AWS_STYLES"]) == ("1", "choreography")
    assert "testing SagaChoreography" in capsys.readouterr().out


def test_with_an_account_and_nothing_deployed_it_fails(
    monkeypatch: pytest.MonkeyPatch, aws_account: None, nothing_runs: list, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(accounts, "stack_outputs", lambda _a, _style: None)
    assert conformance.main([]) == 1
    assert "run `make deploy TARGET=aws`" in capsys.readouterr().out


class CloudFormation:
    """describe_stacks as CloudFormation answers it: the stacks given, else ValidationError."""

    def __init__(self, stacks: dict[str, dict]) -> None:
        self.stacks = stacks

    def describe_stacks(self, StackName: str) -> dict:
        if StackName not in self.stacks:
            message = f"Stack with id {StackName} does not exist"
            raise ClientError({"Error": {"Code": "ValidationError", "Message": message}}, "DescribeStacks")
        return {"Stacks": [self.stacks[StackName]]}


def account_with(stacks: dict[str, dict]) -> accounts.Account:
    class Session:
        def client(self, service: str, **_kwargs: object) -> CloudFormation:
            assert service == "cloudformation"
            return CloudFormation(stacks)

    return accounts.Account("123456789012", "arn", "eu-west-1", Session())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "usable"),
    [
        ("CREATE_COMPLETE", True),
        ("UPDATE_COMPLETE", True),
        ("UPDATE_ROLLBACK_COMPLETE", True),  # an update failed and was undone: the stack works
        ("CREATE_IN_PROGRESS", False),
        ("ROLLBACK_COMPLETE", False),  # its creation failed
        ("DELETE_COMPLETE", False),
    ],
)
def test_the_outputs_of_a_usable_stack_only(status: str, usable: bool) -> None:
    stack = {"StackStatus": status, "Outputs": [{"OutputKey": "ApiUrl", "OutputValue": "https://x/prod/"}]}
    found = accounts.stack_outputs(account_with({"SagaOrchestration": stack}), "orchestration")
    assert found == ({"ApiUrl": "https://x/prod/"} if usable else None)


def test_a_stack_not_deployed_has_no_outputs_and_bootstrap_is_its_stack() -> None:
    assert accounts.stack_outputs(account_with({}), "orchestration") is None
    assert accounts.bootstrapped(account_with({})) is False
    assert accounts.bootstrapped(account_with({"CDKToolkit": {"StackStatus": "CREATE_COMPLETE"}})) is True


def test_the_shop_signs_its_customers_in_and_deletes_them() -> None:
    """tests/aws's customers, against Cognito's API model (botocore's Stubber checks each call's
    parameters): created without an e-mail, given a permanent password, signed in with the admin
    password flow (ID token, `sub`), sent with the API key, and deleted at the end."""
    from botocore.stub import ANY, Stubber

    from tests.aws.shop import Shop

    idp = boto3.client("cognito-idp", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(idp)
    pool, client = "eu-west-1_pool", "client"
    stub.add_response(
        "admin_create_user",
        {},
        {"UserPoolId": pool, "Username": ANY, "UserAttributes": ANY, "MessageAction": "SUPPRESS"},
    )
    password = {"UserPoolId": pool, "Username": ANY, "Password": ANY, "Permanent": True}
    stub.add_response("admin_set_user_password", {}, password)
    stub.add_response(
        "admin_initiate_auth",
        {"AuthenticationResult": {"IdToken": "a.b.c"}},
        {"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH", "AuthParameters": ANY},
    )
    stub.add_response("admin_get_user", {"Username": "u", "UserAttributes": [{"Name": "sub", "Value": "sub-1"}]})
    stub.add_response("admin_delete_user", {}, {"UserPoolId": pool, "Username": ANY})

    class Session:
        def client(self, service: str, **_kwargs: object):
            assert service == "cognito-idp"
            return idp

    found = accounts.Account("123456789012", "arn", "eu-west-1", Session())  # type: ignore[arg-type]
    outputs = {"UserPoolId": pool, "UserPoolClientId": client, "ApiUrl": "https://x.example/prod/"}
    shop = Shop(found, "orchestration", outputs, api_key="key")
    with stub:
        alice = shop.new_customer()
        assert (alice.sub, alice.id_token) == ("sub-1", "a.b.c") and alice.email.endswith("@example.com")
        assert shop.headers(alice) == {"x-api-key": "key", "Authorization": "a.b.c"}
        assert shop.headers(None) == {"x-api-key": "key"}
        assert shop.orders_url == "https://x.example/prod/orders"
        shop.close()
        stub.assert_no_pending_responses()
