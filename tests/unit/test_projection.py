"""The cloud projection: the lognormal fit, the sampled sum, and each recorded trace's path on AWS.

Known cases, worked out by hand: a lognormal fitted to (p50, p99) gives them back; one hop alone
projects to its published percentiles; a constant shifts both percentiles by itself; hops without
spread add up exactly; independent skewed hops put the sum's median above the sum of medians
(right skew) and its p99 below the sum of p99s (tails rarely coincide).
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from tools.analysis.compare import latency
from tools.analysis.compare.latency import EVENTBRIDGE, EXPRESS, HOPS, STANDARD, STREAM, Hop
from tools.analysis.compare.model import Capture, Span
from tools.analysis.compare.projection import Z99, fit, paths, percentiles, project, sample
from tools.analysis.compare.traces import build

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"


def traced(style: str, scenario: str):
    return build(Capture.model_validate_json((FIXTURES / f"{style}-{scenario}.json").read_text()))


def hop(p50: float, p99: float) -> Hop:
    return Hop(name=f"test {p50}/{p99}", p50_ms=p50, p99_ms=p99, measured="-", stands_for="-")


# --- the maths ---------------------------------------------------------------------------------


def test_the_fit_gives_back_the_published_percentiles():
    mu, sigma = fit(99.1, 250)
    assert math.exp(mu) == pytest.approx(99.1)
    assert math.exp(mu + Z99 * sigma) == pytest.approx(250)
    assert round(Z99, 4) == 2.3263


def test_the_fit_refuses_quantiles_out_of_order():
    for p50, p99 in ((250, 99), (0, 10), (-1, 10)):
        with pytest.raises(ValueError):
            fit(p50, p99)


@pytest.mark.parametrize("key", list(HOPS))
def test_one_hop_alone_projects_to_its_published_percentiles(key):
    p50, p99 = percentiles({key: 1}, 0)
    assert p50 == pytest.approx(HOPS[key].p50_ms, rel=0.01)
    assert p99 == pytest.approx(HOPS[key].p99_ms, rel=0.03)


def test_a_constant_shifts_both_percentiles_by_itself():
    path = {STREAM: 1, EVENTBRIDGE: 3}
    base, shifted = percentiles(path, 0), percentiles(path, 250)
    assert shifted[0] - base[0] == pytest.approx(250)
    assert shifted[1] - base[1] == pytest.approx(250)


def test_hops_without_spread_add_up_exactly():
    table = {"fixed": hop(40, 40)}
    assert percentiles({"fixed": 3}, 10, table) == pytest.approx((130, 130))


def test_independent_skewed_hops_median_above_sum_of_medians_p99_below_sum_of_p99s():
    table = {"x": hop(100, 400)}
    p50, p99 = percentiles({"x": 4}, 0, table)
    mu, sigma = fit(100, 400)
    mean = math.exp(mu + sigma**2 / 2)
    assert 4 * 100 < p50 < 4 * mean
    # Perfectly correlated hops would give 4 × 400 = 1,600; independent ones, about 960.
    assert 400 < p99 < 0.75 * 4 * 400


def test_the_sampled_mean_is_the_lognormal_mean():
    table = {"x": hop(148, 387)}
    mu, sigma = fit(148, 387)
    draws = sample({"x": 5}, 0, table)
    assert draws.mean() == pytest.approx(5 * math.exp(mu + sigma**2 / 2), rel=0.01)


def test_the_projection_is_seeded():
    trace = traced("choreography", "happy")
    assert project(trace) == project(trace)


# --- each trace's path -------------------------------------------------------------------------

# Per scenario, the step runs after start_saga (each one hand-off), the same in both styles.
STEP_RUNS = {"happy": 3, "out-of-stock": 1, "declined": 3, "undeliverable": 5}


@pytest.mark.parametrize("scenario", list(STEP_RUNS))
def test_orchestration_is_projected_on_standard_and_express(scenario):
    runs = STEP_RUNS[scenario]
    assert paths(traced("orchestration", scenario)) == {
        "Step Functions Standard": Counter({STREAM: 1, STANDARD: runs}),
        "Step Functions Express": Counter({STREAM: 1, EXPRESS: runs}),
    }


@pytest.mark.parametrize("scenario", list(STEP_RUNS))
def test_choreography_is_projected_on_the_bus(scenario):
    assert paths(traced("choreography", scenario)) == {
        "EventBridge": Counter({STREAM: 1, EVENTBRIDGE: STEP_RUNS[scenario]}),
    }


def test_a_step_no_state_ran_is_handed_over_by_the_bus():
    # Orchestration for the order, then a service reacting to the outcome on a bus (any style
    # whose trace has both).
    trace = traced("orchestration", "happy")
    end = trace.end
    notify = Span(kind="handler", step="notify_customer", service="notifications", start=end, end=end, outcome="ok")
    mixed = trace.model_copy(update={"spans": [*trace.spans, notify]})
    assert paths(mixed) == {
        "Step Functions Standard + EventBridge": Counter({STREAM: 1, STANDARD: 3, EVENTBRIDGE: 1}),
        "Step Functions Express + EventBridge": Counter({STREAM: 1, EXPRESS: 3, EVENTBRIDGE: 1}),
    }


def test_the_measured_handler_times_are_kept():
    trace = traced("orchestration", "undeliverable")
    handler_ms = sum(s.ms for s in trace.handlers())
    assert handler_ms > 0
    for projected in project(trace):
        assert projected.handler_ms == pytest.approx(handler_ms)
        assert sum(projected.hops.values()) == 1 + 5  # the stream, then the five step runs
        # Right skew: the median of the sum is above the sum of the hops' medians.
        medians = sum(n * next(h.p50_ms for h in HOPS.values() if h.name == name) for name, n in projected.hops.items())
        assert handler_ms + medians < projected.p50_ms < projected.p99_ms


def test_express_hands_over_faster_than_standard():
    standard, express = project(traced("orchestration", "happy"))
    assert (standard.workflow, express.workflow) == ("Step Functions Standard", "Step Functions Express")
    assert express.p50_ms < standard.p50_ms and express.p99_ms < standard.p99_ms


def test_every_figure_has_its_source_and_date():
    assert latency.LATENCY_SOURCE and latency.LATENCY_RECORDED
    for key, figures in HOPS.items():
        assert 0 < figures.p50_ms < figures.p99_ms, key
        assert figures.measured[:4].isdigit(), key
        assert figures.stands_for, key
    assert [row[0] for row in latency.LATENCY_TABLE] == [h.name for h in HOPS.values()]
