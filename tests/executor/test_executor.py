"""LocalProcessRuntimeExecutor as LocalStack drives it: start, invoke, stop, with real runtime
processes; environments of one function version share a bounded pool of them."""

import json
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
from executor_fakes import runtime_interpreter

pytest.importorskip("localstack.services.lambda_", reason="needs .venv-localstack (localstack-core)")

from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException
from saga_lambda_executor import executor as executor_module
from saga_lambda_executor.executor import LocalProcessRuntimeExecutor

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


@pytest.fixture
def make_executor(code_dir, monkeypatch):
    monkeypatch.setattr(executor_module, "_gateway_port", lambda: 4566)
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
        "AWS_LAMBDA_LOG_STREAM_NAME": f"stream-{ex.id}",  # differs per environment, as in LocalStack
    }


def invoke(ex, event, request_id=None):
    request_id = request_id or uuid.uuid4().hex
    return ex.invoke(
        {
            "invoke-id": request_id,
            "invoked-function-arn": "arn:aws:lambda:us-east-1:000000000000:function:fn",
            "payload": json.dumps(event),
            "trace-id": "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0",
        }
    )


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
    with pytest.raises(LambdaRuntimeException, match=r"nodejs20\.x"):
        LocalProcessRuntimeExecutor.prepare_version(ex.function_version)


def test_environments_share_warm_processes_up_to_the_limit(make_executor, monkeypatch):
    monkeypatch.setenv(executor_module.MAX_PROCESSES_VARIABLE, "2")
    envs = [make_executor(handler="handlers.slow") for _ in range(4)]
    # Two processes for four environments: the first two starts spawned, the others attached.
    assert len({ex.process.pid for ex in envs}) == 2
    results, pids = [], set()

    def run(ex):
        result = invoke(ex, {"sleep": 0.3})
        results.append(result)
        pids.add(json.loads(result.payload)["pid"])

    threads = [threading.Thread(target=run, args=(ex,)) for ex in envs]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # Four invocations on two processes, one at a time each: two rounds, none failed.
    assert not any(r.is_error for r in results) and len(results) == 4
    assert len(pids) == 2
    assert time.monotonic() - started >= 0.6


def test_last_environment_stopped_stops_the_processes(make_executor, monkeypatch):
    monkeypatch.setenv(executor_module.MAX_PROCESSES_VARIABLE, "2")
    first, second = make_executor(), make_executor()
    processes = {first.process, second.process}
    assert len(processes) == 2
    second.stop()
    # One environment left: one process is enough, the surplus idle one is stopped.
    assert sum(p.alive() for p in processes) == 1
    assert not invoke(first, {}).is_error
    first.stop()
    assert not any(p.alive() for p in processes)


def test_a_new_configuration_gets_its_own_processes(make_executor):
    ok, other = make_executor(handler="handlers.ok"), make_executor(handler="handlers.slow")
    assert ok.process.pid != other.process.pid
