"""The benchmark's result as typed models: what run.py produces, report.py shows, <date>.json holds.

The flat figures that FIGURES names (`latency_p50_ms`, `hop_p99_ms`...) are computed from the
summaries, so they cannot disagree with them; they are in the JSON too, for whoever reads it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, computed_field


class Summary(BaseModel):
    """Percentiles of a list of values (None when there are none)."""

    model_config = ConfigDict(frozen=True)

    n: int = 0
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    mean: float | None = None
    min: float | None = None
    max: float | None = None


class Usage(BaseModel):
    """LocalStack's process tree during one cell (resources.Sampler): empty without an embedded one."""

    peak_rss_mb: dict[str, float] = Field(default_factory=dict)  # resources.KINDS, and total
    peak_lambda_processes: int = 0
    cpu_s: dict[str, float] = Field(default_factory=dict)  # resources.KINDS


class Cell(BaseModel):
    """The figures of one style at one concurrency."""

    style: str
    concurrency: int
    orders: int
    terminal: int  # orders that reached a terminal status
    statuses: dict[str, int]
    errors: list[str]  # the first few
    traced: int  # terminal orders whose every mark was found in the logs
    span_s: float  # first POST sent -> last terminal status written
    throughput_per_s: float | None
    latency_ms: Summary  # POST sent -> terminal status written
    saga_window_ms: Summary  # "order created" -> the last step's "step done"
    handler_ms: Summary  # inside the step handlers, per saga
    hop_ms: Summary  # the steps' hand-offs: start_saga -> reserve -> charge -> notify
    outbox_hop_ms: Summary  # the outbox's hand-off: create_order -> the stream -> start_saga
    hops_per_saga: int
    step_hops_per_saga: int
    retries: int
    overhead_per_hop_ms: float | None  # (window - handlers) / hops_per_saga, mean over sagas
    usage: Usage
    cpu_ms_per_order: float | None
    latencies_ms: list[float]
    hops_ms: list[float]  # step_hops_per_saga per traced order
    outbox_hops_ms: list[float]  # one per traced order

    @computed_field
    @property
    def latency_p50_ms(self) -> float | None:
        return self.latency_ms.p50

    @computed_field
    @property
    def latency_p95_ms(self) -> float | None:
        return self.latency_ms.p95

    @computed_field
    @property
    def latency_p99_ms(self) -> float | None:
        return self.latency_ms.p99

    @computed_field
    @property
    def handler_ms_per_saga(self) -> float | None:
        return self.handler_ms.mean

    @computed_field
    @property
    def hop_p50_ms(self) -> float | None:
        return self.hop_ms.p50

    @computed_field
    @property
    def hop_p99_ms(self) -> float | None:
        return self.hop_ms.p99

    @computed_field
    @property
    def outbox_hop_p50_ms(self) -> float | None:
        return self.outbox_hop_ms.p50

    @computed_field
    @property
    def outbox_hop_p99_ms(self) -> float | None:
        return self.outbox_hop_ms.p99

    @computed_field
    @property
    def localstack_peak_mb(self) -> float | None:
        return self.usage.peak_rss_mb.get("localstack")

    @computed_field
    @property
    def lambdas_peak_mb(self) -> float | None:
        return self.usage.peak_rss_mb.get("lambdas")

    @computed_field
    @property
    def lambda_processes(self) -> int | None:
        return self.usage.peak_lambda_processes if self.usage.peak_rss_mb else None

    def figure(self, key: str) -> float | int | None:
        """A figure of stats.FIGURES by its key."""
        return getattr(self, key)


class Machine(BaseModel):
    cpus: int | None
    memory_gib: float
    platform: str
    python: str
    localstack: str  # "embedded", or "external (no process figures)"
    load_average: list[float]  # 1-minute average before the run, and after


class Config(BaseModel):
    orders: int  # per style and concurrency
    concurrency: list[int]
    warmup: int  # orders per style before measuring
    poll_s: float
    hops_per_saga: int
    step_hops_per_saga: int


class Ratio(BaseModel):
    """choreography / orchestration of each figure, at one concurrency."""

    concurrency: int
    figures: dict[str, float | None]


class BenchResult(BaseModel):
    date: str  # ISO 8601, UTC, when the run started
    machine: Machine
    config: Config
    duration_s: float
    fault_rates: dict[str, str]  # function -> SAGA_FAULT_RATE, if any was on (--allow-faults)
    cells: list[Cell]
    ratios: list[Ratio]

    def cell(self, style: str, concurrency: int) -> Cell | None:
        return next((c for c in self.cells if (c.style, c.concurrency) == (style, concurrency)), None)

    def ratio(self, concurrency: int) -> Ratio | None:
        return next((r for r in self.ratios if r.concurrency == concurrency), None)
