"""The stdlib runtime (bootstrap.py) against a fake LocalStack runtime endpoint."""

import json

import pytest
from executor_fakes import post_invoke, runtime_interpreter

from saga_lambda_executor.process import RuntimeProcess, build_env

HANDLER_MODULE = """
import json, logging, os, sys

# Bound at import time, like Powertools' Logger: must still reach the invocation logs.
_log = logging.getLogger("fn")
_log.addHandler(logging.StreamHandler(sys.stdout))
_log.setLevel(logging.INFO)
IMPORTS = []
IMPORTS.append(1)


class OutOfStockError(Exception):
    pass


def handler(event, context):
    print("hello from handler", event.get("n"))
    _log.info("logger line %s", context.aws_request_id)
    if event.get("fail"):
        raise OutOfStockError(f"sku {event['sku']} out of stock")
    if event.get("bad_result"):
        return {1, 2}
    return {
        "n": event.get("n"),
        "imports": len(IMPORTS),
        "pid": os.getpid(),
        "cwd": os.getcwd(),
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "memory": os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
        "name": context.function_name,
        "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 3000,
        "trace": os.environ.get("_X_AMZN_TRACE_ID", ""),
    }
"""


def start(code_root, endpoint, handler="pkg.fn.handler", extra_env=None):
    lambda_env = {
        "_HANDLER": handler,
        "LOCALSTACK_RUNTIME_ID": "rt1",
        "LOCALSTACK_RUNTIME_ENDPOINT": endpoint.url,
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": 256,  # an int, as LocalStack passes it
        "AWS_LAMBDA_FUNCTION_TIMEOUT": 3,
        **(extra_env or {}),
    }
    return RuntimeProcess(runtime_interpreter(), build_env(lambda_env, str(code_root)), str(code_root))


@pytest.fixture
def runtime(code_dir, fake_endpoint):
    root = code_dir("pkg/__init__.py", "")
    code_dir("pkg/fn.py", HANDLER_MODULE)
    proc = start(root, fake_endpoint)
    ready = json.loads(fake_endpoint.wait_for("/status/rt1/ready"))
    yield proc, ready["port"], root
    proc.stop()


def test_ready_reports_port_and_success_result(runtime, fake_endpoint):
    proc, port, root = runtime
    assert post_invoke(port, "req-1", {"n": 7}) == 202
    result = json.loads(fake_endpoint.wait_for("/invocations/req-1/response"))
    assert result["n"] == 7
    assert result["name"] == "fn"
    assert result["memory"] == "256"
    assert result["cwd"] == str(root) and result["task_root"] == str(root)
    assert result["remaining_ok"] is True
    assert result["trace"].startswith("Root=1-")
    # Logs must be posted before the result: LocalStack attaches them when the result lands.
    paths = fake_endpoint.paths()
    assert paths.index("/_localstack_lambda/rt1/invocations/req-1/logs") < paths.index(
        "/_localstack_lambda/rt1/invocations/req-1/response"
    )


def test_logs_carry_prints_logger_lines_and_start_end_report(runtime, fake_endpoint):
    _, port, _ = runtime
    post_invoke(port, "req-logs", {"n": 1})
    logs = json.loads(fake_endpoint.wait_for("/invocations/req-logs/logs"))["logs"]
    lines = logs.splitlines()
    assert lines[0].startswith("START RequestId: req-logs")
    assert "hello from handler 1" in lines
    assert "logger line req-logs" in lines
    assert lines[-2] == "END RequestId: req-logs"
    assert lines[-1].startswith("REPORT RequestId: req-logs\tDuration: ")
    # The process output (what get_logs() shows) has them too.
    assert proc_output_contains(runtime[0], "hello from handler 1")


def proc_output_contains(proc, text):
    return proc.output.wait_for(text, timeout=5)


