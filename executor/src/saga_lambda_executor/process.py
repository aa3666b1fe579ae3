"""LocalStack-independent pieces: interpreter choice, child process and its output buffer.

Kept free of localstack imports so they can be unit tested (and reused) without the
LocalStack runtime being importable."""

import contextlib
import glob
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")

# Env passed through from the LocalStack process. Everything else is left out: a Lambda
# sandbox does not see the host's variables (credentials, HOME, LocalStack's own config).
PASSTHROUGH_ENV = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
# Set in LocalStack's environment: the functions send their DynamoDB requests straight to the
# DynamoDB Local server that LocalStack's DynamoDB forwards them to (boto3's service-specific
# endpoint variable), instead of through LocalStack's gateway and proxy. Same server, same tables
# and streams; the requests no longer cost LocalStack's single Python process its CPU.
DYNAMODB_ENDPOINT_VARIABLE = "SAGA_LAMBDA_DYNAMODB_ENDPOINT"


class UnsupportedRuntimeError(Exception):
    pass


def _interpreter_env_var(minor: str) -> str:
    return f"SAGA_LAMBDA_PYTHON3{minor}"


def resolve_interpreter(runtime: str | None, environ=os.environ) -> str:
    """Return the interpreter for a Lambda runtime id such as 'python3.12'.

    Order: $SAGA_LAMBDA_PYTHON3XY (the project points it at a venv that mimics the AWS
    runtime: stdlib + boto3), then python3.X on PATH (pyenv shims skipped: they fail
    unless that version is selected), then a pyenv install of 3.X."""
    match = re.fullmatch(r"python3\.(\d+)", runtime or "")
    if not match:
        raise UnsupportedRuntimeError(
            f"Runtime '{runtime}' is not supported by the local-process Lambda executor "
            "(it runs python3.X functions only; use the docker executor for others)"
        )
    minor = match.group(1)
    var = _interpreter_env_var(minor)
    configured = environ.get(var)
    if configured:
        if not os.access(configured, os.X_OK):
            raise UnsupportedRuntimeError(f"{var}={configured} is not an executable interpreter")
        return configured
    for directory in environ.get("PATH", "").split(os.pathsep):
        if not directory or "/shims" in directory:
            continue
        found = shutil.which(f"python3.{minor}", path=directory)
        if found:
            return found
    pyenv_root = environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates = sorted(glob.glob(os.path.join(pyenv_root, "versions", f"3.{minor}.*", "bin", f"python3.{minor}")))
    if candidates:
        return candidates[-1]
    raise UnsupportedRuntimeError(f"No interpreter for runtime '{runtime}': set {var} or put python3.{minor} on PATH")


def build_env(lambda_env: dict, code_dir: str, environ=os.environ) -> dict[str, str]:
    env = {k: environ[k] for k in PASSTHROUGH_ENV if k in environ}
    env.setdefault("LANG", "C.UTF-8")
    # LocalStack hands some values over as ints (memory size, timeout): env wants strings.
    env.update({str(k): str(v) for k, v in lambda_env.items() if v is not None})
    if environ.get(DYNAMODB_ENDPOINT_VARIABLE):
        env.setdefault("AWS_ENDPOINT_URL_DYNAMODB", environ[DYNAMODB_ENDPOINT_VARIABLE])
    env["LAMBDA_TASK_ROOT"] = str(code_dir)
    env["LAMBDA_RUNTIME_DIR"] = str(BOOTSTRAP.parent)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class OutputBuffer:
    """Thread-safe, bounded record of a child's combined stdout/stderr.

    Positions are absolute (they survive trimming), so a caller can ask for the output
    written since a mark, e.g. what a timed-out handler printed before it was killed."""

    def __init__(self, max_chars: int = 1_000_000):
        self._lock = threading.Lock()
        self._chunks: list[str] = []
        self._dropped = 0  # chunks trimmed from the front
        self._size = 0
        self._max = max_chars
        self._changed = threading.Condition(self._lock)

    def append(self, text: str) -> None:
        with self._lock:
            self._chunks.append(text)
            self._size += len(text)
            while self._size > self._max and len(self._chunks) > 1:
                self._size -= len(self._chunks.pop(0))
                self._dropped += 1
            self._changed.notify_all()

    def mark(self) -> int:
        with self._lock:
            return self._dropped + len(self._chunks)

    def since(self, mark: int) -> str:
        with self._lock:
            return "".join(self._chunks[max(0, mark - self._dropped) :])

    def text(self) -> str:
        return self.since(0)

    def wait_for(self, needle: str, timeout: float) -> bool:
        """Block until needle appears in the output (for tests and diagnostics)."""
        with self._lock:
            return self._changed.wait_for(lambda: needle in "".join(self._chunks), timeout)


class RuntimeProcess:
    """One Lambda execution environment = one child process running bootstrap.py.

    Invocations go to the child and its answers come back on two pipes (bootstrap.py has the
    protocol); its stdout and stderr, combined, feed `output`."""

    def __init__(self, interpreter: str, env: dict[str, str], code_dir: str):
        self.output = OutputBuffer()
        self.messages: queue.Queue[dict] = queue.Queue()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # Same process group as LocalStack (no new session): stopping LocalStack's group
        # stops its runtimes too. Unbuffered text lines from the child feed the buffer.
        try:
            self.proc = subprocess.Popen(
                [interpreter, "-u", str(BOOTSTRAP)],
                cwd=code_dir,
                env={**env, "SAGA_RUNTIME_FDS": f"{to_child_r},{from_child_w}"},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(to_child_r, from_child_w),
            )
        except BaseException:
            for fd in (to_child_w, from_child_r):
                os.close(fd)
            raise
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._to_child = os.fdopen(to_child_w, "wb", buffering=0)
        self._send_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name=f"lambda-output-{self.proc.pid}", daemon=True)
        self._reader.start()
        self._listener = threading.Thread(
            target=self._listen, args=(from_child_r,), name=f"lambda-answers-{self.proc.pid}", daemon=True
        )
        self._listener.start()

    def _read(self) -> None:
        for line in iter(self.proc.stdout.readline, b""):
            self.output.append(line.decode("utf-8", errors="replace"))
        self.proc.stdout.close()

    def _listen(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as answers:
            for line in answers:
                try:
                    self.messages.put(json.loads(line))
                except ValueError:
                    self.output.append(f"(runtime sent an unreadable message: {line[:200]!r})\n")

    def send(self, message: dict) -> None:
        """Hand the child a message (an invocation); OSError if it is gone."""
        data = json.dumps(message).encode() + b"\n"
        with self._send_lock:
            self._to_child.write(data)

    def next_message(self, timeout: float) -> dict | None:
        """The child's next message, or None if none came within timeout."""
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            return None

    def gone(self) -> bool:
        """Exited, and everything it sent has been read (no answer can still arrive)."""
        if self.alive():
            return False
        self._listener.join(timeout=2)
        return self.messages.empty()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def exit_code(self) -> int | None:
        return self.proc.poll()

    def _close_input(self) -> None:
        with contextlib.suppress(OSError):
            self._to_child.close()

    def stop(self, grace: float = 2.0) -> None:
        """Close its input (the child exits on its own), TERM, wait up to grace seconds, then
        KILL. Safe to call twice."""
        self._close_input()
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=grace)
            except ProcessLookupError:
                pass
        self._reader.join(timeout=grace)

    def kill(self) -> None:
        """Immediate kill: used on a timed-out handler, which owes us nothing."""
        self._close_input()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._reader.join(timeout=2)
