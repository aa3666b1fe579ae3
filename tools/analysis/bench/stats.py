"""Percentiles and ratios, on plain lists (no numpy: the test sizes are a handful of values)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from tools.analysis.bench.model import Summary

# Figures compared between the styles, as (key in a cell, label); the ratio is choreography /
# orchestration of each.
FIGURES = (
    ("latency_p50_ms", "latency p50 (ms)"),
    ("latency_p95_ms", "latency p95 (ms)"),
    ("latency_p99_ms", "latency p99 (ms)"),
    ("throughput_per_s", "throughput (orders/s)"),
    ("handler_ms_per_saga", "handler time / saga (ms)"),
    ("overhead_per_hop_ms", "overhead / hand-off (ms)"),
    ("hop_p50_ms", "step hand-off p50 (ms)"),
    ("hop_p99_ms", "step hand-off p99 (ms)"),
    ("outbox_hop_p50_ms", "outbox hand-off p50 (ms)"),
    ("outbox_hop_p99_ms", "outbox hand-off p99 (ms)"),
    ("retries", "step retries (count)"),
    ("localstack_peak_mb", "LocalStack peak RSS (MiB)"),
    ("lambdas_peak_mb", "Lambda processes peak RSS (MiB)"),
    ("lambda_processes", "Lambda processes (peak)"),
    ("cpu_ms_per_order", "CPU / order, whole tree (ms)"),
)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> Summary:
    values = list(values)
    if not values:
        return Summary()
    return Summary(
        n=len(values),
        p50=_round(percentile(values, 50)),
        p95=_round(percentile(values, 95)),
        p99=_round(percentile(values, 99)),
        mean=_round(sum(values) / len(values)),
        min=_round(min(values)),
        max=_round(max(values)),
    )


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