def test_warm_environment_imports_handler_once(runtime, fake_endpoint):
    _, port, _ = runtime
    post_invoke(port, "a", {"n": 1})
    first = json.loads(fake_endpoint.wait_for("/invocations/a/response"))
    post_invoke(port, "b", {"n": 2})
    second = json.loads(fake_endpoint.wait_for("/invocations/b/response"))
    assert first["pid"] == second["pid"]
    assert second["imports"] == 1
    logs_b = json.loads(fake_endpoint.wait_for("/invocations/b/logs"))["logs"]
    assert "hello from handler 1" not in logs_b  # each invocation gets only its own output


def test_handler_exception_becomes_typed_function_error(runtime, fake_endpoint):
    _, port, _ = runtime
    post_invoke(port, "req-err", {"fail": True, "sku": "X1"})
    error = json.loads(fake_endpoint.wait_for("/invocations/req-err/error"))
    assert error["errorType"] == "OutOfStockError"
    assert error["errorMessage"] == "sku X1 out of stock"
    assert any("fn.py" in frame for frame in error["stackTrace"])
    assert not any("bootstrap.py" in frame for frame in error["stackTrace"])
    logs = json.loads(fake_endpoint.wait_for("/invocations/req-err/logs"))["logs"]
    assert "[ERROR] OutOfStockError: sku X1 out of stock" in logs
    # The environment survives a handler error.
    post_invoke(port, "req-after", {"n": 3})
    assert json.loads(fake_endpoint.wait_for("/invocations/req-after/response"))["n"] == 3


def test_unserializable_result_is_marshal_error(runtime, fake_endpoint):
    _, port, _ = runtime
    post_invoke(port, "req-set", {"bad_result": True})
    error = json.loads(fake_endpoint.wait_for("/invocations/req-set/error"))
    assert error["errorType"] == "Runtime.MarshalError"


def test_import_error_reports_status_error_and_exits(code_dir, fake_endpoint):
    root = code_dir("broken.py", "import not_a_module_anywhere\n\ndef handler(e, c):\n    return 1\n")
    proc = start(root, fake_endpoint, handler="broken.handler")
    try:
        error = json.loads(fake_endpoint.wait_for("/status/rt1/error"))
        assert error["errorType"] == "Runtime.ImportModuleError"
        assert "Unable to import module 'broken'" in error["errorMessage"]
        assert "not_a_module_anywhere" in error["errorMessage"]
        proc.proc.wait(timeout=10)
        assert "/_localstack_lambda/rt1/status/rt1/ready" not in fake_endpoint.paths()
    finally:
        proc.stop()


def test_missing_handler_function(code_dir, fake_endpoint):
    root = code_dir("mod.py", "def other(e, c):\n    return 1\n")
    proc = start(root, fake_endpoint, handler="mod.handler")
    try:
        error = json.loads(fake_endpoint.wait_for("/status/rt1/error"))
        assert error["errorType"] == "Runtime.HandlerNotFound"
    finally:
        proc.stop()


def test_module_level_exception_keeps_user_error_type(code_dir, fake_endpoint):
    root = code_dir("boom.py", "raise RuntimeError('config missing')\n")
    proc = start(root, fake_endpoint, handler="boom.handler")
    try:
        error = json.loads(fake_endpoint.wait_for("/status/rt1/error"))
        assert error == {**error, "errorType": "RuntimeError", "errorMessage": "config missing"}
    finally:
        proc.stop()


def test_runtime_folder_does_not_shadow_user_modules(code_dir, fake_endpoint):
    # bootstrap.py lives next to process.py/executor.py; a user module named 'process'
    # must win, as the runtime's folder is not on the function's sys.path.
    root = code_dir("process.py", "def handler(e, c):\n    return 'user process module'\n")
    proc = start(root, fake_endpoint, handler="process.handler")
    try:
        port = json.loads(fake_endpoint.wait_for("/status/rt1/ready"))["port"]
        post_invoke(port, "r", {})
        assert json.loads(fake_endpoint.wait_for("/invocations/r/response")) == "user process module"
    finally:
        proc.stop()


def test_stop_ends_the_process(runtime):
    proc, _, _ = runtime
    assert proc.alive()
    proc.stop()
    assert not proc.alive()
