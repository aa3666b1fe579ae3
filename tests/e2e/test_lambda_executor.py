"""The Docker-free Lambda executor as LocalStack users see it: through the Lambda API."""

import base64
import io
import json
import time
import uuid
import zipfile

import pytest

from shared.contract import log_group
from tools import aws

HANDLERS = """
import time

class CardExpired(Exception):
    pass

def ok(event, context):
    print("hello from", context.function_name)
    return {"echo": event, "remaining_ms": context.get_remaining_time_in_millis() > 0}

def fails(event, context):
    raise CardExpired("expired in 2020")

def slow(event, context):
    time.sleep(30)
    return "too late"
"""


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def function(localstack):
    lam = aws.client("lambda")
    created = []

    def create(handler: str, timeout: int = 10) -> str:
        name = f"executor-{handler}-{uuid.uuid4().hex[:6]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Handler=f"app.{handler}",
            Role="arn:aws:iam::000000000000:role/lambda-role",
            Code={"ZipFile": zipped(HANDLERS)},
            Timeout=timeout,
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        created.append(name)
        return name

    yield create
    for name in created:
        lam.delete_function(FunctionName=name)


def invoke(name: str, payload: dict) -> dict:
    return aws.client("lambda").invoke(FunctionName=name, Payload=json.dumps(payload).encode(), LogType="Tail")


def test_result_and_tail_logs(function):
    answer = invoke(function("ok"), {"n": 1})
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {"echo": {"n": 1}, "remaining_ms": True}
    assert "hello from executor-ok" in base64.b64decode(answer["LogResult"]).decode()


def test_handler_error_is_a_function_error_with_its_type(function):
    answer = invoke(function("fails"), {})
    assert answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("CardExpired", "expired in 2020")


def test_timeout_is_enforced(function):
    name = function("slow", timeout=1)
    started = time.monotonic()
    answer = invoke(name, {})
    assert time.monotonic() - started < 15
    assert answer["FunctionError"] == "Unhandled"
    assert "timed out" in json.loads(answer["Payload"].read())["errorMessage"]


def test_logs_reach_cloudwatch(function):
    name = function("ok")
    invoke(name, {"n": 2})
    deadline = time.monotonic() + 20
    messages: list[str] = []
    while time.monotonic() < deadline:
        messages = [e["message"] for e in aws.log_events(log_group(name))]
        if any(f"hello from {name}" in m for m in messages):
            break
        time.sleep(0.3)
    assert any(f"hello from {name}" in m for m in messages), messages
