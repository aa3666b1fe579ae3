"""Stdlib-only Lambda runtime run as a child process by the local-process executor.

It is started by file path with the function's own interpreter (e.g. python3.12 with only
boto3, like the AWS-provided runtime), so it must not import anything outside the stdlib.

Protocol: two pipes to the executor, their fds named in SAGA_RUNTIME_FDS ("in,out"), one JSON
object per line each way. Nothing goes through LocalStack's HTTP gateway: that costs LocalStack
two requests per invocation (logs, then result) plus the ready call, and its gateway is where
LocalStack spends most of its CPU.
  executor -> runtime  {"invoke-id", "invoked-function-arn", "payload", "trace-id"}  (an invocation)
  runtime -> executor  {"ready": true}  once the handler is imported, or
                       {"init-error": {"errorMessage", "errorType", "stackTrace"}} and exit 1;
                       {"invoke-id", "logs", "is-error", "payload"} per invocation (payload: the
                       result as JSON text, or the error body)
The runtime exits when its input pipe closes (the executor stopped or died), so no orphan
keeps memory.
"""

import importlib
import io
import json
import os
import sys
import time
import traceback

_THIS = os.path.abspath(__file__)
_HERE = os.path.dirname(_THIS)


class _Tee(io.TextIOBase):
    """Writes to the real stream and, during an invocation, to that invocation's buffer.

    Installed once before the handler is imported because loggers (e.g. Powertools)
    bind sys.stdout at import time; swapping the stream per invoke would miss them."""

    def __init__(self, real, capture):
        self._real = real
        self._capture = capture

    def write(self, s):
        buf = self._capture.current
        if buf is not None:
            buf.write(s)
        self._real.write(s)
        self._real.flush()
        return len(s)

    def flush(self):
        self._real.flush()

    def isatty(self):
        return False

    @property
    def encoding(self):
        return getattr(self._real, "encoding", "utf-8")

    def fileno(self):
        return self._real.fileno()


class _Capture:
    current = None  # io.StringIO while an invocation runs


class LambdaContext:
    """The subset of the AWS context object that handlers and Powertools read."""

    def __init__(self, request_id, invoked_arn, deadline_s):
        env = os.environ
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_s = deadline_s

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline_s - time.time()) * 1000))


class _Channel:
    """The executor's end: invocations in, results out, one JSON line each."""

    def __init__(self, fd_in, fd_out):
        self._in = os.fdopen(fd_in, "rb", buffering=1 << 16)
        self._out = os.fdopen(fd_out, "wb", buffering=0)

    def receive(self):
        """The next invocation, or None once the executor has closed the pipe."""
        line = self._in.readline()
        return json.loads(line) if line else None

    def send(self, message):
        self._out.write(json.dumps(message).encode() + b"\n")


def _error_body(exc):
    # Drop this runtime's own frames: users should see their code only, as on AWS.
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) != _THIS]
    stack = traceback.format_list(frames)
    return {"errorMessage": str(exc), "errorType": type(exc).__name__, "stackTrace": stack}


def load_handler(spec):
    """Resolve 'pkg.module.func' like the AWS Python runtime, with its error types."""
    module_name, _, func_name = spec.rpartition(".")
    if not module_name:
        raise _InitError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': not enough values to unpack")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _InitError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from exc
    except SyntaxError as exc:
        raise _InitError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}") from exc
    except Exception as exc:  # module-level code failed: AWS reports the user's exception type
        raise _InitError(type(exc).__name__, str(exc)) from exc
    handler = getattr(module, func_name, None)
    if handler is None:
        raise _InitError("Runtime.HandlerNotFound", f"Handler '{func_name}' missing on module '{module_name}'")
    return handler


class _InitError(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def run_one(handler, invocation, capture, timeout_s):
    """Run one invocation; returns the message for the executor (logs, result or error)."""
    request_id = invocation.get("invoke-id", "")
    trace_id = invocation.get("trace-id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    buf = io.StringIO()
    capture.current = buf
    started = time.time()
    version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    print(f"START RequestId: {request_id} Version: {version}")
    is_error = False
    try:
        event = json.loads(invocation.get("payload") or "null")
        context = LambdaContext(request_id, invocation.get("invoked-function-arn", ""), started + timeout_s)
        result = handler(event, context)
        try:
            payload = json.dumps(result)
        except (TypeError, ValueError) as exc:
            is_error = True
            payload = json.dumps(
                {
                    "errorMessage": f"Unable to marshal response: {exc}",
                    "errorType": "Runtime.MarshalError",
                    "stackTrace": [],
                }
            )
    except Exception as exc:  # the handler's error becomes the function error, like AWS
        is_error = True
        body = _error_body(exc)
        body["requestId"] = request_id
        payload = json.dumps(body)
        # AWS prints the error in this shape to the function's log too.
        print(
            f"[ERROR] {body['errorType']}: {body['errorMessage']}\nTraceback (most recent call last):\n"
            + "".join(body["stackTrace"]),
            end="",
        )
    duration_ms = (time.time() - started) * 1000
    print(f"END RequestId: {request_id}")
    print(
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {max(1, int(duration_ms + 0.999))} ms\t"
        f"Memory Size: {os.environ.get('AWS_LAMBDA_FUNCTION_MEMORY_SIZE', '128')} MB"
    )
    capture.current = None
    sys.stdout.flush()
    return {"invoke-id": request_id, "logs": buf.getvalue(), "is-error": is_error, "payload": payload}


def main():
    env = os.environ
    fd_in, fd_out = (int(fd) for fd in env.pop("SAGA_RUNTIME_FDS").split(","))
    channel = _Channel(fd_in, fd_out)
    task_root = env.get("LAMBDA_TASK_ROOT") or os.getcwd()
    timeout_s = float(env.get("AWS_LAMBDA_FUNCTION_TIMEOUT") or 3)

    # The code dir comes first on sys.path, as /var/task does on AWS; our own folder must
    # not be there (it would shadow user modules and is not part of the emulated runtime).
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
    sys.path.insert(0, task_root)
    os.chdir(task_root)

    capture = _Capture()
    real_out = sys.stdout
    sys.stdout = _Tee(sys.stdout, capture)
    sys.stderr = _Tee(sys.stderr, capture)

    try:
        handler = load_handler(env["_HANDLER"])
    except _InitError as exc:
        body = {
            "errorMessage": str(exc),
            "errorType": exc.error_type,
            "stackTrace": traceback.format_exception(exc.__cause__ or exc),
        }
        print(f"[ERROR] {exc.error_type}: {exc}", file=sys.stderr)
        channel.send({"init-error": body})
        return 1

    channel.send({"ready": True})
    # Handlers run on the main thread, one at a time, as in a Lambda sandbox.
    while True:
        try:
            invocation = channel.receive()
            if invocation is None:
                return 0
            channel.send(run_one(handler, invocation, capture, timeout_s))
        except BrokenPipeError:
            return 0
        except Exception:  # a broken invocation message must not kill the warm environment
            traceback.print_exc(file=real_out)


if __name__ == "__main__":
    sys.exit(main())
