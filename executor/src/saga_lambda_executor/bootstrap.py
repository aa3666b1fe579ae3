"""Stdlib-only Lambda runtime run as a child process by the local-process executor.

It is started by file path with the function's own interpreter (e.g. python3.12 with only
boto3, like the AWS-provided runtime), so it must not import anything outside the stdlib.
Protocol (LocalStack's runtime API, the same the Docker init speaks):
  runtime -> LocalStack  POST {endpoint}/status/{id}/ready | /error
                         POST {endpoint}/invocations/{req}/logs | /response | /error
  LocalStack -> runtime  POST http://127.0.0.1:{port}/invoke  (answered 202 at once)
The listening port is chosen by the OS and sent in the ready body as {"port": N},
which avoids a pick-a-free-port race between executor and child.
"""

import http.client
import http.server
import importlib
import io
import json
import os
import queue
import socket
import sys
import threading
import time
import traceback
import urllib.parse

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


def _post(url, body, content_type="application/json"):
    """POST to LocalStack's runtime API.

    http.client rather than urllib: proxies from the env must not apply, and TCP_NODELAY
    matters, since http.client sends headers and body in two writes, and Nagle plus
    delayed ACK then cost ~40 ms per call (measured: 55 ms -> 2 ms per post)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
    try:
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.request("POST", parts.path, body=data, headers={"Content-Type": content_type})
        resp = conn.getresponse()
        resp.read()
        if resp.status >= 400:
            raise OSError(f"runtime API {parts.path} answered HTTP {resp.status}")
    finally:
        conn.close()


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


class _InvokeServer(http.server.ThreadingHTTPServer):
    daemon_threads = True


def _make_request_handler(invocations):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/invoke":
                self.send_response(404)
                self.end_headers()
                return
            try:
                invocation = json.loads(raw)
            except ValueError:
                self.send_response(400)
                self.end_headers()
                return
            # Answer at once: the result travels back on the runtime API, not this response.
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            invocations.put(invocation)

        def log_message(self, *args):  # keep the function's log free of access lines
            pass

    return Handler


def _watch_parent(parent_pid):
    # The executor kills us on stop; this covers the executor dying without a stop
    # (e.g. LocalStack killed), so no orphan runtimes keep ports and memory.
    while True:
        if os.getppid() != parent_pid:
            os._exit(0)
        time.sleep(1)


def _run_one(handler, invocation, endpoint, capture, timeout_s):
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
            body = json.dumps(result).encode()
        except (TypeError, ValueError) as exc:
            is_error = True
            body = {"errorMessage": f"Unable to marshal response: {exc}", "errorType": "Runtime.MarshalError",
                    "stackTrace": []}
    except Exception as exc:  # the handler's error becomes the function error, like AWS
        is_error = True
        body = _error_body(exc)
        body["requestId"] = request_id
        # AWS prints the error in this shape to the function's log too.
        print(f"[ERROR] {body['errorType']}: {body['errorMessage']}\nTraceback (most recent call last):\n"
              + "".join(body["stackTrace"]), end="")
    duration_ms = (time.time() - started) * 1000
    print(f"END RequestId: {request_id}")
    print(f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
          f"Billed Duration: {max(1, int(duration_ms + 0.999))} ms\t"
          f"Memory Size: {os.environ.get('AWS_LAMBDA_FUNCTION_MEMORY_SIZE', '128')} MB")
    capture.current = None
    sys.stdout.flush()
    # Logs go first: LocalStack attaches the last posted logs when the result arrives.
    _post(f"{endpoint}/invocations/{request_id}/logs", {"logs": buf.getvalue()})
    if is_error:
        _post(f"{endpoint}/invocations/{request_id}/error", body)
    else:
        _post(f"{endpoint}/invocations/{request_id}/response", body, "application/json")


def main():
    env = os.environ
    endpoint = env["LOCALSTACK_RUNTIME_ENDPOINT"].rstrip("/")
    runtime_id = env["LOCALSTACK_RUNTIME_ID"]
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

    parent = int(env.get("SAGA_EXECUTOR_PARENT_PID") or os.getppid())
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()

    invocations = queue.Queue()
    server = _InvokeServer(("127.0.0.1", int(env.get("SAGA_RUNTIME_PORT") or 0)), _make_request_handler(invocations))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    try:
        handler = load_handler(env["_HANDLER"])
    except _InitError as exc:
        body = {"errorMessage": str(exc), "errorType": exc.error_type,
                "stackTrace": traceback.format_exception(exc.__cause__ or exc)}
        print(f"[ERROR] {exc.error_type}: {exc}", file=sys.stderr)
        _post(f"{endpoint}/status/{runtime_id}/error", body)
        return 1

    _post(f"{endpoint}/status/{runtime_id}/ready", {"port": port})
    # Handlers run on the main thread, one at a time, as in a Lambda sandbox.
    while True:
        invocation = invocations.get()
        try:
            _run_one(handler, invocation, endpoint, capture, timeout_s)
        except Exception:  # a failed post must not kill the warm environment
            traceback.print_exc(file=real_out)


if __name__ == "__main__":
    sys.exit(main())
