"""The Step Functions caches (saga_lambda_executor.patches): what they cache, and that they stay
off on a LocalStack version they were not written for."""

import pytest

pytest.importorskip("localstack.services.stepfunctions", reason="needs .venv-localstack (localstack-core)")

from localstack.services.stepfunctions.asl.component.common.path import result_path
from localstack.services.stepfunctions.asl.component.state.state_execution.state_task import (
    lambda_eval_utils,
)
from localstack.services.stepfunctions.asl.component.state.state_execution.state_task.credentials import (
    StateCredentials,
)
from localstack.services.stepfunctions.asl.utils import json_path
from saga_lambda_executor import patches


@pytest.fixture
def unpatched(monkeypatch):
    """The patched module attributes, restored after the test; boto_client_for counts its calls."""
    made = []

    def boto_client_for(service, region, state_credentials):
        made.append((service, region, state_credentials.role_arn))
        return object()

    monkeypatch.setattr(lambda_eval_utils, "boto_client_for", boto_client_for)
    monkeypatch.setattr(json_path, "parse", json_path.parse)
    monkeypatch.setattr(result_path, "parse", result_path.parse)
    return made


def test_one_client_per_service_region_and_role(unpatched):
    assert patches.apply(patches.PINNED)
    get = lambda_eval_utils.boto_client_for
    role_a, role_b = (StateCredentials(role_arn=f"arn:aws:iam::000000000000:role/{n}") for n in "ab")
    first = get(service="lambda", region="us-east-1", state_credentials=role_a)
    assert get(service="lambda", region="us-east-1", state_credentials=role_a) is first
    assert get(service="lambda", region="us-east-1", state_credentials=role_b) is not first
    assert get(service="lambda", region="eu-west-1", state_credentials=role_a) is not first
    assert len(unpatched) == 3


def test_paths_are_parsed_once_and_still_evaluate(unpatched):
    assert patches.apply(patches.PINNED)
    assert json_path.parse("$.order.id") is json_path.parse("$.order.id")
    assert json_path.extract_json("$.order.id", {"order": {"id": "o-1"}}) == "o-1"
    assert result_path.parse("$.result") is result_path.parse("$.result")
    # ResultPath's update must not change the cached expression: two documents, two results.
    expr = result_path.parse("$.result")
    assert expr.update_or_create({"a": 1}, {"x": 1}) == {"a": 1, "result": {"x": 1}}
    assert expr.update_or_create({"b": 2}, {"y": 2}) == {"b": 2, "result": {"y": 2}}


def test_applying_twice_wraps_once(unpatched):
    patches.apply(patches.PINNED)
    client, parse = lambda_eval_utils.boto_client_for, json_path.parse
    patches.apply(patches.PINNED)
    assert (lambda_eval_utils.boto_client_for, json_path.parse) == (client, parse)


def test_other_localstack_versions_are_left_alone(unpatched):
    original = lambda_eval_utils.boto_client_for
    assert not patches.apply("2099.1.0")
    assert lambda_eval_utils.boto_client_for is original


def test_the_pinned_version_is_the_installed_one():
    # The pin in tools/dev/setup_localstack.sh moved: measure again, then move PINNED with it.
    from importlib import metadata

    assert metadata.version("localstack-core") == patches.PINNED
