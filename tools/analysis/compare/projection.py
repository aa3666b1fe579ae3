"""What a traced saga's end-to-end latency would be on AWS: its path, the published hops.

A saga is a chain: each step waits for the one before. Its path on AWS is the stream delivering
the stored order to start_saga, then per step run one hand-off (by the wiring that delivered it:
the state machine or the bus) plus the step's handler time as measured here. Local hand-offs
are replaced by the published distributions (latency.py); handler times are kept, because the
same code runs on AWS (its DynamoDB calls are local ones here: a few ms each, not adjusted).

Each published hop is a lognormal fitted to its p50 and p99 (latencies are positive and
right-skewed; two quantiles fix the two parameters), hops are independent, and the sum is
sampled (Monte Carlo, seeded: the same trace always projects to the same numbers). Fitting to
p50/p99 keeps the published tail; it puts more weight between them than the source's p90 shows
(Step Functions Standard: the fit's p90 is 165 ms, the published 133 ms), so projected medians
lean pessimistic. Not projected: cold starts, retries' back-off, API Gateway (latency.py).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from statistics import NormalDist

import numpy as np
from pydantic import BaseModel

from tools.analysis.compare.handoffs import carrier
from tools.analysis.compare.latency import EVENTBRIDGE, EXPRESS, HOPS, STANDARD, STREAM, Hop
from tools.analysis.compare.model import STEP_FUNCTIONS, Trace

SAMPLES = 100_000
SEED = 14
Z99 = NormalDist().inv_cdf(0.99)  # 2.326...: the standard normal's 99th percentile


class Projected(BaseModel):
    """One traced saga's end to end on AWS, with one choice of wiring."""

    workflow: str  # e.g. "Step Functions Standard", "EventBridge"
    p50_ms: float
    p99_ms: float
    hops: dict[str, int]  # published hop (latency.HOPS name) -> times on the path
    handler_ms: float  # the measured handler times on the path, added as they are


def fit(p50_ms: float, p99_ms: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal whose median is p50_ms and 99th percentile p99_ms."""
    if not 0 < p50_ms <= p99_ms:
        raise ValueError(f"need 0 < p50 <= p99, got p50 {p50_ms}, p99 {p99_ms}")
    return math.log(p50_ms), math.log(p99_ms / p50_ms) / Z99


def delivered_by(trace: Trace) -> list[str]:
    """Per step run, in order, the wiring that handed it over: the state machine if one of its
    states ran that step, else the bus (every style's steps are one or the other)."""
    return [carrier(trace, span) for span in trace.handlers()]


def paths(trace: Trace) -> dict[str, Counter[str]]:
    """The published hops (latency.HOPS keys) on the trace's path on AWS, per wiring choice: a
    state machine is projected both as Standard and as Express; the bus has one kind."""
    wirings = delivered_by(trace)
    choices = [STANDARD, EXPRESS] if STEP_FUNCTIONS in wirings else [STANDARD]
    out = {}
    for state_machine in choices:
        hops = Counter({STREAM: 1})
        hops.update(state_machine if w == STEP_FUNCTIONS else EVENTBRIDGE for w in wirings)
        wiring = " + ".join(HOPS[h].name.split(" ->")[0] for h in hops if h != STREAM)
        out[wiring or "no step ran"] = hops
    return out


def sample(
    hops: Mapping[str, int],
    constant_ms: float,
    table: Mapping[str, Hop] = HOPS,
    samples: int = SAMPLES,
    seed: int = SEED,
) -> np.ndarray:
    """End-to-end draws: constant_ms plus, per hop on the path, an independent draw of its lognormal."""
    rng = np.random.default_rng(seed)
    total = np.full(samples, float(constant_ms))
    for key in sorted(hops):  # a fixed order: the same draws for the same path
        mu, sigma = fit(table[key].p50_ms, table[key].p99_ms)
        total += rng.lognormal(mu, sigma, size=(hops[key], samples)).sum(axis=0)
    return total


def percentiles(hops: Mapping[str, int], constant_ms: float, table: Mapping[str, Hop] = HOPS) -> tuple[float, float]:
    """p50 and p99 of the path's end to end (see sample)."""
    p50, p99 = np.percentile(sample(hops, constant_ms, table), [50, 99])
    return float(p50), float(p99)


def project(trace: Trace) -> list[Projected]:
    handler_ms = sum(s.ms for s in trace.handlers())
    out = []
    for workflow, hops in paths(trace).items():
        p50, p99 = percentiles(hops, handler_ms)
        out.append(
            Projected(
                workflow=workflow,
                p50_ms=p50,
                p99_ms=p99,
                hops={HOPS[k].name: n for k, n in hops.items()},
                handler_ms=handler_ms,
            )
        )
    return out
