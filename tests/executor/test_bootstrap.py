"""The stdlib runtime (bootstrap.py) on its pipes, as the executor drives it."""

import json

import pytest
from executor_fakes import invocation, next_message, runtime_interpreter
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


def start(code_root, handler="pkg.fn.handler", extra_env=None):
    lambda_env = {
        "_HANDLER": handler,
        "LOCALSTACK_RUNTIME_ID": "rt1",
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": 256,  # an int, as LocalStack passes it
        "AWS_LAMBDA_FUNCTION_TIMEOUT": 3,
        **(extra_env or {}),
    }
    return RuntimeProcess(runtime_interpreter(), build_env(lambda_env, str(code_root)), str(code_root))


def invoke(proc, request_id, event):
    proc.send(invocation(request_id, event))
    answer = next_message(proc)
    assert answer["invoke-id"] == request_id
    return answer


@pytest.fixture
def runtime(code_dir):
    root = code_dir("pkg/__init__.py", "")
    code_dir("pkg/fn.py", HANDLER_MODULE)
    proc = start(root)
    assert next_message(proc) == {"ready": True}
    yield proc, root
    proc.stop()


def test_ready_then_success_result(runtime):
    proc, root = runtime
    answer = invoke(proc, "req-1", {"n": 7})
    assert answer["is-error"] is False
    result = json.loads(answer["payload"])
    assert result["n"] == 7
    assert result["name"] == "fn"
    assert result["memory"] == "256"
    assert result["cwd"] == str(root) and result["task_root"] == str(root)
    assert result["remaining_ok"] is True
    assert result["trace"].startswith("Root=1-")


def test_logs_carry_prints_logger_lines_and_start_end_report(runtime):
    proc, _ = runtime
    lines = invoke(proc, "req-logs", {"n": 1})["logs"].splitlines()
    assert lines[0].startswith("START RequestId: req-logs")
    assert "hello from handler 1" in lines
    assert "logger line req-logs" in lines
    assert lines[-2] == "END RequestId: req-logs"
    assert lines[-1].startswith("REPORT RequestId: req-logs\tDuration: ")
    # The process output (what get_logs() shows) has them too.
    assert proc.output.wait_for("hello from handler 1", timeout=5)


def test_warm_environment_imports_handler_once(runtime):
    proc, _ = runtime
    first = invoke(proc, "a", {"n": 1})
    second = invoke(proc, "b", {"n": 2})
    assert json.loads(first["payload"])["pid"] == json.loads(second["payload"])["pid"]
    assert json.loads(second["payload"])["imports"] == 1
    assert "hello from handler 1" not in second["logs"]  # each invocation gets only its own output


def test_handler_exception_becomes_typed_function_error(runtime):
    proc, _ = runtime
    answer = invoke(proc, "req-err", {"fail": True, "sku": "X1"})
    assert answer["is-error"] is True
    error = json.loads(answer["payload"])
    assert error["errorType"] == "OutOfStockError"
    assert error["errorMessage"] == "sku X1 out of stock"
    assert any("fn.py" in frame for frame in error["stackTrace"])
    assert not any("bootstrap.py" in frame for frame in error["stackTrace"])
    assert "[ERROR] OutOfStockError: sku X1 out of stock" in answer["logs"]
    # The environment survives a handler error.
    assert json.loads(invoke(proc, "req-after", {"n": 3})["payload"])["n"] == 3


def test_unserializable_result_is_marshal_error(runtime):
    proc, _ = runtime
    answer = invoke(proc, "req-set", {"bad_result": True})
    assert answer["is-error"] is True
    assert json.loads(answer["payload"])["errorType"] == "Runtime.MarshalError"


def test_import_error_reports_init_error_and_exits(code_dir):
    root = code_dir("broken.py", "import not_a_module_anywhere\n\ndef handler(e, c):\n    return 1\n")
    proc = start(root, handler="broken.handler")
    try:
        error = next_message(proc)["init-error"]
        assert error["errorType"] == "Runtime.ImportModuleError"
        assert "Unable to import module 'broken'" in error["errorMessage"]
        assert "not_a_module_anywhere" in error["errorMessage"]
        assert proc.proc.wait(timeout=10) == 1
        assert proc.gone()
    finally:
        proc.stop()


def test_missing_handler_function(code_dir):
    root = code_dir("mod.py", "def other(e, c):\n    return 1\n")
    proc = start(root, handler="mod.handler")
    try:
        assert next_message(proc)["init-error"]["errorType"] == "Runtime.HandlerNotFound"
    finally:
        proc.stop()


def test_module_level_exception_keeps_user_error_type(code_dir):
    root = code_dir("boom.py", "raise RuntimeError('config missing')\n")
    proc = start(root, handler="boom.handler")
    try:
        error = next_message(proc)["init-error"]
        assert error == {**error, "errorType": "RuntimeError", "errorMessage": "config missing"}
    finally:
        proc.stop()


def test_runtime_folder_does_not_shadow_user_modules(code_dir):
    # bootstrap.py lives next to process.py/executor.py; a user module named 'process'
    # must win, as the runtime's folder is not on the function's sys.path.
    root = code_dir("process.py", "def handler(e, c):\n    return 'user process module'\n")
    proc = start(root, handler="process.handler")
    try:
        assert next_message(proc) == {"ready": True}
        assert json.loads(invoke(proc, "r", {})["payload"]) == "user process module"
    finally:
        proc.stop()


def test_runtime_exits_when_its_input_closes(runtime):
    # The executor stopped or died: no orphan runtime keeps memory.
    proc, _ = runtime
    proc._to_child.close()
    assert proc.proc.wait(timeout=10) == 0


def test_stop_ends_the_process(runtime):
    proc, _ = runtime
    assert proc.alive()
    proc.stop()
    assert not proc.alive()
