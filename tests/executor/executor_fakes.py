"""Test doubles for the executor tests: a fake LocalStack runtime endpoint and helpers.

The fake endpoint is a tiny threaded HTTP server that records every callback the runtime
makes and lets tests wait on them with deadlines (no fixed sleeps). Named uniquely (not
'helpers') so it cannot clash with other test folders' modules on sys.path."""

import http.client
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "executor" / "src"))

from saga_lambda_executor.process import UnsupportedRuntimeError, resolve_interpreter  # noqa: E402

WAIT_S = 15  # generous deadline for process start-up on a loaded CI machine


def runtime_interpreter() -> str:
    # The real target is python3.12 (like the Lambda runtime); fall back to the test
    # interpreter so the suite still runs where no 3.12 is installed.
    try:
        return resolve_interpreter("python3.12")
    except UnsupportedRuntimeError:
        return sys.executable


class FakeRuntimeEndpoint:
    """Records POSTs to /status/... and /invocations/... in arrival order."""

    def __init__(self):
        self.calls: list[tuple[str, bytes]] = []
        self._cond = threading.Condition()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with endpoint._cond:
                    endpoint.calls.append((self.path, body))
                    endpoint._cond.notify_all()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/_localstack_lambda/rt1"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def wait_for(self, suffix: str, timeout: float = WAIT_S) -> bytes:
        """Body of the first call whose path ends with suffix; fails after the deadline."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self._find(suffix) is not None, timeout)
            assert ok, f"no call ending in {suffix!r} within {timeout}s; got {[p for p, _ in self.calls]}"
            return self._find(suffix)

    def _find(self, suffix):
        for path, body in self.calls:
            if path.endswith(suffix):
                return body
        return None

    def paths(self) -> list[str]:
        with self._cond:
            return [p for p, _ in self.calls]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def post_invoke(port: int, request_id: str, event) -> int:
    """What LocalStack's ExecutorEndpoint sends to POST /invoke; returns the HTTP status."""
    body = json.dumps({
        "invoke-id": request_id,
        "invoked-function-arn": "arn:aws:lambda:us-east-1:000000000000:function:fn",
        "payload": json.dumps(event),
        "trace-id": "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0",
    }).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.connect()
        # As requests/urllib3 do in LocalStack: no Nagle delay on the split header/body writes.
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.request("POST", "/invoke", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()
