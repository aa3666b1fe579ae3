"""LocalProcessRuntimeExecutor wired to LocalStack's real ExecutorEndpoint routes.

LocalStack's gateway is replaced by its ROUTER served on a local port, so the callbacks
take the same code path as in a running LocalStack, without starting LocalStack."""

import json
import threading
import uuid
from types import SimpleNamespace

import pytest
from executor_fakes import runtime_interpreter

pytest.importorskip("localstack.services.edge", reason="needs .venv-localstack (localstack-core)")

from localstack.services.edge import ROUTER  # noqa: E402
from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException  # noqa: E402
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from saga_lambda_executor import executor as executor_module  # noqa: E402
from saga_lambda_executor.executor import LocalProcessRuntimeExecutor  # noqa: E402

HANDLERS = """
import os, sys, time

class OutOfStockError(Exception):
    pass

def ok(event, context):
    print("ok handler ran")
    return {"echo": event, "pid": os.getpid(), "endpoint": os.environ.get("AWS_ENDPOINT_URL")}

def fail(event, context):
    raise OutOfStockError("nothing left")

def slow(event, context):
    print("started slow work", flush=True)
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"pid": os.getpid()}

def die(event, context):
    print("about to exit")
    os._exit(3)
"""


@pytest.fixture(scope="module")
def gateway():
    server = make_server("127.0.0.1", 0, ROUTER.wsgi(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()


@pytest.fixture
def make_executor(gateway, code_dir, monkeypatch):
    monkeypatch.setattr(executor_module, "_gateway_port", lambda: gateway)
    monkeypatch.setenv("SAGA_LAMBDA_PYTHON312", runtime_interpreter())
    root = code_dir("handlers.py", HANDLERS)
    started = []

    def make(handler="handlers.ok", timeout=3, runtime="python3.12", start=True):
        code = SimpleNamespace(get_unzipped_code_location=lambda: root, prepare_for_execution=lambda: None)
        config = SimpleNamespace(runtime=runtime, timeout=timeout, memory_size=128, handler=handler, code=code)
        fv = SimpleNamespace(config=config, qualified_arn="arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST")
        ex = LocalProcessRuntimeExecutor(uuid.uuid4().hex, fv)
        if start:
            started.append(ex)
            ex.start(lambda_env(ex, handler, timeout))
        return ex

    yield make
    for ex in started:
        ex.stop()


def lambda_env(ex, handler, timeout):
    # What ExecutionEnvironment.get_environment_variables hands over (ints included).
    return {
        "_HANDLER": handler,
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": 128,
        "AWS_LAMBDA_FUNCTION_TIMEOUT": timeout,
        "AWS_ENDPOINT_URL": f"http://{ex.get_endpoint_from_executor()}:4566",
        "LOCALSTACK_RUNTIME_ID": ex.id,
        "LOCALSTACK_RUNTIME_ENDPOINT": ex.get_runtime_endpoint(),
    }


def invoke(ex, event, request_id=None):
    request_id = request_id or uuid.uuid4().hex
    return ex.invoke({
        "invoke-id": request_id,
        "invoked-function-arn": "arn:aws:lambda:us-east-1:000000000000:function:fn",
        "payload": json.dumps(event),
        "trace-id": "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0",
    })


def test_invoke_success_with_logs(make_executor):
    ex = make_executor()
    result = invoke(ex, {"a": 1}, "req-ok")
    assert not result.is_error
    body = json.loads(result.payload)
    assert body["echo"] == {"a": 1}
    assert body["endpoint"] == "http://127.0.0.1:4566"
    assert "ok handler ran" in result.logs and "END RequestId: req-ok" in result.logs
    # Warm: the same process answers the next invocation.
    assert json.loads(invoke(ex, {}).payload)["pid"] == body["pid"] == ex.process.pid


def test_handler_error_is_function_error(make_executor):
    ex = make_executor(handler="handlers.fail")
    result = invoke(ex, {})
    assert result.is_error
    body = json.loads(result.payload)
    assert (body["errorType"], body["errorMessage"]) == ("OutOfStockError", "nothing left")


def test_timeout_kills_and_replaces_environment(make_executor):
    ex = make_executor(handler="handlers.slow", timeout=1)
    first_pid = ex.process.pid
    result = invoke(ex, {"sleep": 30}, "req-slow")
    assert result.is_error
    body = json.loads(result.payload)
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"] == "RequestId: req-slow Error: Task timed out after 1.00 seconds"
    assert "started slow work" in result.logs  # output printed before the kill is kept
    assert "req-slow Task timed out after 1.00 seconds" in result.logs
    old = ex.process
    assert not old.alive()
    # The next invocation gets a fresh runtime and succeeds.
    again = invoke(ex, {})
    assert not again.is_error
    assert json.loads(again.payload)["pid"] != first_pid


def test_handler_within_timeout_is_not_cut(make_executor):
    ex = make_executor(handler="handlers.slow", timeout=2)
    result = invoke(ex, {"sleep": 0.3})
    assert not result.is_error


def test_process_exit_during_invoke_is_runtime_exit_error(make_executor):
    ex = make_executor(handler="handlers.die")
    result = invoke(ex, {})
    assert result.is_error
    body = json.loads(result.payload)
    assert body["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in body["errorMessage"]
    assert "about to exit" in result.logs


def test_import_error_fails_start_with_status_error(make_executor):
    ex = make_executor(handler="nope_module.handler", start=False)
    with pytest.raises(StatusErrorException) as info:
        ex.start(lambda_env(ex, "nope_module.handler", 3))
    ex.stop()
    assert json.loads(info.value.payload)["errorType"] == "Runtime.ImportModuleError"


def test_stop_terminates_process(make_executor):
    ex = make_executor()
    proc = ex.process
    ex.stop()
    assert not proc.alive()
    with pytest.raises(LambdaRuntimeException):
        invoke(ex, {})


def test_unsupported_runtime_fails_at_prepare(make_executor):
    ex = make_executor(runtime="nodejs20.x", start=False)
    with pytest.raises(LambdaRuntimeException, match="nodejs20.x"):
        LocalProcessRuntimeExecutor.prepare_version(ex.function_version)
