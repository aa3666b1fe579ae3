"""LocalStack RuntimeExecutor that runs Lambda environments as local processes.

Replaces the Docker executor where no Docker engine exists. LocalStack makes one executor per
execution environment, and one environment per concurrent invocation of a function. Here those
environments share the warm processes of their function version (same code, same
configuration): a `_Pool` holds at most SAGA_LAMBDA_MAX_PROCESSES of them (default 2) and an
invocation waits for one that is free, instead of each environment starting a process of its own
(~60 MiB and ~0.5 s of CPU to import a handler, on a machine whose two cores are already the
bottleneck). Invocations and results travel on pipes to the process (bootstrap.py), not through
LocalStack's HTTP gateway. This class enforces the function timeout and turns a dead or
timed-out runtime into the errors AWS would report.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import UTC, datetime

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor

from .process import RuntimeProcess, UnsupportedRuntimeError, build_env, resolve_interpreter

LOG = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
POLL_S = 0.05  # how often a wait re-checks that the child is still alive
# Slack over the function timeout for the runtime's answer to reach us.
TIMEOUT_GRACE_S = 0.5
MAX_PROCESSES_VARIABLE = "SAGA_LAMBDA_MAX_PROCESSES"
DEFAULT_MAX_PROCESSES = 2
# What differs between LocalStack's environments of one function version without changing what
# the code sees of its function: ids, the log stream and the assumed role's session credentials.
PER_ENVIRONMENT = frozenset(
    {
        "LOCALSTACK_RUNTIME_ID",
        "LOCALSTACK_RUNTIME_ENDPOINT",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    }
)


def max_processes() -> int:
    try:
        return max(1, int(os.environ.get(MAX_PROCESSES_VARIABLE) or DEFAULT_MAX_PROCESSES))
    except ValueError:
        return DEFAULT_MAX_PROCESSES


def _gateway_port() -> int:
    return config.GATEWAY_LISTEN[0].port


class _Pool:
    """The warm processes of one function version, shared by its LocalStack environments.

    At most min(limit, attached environments) processes; an idle one serves the next
    invocation, a dead one (timed out, exited) is replaced by a fresh init when needed."""

    def __init__(self, key: tuple, interpreter: str, env: dict[str, str], code_dir: str, limit: int) -> None:
        self.key = key
        self._interpreter = interpreter
        self._env = env
        self._code_dir = code_dir
        self._limit = limit
        self._cond = threading.Condition()
        self._idle: list[RuntimeProcess] = []
        self._count = 0  # processes alive or starting, idle or busy
        self.users = 0  # attached environments
        self.last: RuntimeProcess | None = None  # the newest process (diagnostics: its output)

    def _target(self) -> int:
        return min(self._limit, self.users)

    def _spawn(self) -> RuntimeProcess:
        """Start a process and wait until its handler is imported (the caller holds a slot)."""
        process = RuntimeProcess(self._interpreter, self._env, self._code_dir)
        self.last = process
        LOG.debug("Started Lambda runtime (pid %s) for %s", process.pid, self.key[0])
        deadline = time.monotonic() + config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT
        while True:
            message = process.next_message(POLL_S)
            if message is not None:
                if message.get("ready"):
                    return process
                if "init-error" in message:
                    process.stop()
                    body = json.dumps(message["init-error"]).encode()
                    raise StatusErrorException("Lambda runtime reported an init error", body)
                continue
            if process.gone():
                raise LambdaRuntimeException(
                    f"Lambda runtime process exited during startup (code {process.exit_code()}): "
                    f"{process.output.text()[-2000:]}"
                )
            if time.monotonic() >= deadline:
                process.kill()
                raise LambdaRuntimeException(f"Lambda runtime for {self.key[0]} did not become ready in time")

    def _spawn_in_slot(self) -> RuntimeProcess:
        try:
            return self._spawn()
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify_all()
            raise

    def warm_up(self) -> None:
        """An environment started: make sure there is a process for it, up to the limit, so a
        bad handler fails its start (as before) and capacity is ready before invocations."""
        with self._cond:
            if self._count >= self._target():
                return
            self._count += 1
        self.release(self._spawn_in_slot())

    def acquire(self) -> RuntimeProcess:
        """An idle warm process, or a new one if below the limit; else wait for one."""
        with self._cond:
            while True:
                while self._idle:
                    process = self._idle.pop()
                    if process.alive():
                        return process
                    self._count -= 1
                if self._count < max(1, self._target()):
                    self._count += 1
                    break
                self._cond.wait(POLL_S)
        return self._spawn_in_slot()

    def release(self, process: RuntimeProcess) -> None:
        """Back to idle after an invocation, or stopped if it died or is surplus."""
        with self._cond:
            keep = process.alive() and self._count <= self._target()
            if keep:
                self._idle.append(process)
            else:
                self._count -= 1
            self._cond.notify_all()
        if not keep:
            process.stop()

    def discard(self, process: RuntimeProcess) -> None:
        """A process killed or dead mid-invocation: its slot is free for a fresh init."""
        with self._cond:
            self._count -= 1
            self._cond.notify_all()

    def shrink(self) -> list[RuntimeProcess]:
        """Idle processes beyond the target, taken out for the caller to stop."""
        surplus = []
        with self._cond:
            while self._idle and self._count > self._target():
                surplus.append(self._idle.pop(0))
                self._count -= 1
        return surplus


class _Pools:
    """Every pool, by function version and shared configuration."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: dict[tuple, _Pool] = {}

    def attach(self, fv: FunctionVersion, env: dict[str, str], interpreter: str, code_dir: str) -> _Pool:
        shared = {k: v for k, v in env.items() if k not in PER_ENVIRONMENT}
        key = (fv.qualified_arn, interpreter, code_dir, tuple(sorted(shared.items())))
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = _Pool(key, interpreter, env, code_dir, max_processes())
            pool.users += 1
            return pool

    def detach(self, pool: _Pool) -> None:
        with self._lock:
            pool.users -= 1
            if pool.users <= 0 and self._pools.get(pool.key) is pool:
                del self._pools[pool.key]
        for process in pool.shrink():
            process.stop()


