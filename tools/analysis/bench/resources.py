"""Memory and CPU of the embedded LocalStack's process tree while the benchmark runs.

The tree is the LocalStack process (pid file under .localstack/), DynamoDB Local (a java child),
kinesis-mock (a node child: the backend of DynamoDB streams, when LocalStack runs one), any other
child LocalStack starts ("other"), and one Python process per warm Lambda environment (the
executor's bootstrap.py, with the function's name in its environment; another style's are left
out). Every process that works for the run is counted, so the CPU figure is the whole cost.
Memory is resident set size (RSS), sampled every SAMPLE_S; the Lambda figure is the sum over the
style's environments alive at a sample. CPU is the processes' user+system time consumed between
start and stop (environments that exit in between are missed: the executor keeps them warm for
minutes, longer than a run).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import psutil

from tools import aws
from tools.dev.localstack import paths

SAMPLE_S = 0.25
MIB = 1024 * 1024
KINDS = ("localstack", "dynamodb", "kinesis", "other", "lambdas")


def localstack_pid() -> int | None:
    try:
        pid = int(paths.PID_FILE.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if psutil.pid_exists(pid) else None


@dataclass
class Usage:
    peak_mb: dict[str, float] = field(default_factory=dict)  # KINDS and total
    peak_lambda_processes: int = 0
    cpu_s: dict[str, float] = field(default_factory=dict)  # KINDS

    def as_dict(self) -> dict:
        return {
            "peak_rss_mb": {k: round(v, 1) for k, v in self.peak_mb.items()},
            "peak_lambda_processes": self.peak_lambda_processes,
            "cpu_s": {k: round(v, 2) for k, v in self.cpu_s.items()},
        }


class Sampler:
    """`with Sampler(style) as s: ...` then `s.usage`. A no-op (empty usage) without an embedded
    LocalStack, e.g. the Docker one: its processes are not ours to read."""

    def __init__(self, style: str) -> None:
        self._prefix = aws.function_name(style, "")  # every function of the style is named so
        self._root = localstack_pid()
        self._kinds: dict[int, str | None] = {}  # pid -> one of KINDS, or None (not counted)
        self._cpu_start: dict[int, float] = {}
        self._cpu_last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)
        self.usage = Usage()

    def __enter__(self) -> Sampler:
        if self._root is not None:
            self._sample(first=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._root is None:
            return
        self._stop.set()
        self._thread.join()
        self._sample()
        cpu = dict.fromkeys(KINDS, 0.0)
        for pid, last in self._cpu_last.items():
            kind = self._kinds.get(pid)
            if kind:
                cpu[kind] += last - self._cpu_start.get(pid, 0.0)
        self.usage.cpu_s = cpu

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self._sample()

    def _kind(self, process: psutil.Process) -> str | None:
        if process.pid not in self._kinds:
            kind = None
            try:
                if process.pid == self._root:
                    kind = "localstack"
                elif process.name() == "java":
                    kind = "dynamodb"
                elif process.name() == "node":
                    kind = "kinesis"
                elif any(part.endswith("bootstrap.py") for part in process.cmdline()):
                    name = process.environ().get("AWS_LAMBDA_FUNCTION_NAME", "")
                    kind = "lambdas" if name.startswith(self._prefix) else None
                else:
                    kind = "other"
            except psutil.Error:
                return None
            self._kinds[process.pid] = kind
        return self._kinds[process.pid]

    def _sample(self, first: bool = False) -> None:
        try:
            root = psutil.Process(self._root)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        rss = dict.fromkeys(KINDS, 0.0)
        lambdas = 0
        for process in processes:
            kind = self._kind(process)
            if kind is None:
                continue
            try:
                with process.oneshot():
                    mem = process.memory_info().rss / MIB
                    times = process.cpu_times()
            except psutil.Error:
                continue
            cpu = times.user + times.system
            # A process already running at the start counts from then; one born later from 0.
            if first:
                self._cpu_start[process.pid] = cpu
            self._cpu_last[process.pid] = cpu
            rss[kind] += mem
            lambdas += kind == "lambdas"
        rss["total"] = sum(rss.values())
        for kind, value in rss.items():
            self.usage.peak_mb[kind] = max(value, self.usage.peak_mb.get(kind, 0.0))
        self.usage.peak_lambda_processes = max(lambdas, self.usage.peak_lambda_processes)
