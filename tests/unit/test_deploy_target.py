"""tools.dev.deploy with `--target aws`: deploys nothing, touches no LocalStack, prints the commands."""

from __future__ import annotations

import pytest

from tools.dev import deploy


@pytest.fixture(autouse=True)
def no_localstack(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the aws target must not reach LocalStack or the CDK CLI")

    monkeypatch.setattr(deploy.aws, "require_localstack", refuse)
    monkeypatch.setattr(deploy, "cdk", refuse)
    monkeypatch.setattr(deploy.bundle, "main", refuse)


def run(monkeypatch: pytest.MonkeyPatch, *argv: str) -> str:
    monkeypatch.setattr("sys.argv", ["deploy", *argv])
    with pytest.raises(SystemExit) as stopped:
        deploy.main()
    assert isinstance(stopped.value.code, str)  # sys.exit(message): printed, exit status 1
    return stopped.value.code


def test_deploy_prints_bootstrap_and_deploy_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = run(monkeypatch, "deploy", "--target", "aws", "orchestration", "choreography").splitlines()
    assert lines[0].startswith("error: `make deploy TARGET=aws` does not touch a real account")
    commands = [line.split("#")[0].strip() for line in lines[1:]]
    assert commands == [
        "make bundle",
        "node_modules/.bin/cdk bootstrap -c target=aws",
        "node_modules/.bin/cdk deploy -c target=aws SagaOrchestration SagaChoreography",
    ]


def test_destroy_names_the_styles_and_the_retained_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = run(monkeypatch, "destroy", "orchestration", "--target", "aws").splitlines()
    (command,) = lines[1:]
    assert command.split("#")[0].strip() == "node_modules/.bin/cdk destroy -c target=aws SagaOrchestration"
    assert "tables stay" in command