POOLS = _Pools()


class LocalProcessRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id, function_version)
        self.pool: _Pool | None = None
        self.process: RuntimeProcess | None = None  # the process of the last invocation (or start)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        fv = self.function_version
        try:
            interpreter = resolve_interpreter(fv.config.runtime)
        except UnsupportedRuntimeError as exc:
            raise LambdaRuntimeException(str(exc)) from exc
        code_dir = str(fv.config.code.get_unzipped_code_location())
        env = build_env(env_vars, code_dir)
        pool = POOLS.attach(fv, env, interpreter, code_dir)
        self.pool = pool
        try:
            pool.warm_up()
        except BaseException:
            self.stop()
            raise
        self.process = pool.last

    def stop(self) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            POOLS.detach(pool)

    # -- addresses ---------------------------------------------------------------------
    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        return LOOPBACK

    def get_runtime_endpoint(self) -> str:
        # Unused by our runtime (it answers on a pipe); LocalStack puts it in the env.
        return f"http://{LOOPBACK}:{_gateway_port()}/_localstack_lambda/{self.id}"

    # -- invocation --------------------------------------------------------------------
    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        pool = self.pool
        if pool is None:
            raise LambdaRuntimeException(f"Runtime {self.id} is not running")
        # A dead process is replaced here by a fresh init, as AWS does after a timeout,
        # before this invocation runs.
        process = pool.acquire()
        self.process = process
        try:
            result = self._invoke_on(process, payload)
        except BaseException:
            process.kill()
            pool.discard(process)
            raise
        if process.alive():
            pool.release(process)
        else:
            pool.discard(process)
        return result

    def _invoke_on(self, process: RuntimeProcess, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        timeout_s = float(self.function_version.config.timeout or 3)
        mark = process.output.mark()
        started = time.monotonic()
        try:
            process.send(payload)
        except OSError:
            process.proc.wait(timeout=5)
            return self._exited_result(process, request_id, mark, started)
        deadline = started + timeout_s + TIMEOUT_GRACE_S
        while True:
            message = process.next_message(POLL_S)
            if message is not None:
                if message.get("invoke-id") != request_id:
                    LOG.debug("Runtime %s answered another invocation: %s", self.id, message.get("invoke-id"))
                    continue
                return InvocationResult(
                    request_id,
                    message["payload"].encode(),
                    is_error=bool(message.get("is-error")),
                    logs=message.get("logs"),
                )
            if process.gone():
                return self._exited_result(process, request_id, mark, started)
            if time.monotonic() >= deadline:
                return self._timed_out_result(process, request_id, mark, started, timeout_s)

    def _timed_out_result(self, process, request_id, mark, started, timeout_s) -> InvocationResult:
        # Kill first, so nothing from the handler lands after the verdict; the next invoke
        # gets a fresh runtime.
        process.kill()
        message = f"Task timed out after {timeout_s:.2f} seconds"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        logs = self._closing_logs(
            process.output.since(mark), request_id, started, f"{now} {request_id} {message}\n", "timeout"
        )
        body = {"errorType": "Sandbox.Timedout", "errorMessage": f"RequestId: {request_id} Error: {message}"}
        return InvocationResult(request_id, json.dumps(body).encode(), is_error=True, logs=logs)

    def _exited_result(self, process, request_id, mark, started) -> InvocationResult:
        process.kill()  # reaps it; the output reader has drained by then
        code = process.exit_code()
        message = f"Runtime exited with error: exit status {code}"
        logs = self._closing_logs(
            process.output.since(mark), request_id, started, f"RequestId: {request_id} Error: {message}\n", "error"
        )
        body = {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: {message}"}
        return InvocationResult(request_id, json.dumps(body).encode(), is_error=True, logs=logs)

    def _closing_logs(self, printed, request_id, started, error_line, status) -> str:
        duration_ms = (time.monotonic() - started) * 1000
        return (
            printed + error_line + f"END RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Memory Size: {self.function_version.config.memory_size} MB\tStatus: {status}\n"
        )

    def get_logs(self) -> str:
        process = self.process or (self.pool.last if self.pool else None)
        return process.output.text() if process else ""

    # -- version preparation -----------------------------------------------------------
    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        # Failing here marks the function Failed with this reason at create time, which
        # is clearer than a failure on first invoke.
        try:
            resolve_interpreter(function_version.config.runtime)
        except UnsupportedRuntimeError as exc:
            raise LambdaRuntimeException(str(exc)) from exc
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        # The unzipped code belongs to LocalStack's code cache; nothing of ours to remove.
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        return True
