"""`make compare`'s third column, on recorded captures of the hybrid style: the Step Functions
history like orchestration's, plus the outcome event on the bus (the event tap) and the
notification service's run (its logs).

The hybrid fixtures were captured like the others (tests/unit/test_traces.py), from one run of
`python -m tools.analysis.compare --no-warmup --captures DIR` on LocalStack. The expectations
are written out by hand from what each scenario must do.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from tools.analysis.compare import capture, console, prices, report, stepfunctions, svg
from tools.analysis.compare.comparison import compare
from tools.analysis.compare.model import Capture, Trace
from tools.analysis.compare.traces import build

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"
SCENARIOS = ("happy", "out-of-stock", "declined", "undeliverable")
STYLES = ("orchestration", "choreography", "hybrid")
# Per scenario: the saga's steps, the end state and the outcome published there.
STEPS_RUN = {
    "happy": ["reserve_inventory", "charge_payment", "notify_shipping"],
    "out-of-stock": ["reserve_inventory"],
    "declined": ["reserve_inventory", "charge_payment", "release_inventory"],
    "undeliverable": ["reserve_inventory", "charge_payment", "notify_shipping", "refund_payment", "release_inventory"],
}
ENDS = {
    "happy": ("OrderCompleted", "OrderCompleted"),
    "out-of-stock": ("OutOfStock", "OrderFailed"),
    "declined": ("PaymentFailed", "OrderFailed"),
    "undeliverable": ("ShippingFailed", "OrderFailed"),
}
# Orchestration's hops (create_order -> stream -> start_saga -> Step Functions, then 2 per step),
# plus the hybrid's 2: the state machine -> the bus, the bus -> notify_customer.
HOPS = {"happy": 11, "out-of-stock": 7, "declined": 11, "undeliverable": 15}


def captured(style: str, scenario: str) -> Capture:
    return Capture.model_validate_json((FIXTURES / f"{style}-{scenario}.json").read_text())


@pytest.fixture(scope="module")
def traces() -> dict[tuple[str, str], Trace]:
    return {(style, name): build(captured(style, name)) for style in STYLES for name in SCENARIOS}


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_hybrid_fixture_is_a_complete_trace_of_its_scenario(traces, name):
    trace = traces[("hybrid", name)]
    assert trace.complete, trace.warnings
    assert (trace.style, trace.scenario) == ("hybrid", name)


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_saga_runs_orchestrations_states_then_publishes_at_its_end(traces, name):
    end, _ = ENDS[name]
    hybrid, orchestration = traces[("hybrid", name)], traces[("orchestration", name)]
    states = [s.step for s in hybrid.spans if s.kind == "state"]
    assert states == [*STEPS_RUN[name], f"Publish{end}", end]
    assert [s.step for s in orchestration.spans if s.kind == "state"] == [*STEPS_RUN[name], end]
    c, o = hybrid.counts, orchestration.counts
    # The publish is one more state transition and one hop; neither a step nor an invocation.
    assert (c.steps, c.compensations, c.retries) == (o.steps, o.compensations, 0)
    assert c.transitions == o.transitions + 1
    assert c.hops == HOPS[name] == o.hops + 2
    assert c.invocations == o.invocations + 1  # notify_customer


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_outcome_goes_on_the_bus_and_the_notification_service_records_it(traces, name):
    _, outcome = ENDS[name]
    trace = traces[("hybrid", name)]
    (event,) = [s for s in trace.spans if s.kind == "event"]
    assert (event.step, event.service, event.detail) == (outcome, "eventbridge", "from saga.orders")
    assert trace.counts.events == 1
    assert [s.step for s in trace.handlers()] == [*STEPS_RUN[name], "notify_customer"]
    notify = trace.handlers()[-1]
    assert (notify.service, notify.outcome) == ("notifications", "CustomerNotified")
    (publish,) = [s for s in trace.spans if s.kind == "state" and s.step.startswith("Publish")]
    assert publish.end <= notify.start  # it follows the saga; the saga never waits for it


def test_the_hybrid_reads_the_notification_service_logs_too():
    assert capture.log_groups("hybrid") == [
        "/aws/lambda/SagaHybrid-create-order",
        "/aws/lambda/SagaHybrid-start-saga",
        "/aws/lambda/SagaHybrid-reserve-inventory",
        "/aws/lambda/SagaHybrid-charge-payment",
        "/aws/lambda/SagaHybrid-notify-shipping",
        "/aws/lambda/SagaHybrid-refund-payment",
        "/aws/lambda/SagaHybrid-release-inventory",
        "/aws/lambda/SagaHybrid-notify-customer",
        "/aws/lambda/SagaHybrid-reconcile",
    ]
    assert stepfunctions.STEP_OF_FUNCTION["SagaHybrid-refund-payment"] == "refund_payment"


# --- what is missing yet -------------------------------------------------------------------------


def test_the_trace_waits_for_the_outcome_on_the_tap():
    cut = captured("hybrid", "happy").model_copy(update={"tap": []})
    trace = stepfunctions.build(cut)
    assert not trace.complete
    assert "the state machine published the outcome, but it is not on the event tap yet" in trace.warnings


def test_the_trace_waits_for_the_notification_service():
    whole = captured("hybrid", "declined")
    cut = whole.model_copy(update={"logs": [e for e in whole.logs if "notify_customer" not in e["message"]]})
    trace = stepfunctions.build(cut)
    assert not trace.complete and "OrderFailed on the bus, but no log of notify_customer" in trace.warnings


def _publish_retried(whole: Capture) -> Capture:
    """The happy history with the putEvents task failing once, then retried (as Retry does it)."""
    history = copy.deepcopy(whole.history)
    scheduled = next(i for i, e in enumerate(history) if e["type"] == "TaskScheduled")
    attempt = copy.deepcopy(history[scheduled : scheduled + 2])  # scheduled, started
    failed = {
        "timestamp": history[scheduled + 1]["timestamp"],
        "type": "TaskFailed",
        "taskFailedEventDetails": {"resourceType": "events", "resource": "putEvents", "error": "States.Timeout"},
    }
    history[scheduled:scheduled] = [*attempt, failed]
    for number, event in enumerate(history, 1):
        event["id"] = number
    return whole.model_copy(update={"history": history})


def test_a_retried_publish_is_a_retry_and_a_transition_but_no_invocation():
    whole = captured("hybrid", "happy")
    once, twice = stepfunctions.build(whole), stepfunctions.build(_publish_retried(whole))
    assert twice.counts.retries == 1 and twice.counts.transitions == once.counts.transitions + 1
    assert twice.counts.invocations == once.counts.invocations
    assert twice.counts.hops == once.counts.hops + 1  # one more call to the bus
    assert twice.complete  # no Lambda run is missing from the logs
    (publish,) = [s for s in twice.spans if s.step == "PublishOrderCompleted"]
    assert "2 attempts" in publish.detail


# --- three columns ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_three_styles_line_up_with_the_notification_on_a_row_of_its_own(traces, name):
    comparison = compare(name, {s: traces[(s, name)] for s in STYLES})
    assert comparison.agree is True and comparison.differences == []
    assert [row.step for row in comparison.rows] == ["start_saga", *STEPS_RUN[name], "notify_customer"]
    for row in comparison.rows[:-1]:
        assert all(cell is not None for cell in row.cells.values()), row.step
    last = comparison.rows[-1].cells
    assert (last["orchestration"], last["choreography"]) == (None, None)
    assert last["hybrid"] is not None and last["hybrid"].outcome == "CustomerNotified"


def test_records_of_three_styles_disagree_where_any_one_does(traces):
    hybrid = traces[("hybrid", "happy")]
    odd = hybrid.model_copy(update={"record": {**hybrid.record, "status": "INVENTORY_FAILED"}})
    comparison = compare("happy", {**{s: traces[(s, "happy")] for s in STYLES[:2]}, "hybrid": odd})
    assert comparison.agree is False and comparison.differences == ["status"]


def test_the_hybrid_pays_for_transitions_and_its_one_event(traces):
    cost = prices.per_million(traces[("hybrid", "happy")])
    assert cost.workflow == Decimal("126.00")  # 5 transitions x $25 per million + 1 event x $1
    assert cost.lambda_requests == Decimal("1.20")  # 6 invocations: + notify_customer
    assert cost.express is not None and cost.express > Decimal("1.00")  # the event, on top of Express


@pytest.fixture(scope="module")
def comparisons(traces):
    return [compare(name, {s: traces[(s, name)] for s in STYLES}) for name in SCENARIOS]


def test_the_console_shows_three_columns_uncropped(comparisons):
    out = Console(width=120, record=True, color_system=None)
    console.print_all(comparisons, out)
    text = out.export_text()
    assert "…" not in text, "a cropped cell at the width used when stdout is not a terminal"
    assert text.count("final records agree") == 4
    assert "Step Functions + EventBridge" in text and "CustomerNotified" in text
    assert "not run" not in text  # a step only one style ran shows dashes elsewhere


def test_the_report_draws_three_timelines_per_scenario(comparisons, tmp_path):
    page = report.write(comparisons, tmp_path / "compare.html").read_text()
    assert page.count("<svg") == 3 * len(comparisons)
    assert page.count('class="timeline hybrid"') == len(comparisons)
    assert ">notifications<" in page
    assert re.search(r"<h1>Order saga: orchestration vs choreography vs hybrid</h1>", page)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_hybrid_hop_is_drawn(traces, name):
    # create_order -> stream -> start_saga is one line (the stream has no lane), every other hop one.
    trace = traces[("hybrid", name)]
    assert svg.timeline(trace, trace.total_ms).count('class="hop"') == HOPS[name] - 1


def test_a_hybrid_capture_round_trips_as_json():
    whole = captured("hybrid", "undeliverable")
    assert Capture.model_validate(json.loads(whole.model_dump_json())) == whole


def test_the_relay_stays_first_when_the_first_step_beats_its_log_line(traces):
    # start_saga logs once PutEvents has returned; on a fast bus reserve_inventory may start first.
    trace = traces[("choreography", "happy")]
    after_first = trace.handlers()[0].start + timedelta(milliseconds=1)
    moved = {"start": after_first, "end": after_first}
    late = [s.model_copy(update=moved) if s.kind == "relay" else s for s in trace.spans]
    raced = trace.model_copy(update={"spans": late})
    comparison = compare("happy", {"orchestration": traces[("orchestration", "happy")], "choreography": raced})
    assert [row.step for row in comparison.rows] == ["start_saga", *STEPS_RUN["happy"]]
    assert comparison.rows[1].cells["choreography"].handoff_ms == 0  # it started before the relay's line
