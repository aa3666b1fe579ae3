"""Helpers for the executor tests: the runtime interpreter, and what LocalStack sends as an
invocation. Named uniquely (not 'helpers') so it cannot clash with other test folders'
modules on sys.path."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "executor" / "src"))

from saga_lambda_executor.process import UnsupportedRuntimeError, resolve_interpreter

WAIT_S = 15  # generous deadline for process start-up on a loaded CI machine


def runtime_interpreter() -> str:
    # The real target is python3.12 (like the Lambda runtime); fall back to the test
    # interpreter so the suite still runs where no 3.12 is installed.
    try:
        return resolve_interpreter("python3.12")
    except UnsupportedRuntimeError:
        return sys.executable


def invocation(request_id: str, event) -> dict:
    """What LocalStack hands an executor's invoke(), and the executor passes to the runtime."""
    return {
        "invoke-id": request_id,
        "invoked-function-arn": "arn:aws:lambda:us-east-1:000000000000:function:fn",
        "payload": json.dumps(event),
        "trace-id": "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0",
    }


def next_message(proc, timeout: float = WAIT_S) -> dict:
    """The runtime's next message on its answer pipe; fails after the deadline."""
    message = proc.next_message(timeout)
    assert message is not None, f"no message from the runtime within {timeout}s; output: {proc.output.text()}"
    return message
