"""LocalStack RuntimeExecutor that runs each Lambda environment as a local process.

Replaces the Docker executor where no Docker engine exists. LocalStack's own
ExecutorEndpoint receives the runtime's callbacks (ready/logs/response/error) on the
gateway; this class spawns the process, enforces the function timeout and turns a
dead or timed-out runtime into the errors AWS would report.
"""

import json
import logging
import time
from concurrent.futures import Future, TimeoutError as FutureTimeout
from datetime import datetime, timezone
from http import HTTPStatus

from localstack import config
from localstack.http import Response
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor

from .process import RuntimeProcess, UnsupportedRuntimeError, build_env, resolve_interpreter

LOG = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
POLL_S = 0.05  # how often a wait re-checks that the child is still alive
# Slack over the function timeout for the runtime's HTTP round trip back to LocalStack.
TIMEOUT_GRACE_S = 0.5


class _PortReportingEndpoint(ExecutorEndpoint):
    """ExecutorEndpoint that learns the runtime's port from its ready call ({"port": N})."""

    def status_ready(self, request, executor_id: str) -> Response:
        try:
            body = json.loads(request.data or b"{}")
            self.container_port = int(body["port"])
        except (ValueError, KeyError, TypeError):
            LOG.warning("Runtime %s reported ready without a port", executor_id)
            return Response(status=HTTPStatus.BAD_REQUEST)
        return super().status_ready(request, executor_id)


def _gateway_port() -> int:
    return config.GATEWAY_LISTEN[0].port


class LocalProcessRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id, function_version)
        self.executor_endpoint = _PortReportingEndpoint(self.id, container_address=LOOPBACK, container_port=None)
        self.process: RuntimeProcess | None = None
        self._env: dict[str, str] | None = None
        self._stopped = False

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        self._env = env_vars
        self._stopped = False
        self._spawn()

    def _spawn(self) -> None:
        fv = self.function_version
        try:
            interpreter = resolve_interpreter(fv.config.runtime)
        except UnsupportedRuntimeError as exc:
            raise LambdaRuntimeException(str(exc)) from exc
        code_dir = str(fv.config.code.get_unzipped_code_location())
        self.executor_endpoint.start()  # fresh startup future, (re)registered route
        self.process = RuntimeProcess(interpreter, build_env(self._env, code_dir), code_dir)
        LOG.debug("Started Lambda runtime %s (pid %s) for %s", self.id, self.process.pid, fv.qualified_arn)
        self._wait_for_startup()

    def _wait_for_startup(self) -> None:
        # Waits on the ready/error callback, but also notices a child that died before
        # calling back (bad interpreter, crash), instead of idling until LocalStack's
        # 20 s startup timer fires.
        future = self.executor_endpoint.startup_future
        deadline = time.monotonic() + config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT
        while True:
            try:
                future.result(timeout=POLL_S)  # raises StatusErrorException on /error
                return
            except FutureTimeout:
                pass
            if self.process is None or not self.process.alive():
                if future.done():
                    continue
                output = self.process.output.text() if self.process else ""
                raise LambdaRuntimeException(
                    f"Lambda runtime process exited during startup (code "
                    f"{self.process.exit_code() if self.process else '?'}): {output[-2000:]}"
                )
            if time.monotonic() >= deadline:  # restarts have no LocalStack startup timer
                self.process.kill()
                raise LambdaRuntimeException(f"Lambda runtime {self.id} did not become ready in time")

    def stop(self) -> None:
        self._stopped = True
        if self.process:
            self.process.stop()
        try:
            self.executor_endpoint.shutdown()
        except Exception as exc:  # already unregistered, e.g. stop after a failed start
            LOG.debug("Error while shutting down executor endpoint %s: %s", self.id, exc)

    # -- addresses ---------------------------------------------------------------------
    def get_address(self) -> str:
        return LOOPBACK

    def get_endpoint_from_executor(self) -> str:
        return LOOPBACK

    def get_runtime_endpoint(self) -> str:
        return f"http://{LOOPBACK}:{_gateway_port()}{self.executor_endpoint.get_endpoint_prefix()}"

    # -- invocation --------------------------------------------------------------------
    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        if self.process is None or not self.process.alive():
            if self._stopped or self._env is None:
                raise LambdaRuntimeException(f"Runtime {self.id} is not running")
            # The previous process was killed (timeout) or exited: a fresh init, as AWS
            # does after a timeout, before this invocation runs.
            LOG.debug("Restarting Lambda runtime %s", self.id)
            self._spawn()
        request_id = payload["invoke-id"]
        timeout_s = float(self.function_version.config.timeout or 3)
        mark = self.process.output.mark()
        started = time.monotonic()
        endpoint = self.executor_endpoint
        endpoint.invocation_future = Future()
        endpoint.logs = None
        response = endpoint._perform_invoke(
            invocation_url=f"http://{LOOPBACK}:{endpoint.container_port}/invoke",
            proxies={"http": "", "https": ""},
            payload=payload,
        )
        if not response.ok:
            raise LambdaRuntimeException(f"Runtime {self.id} refused invoke: HTTP {response.status_code}")

        deadline = started + timeout_s + TIMEOUT_GRACE_S
        while True:
            try:
                return endpoint.invocation_future.result(timeout=POLL_S)
            except FutureTimeout:
                pass
            if not self.process.alive():
                if endpoint.invocation_future.done():
                    continue
                return self._exited_result(request_id, mark, started)
            if time.monotonic() >= deadline:
                return self._timed_out_result(request_id, mark, started, timeout_s)

    def _timed_out_result(self, request_id, mark, started, timeout_s) -> InvocationResult:
        # Kill first, so nothing from the handler lands after the verdict; the next invoke
        # restarts the runtime.
        self.process.kill()
        message = f"Task timed out after {timeout_s:.2f} seconds"
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        logs = self._closing_logs(self.process.output.since(mark), request_id, started,
                                  f"{now} {request_id} {message}\n", "timeout")
        body = {"errorType": "Sandbox.Timedout", "errorMessage": f"RequestId: {request_id} Error: {message}"}
        return InvocationResult(request_id, json.dumps(body).encode(), is_error=True, logs=logs)

    def _exited_result(self, request_id, mark, started) -> InvocationResult:
        code = self.process.exit_code()
        message = f"Runtime exited with error: exit status {code}"
        logs = self._closing_logs(self.process.output.since(mark), request_id, started,
                                  f"RequestId: {request_id} Error: {message}\n", "error")
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
        return self.process.output.text() if self.process else ""

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
