"""Trace builders, comparison, cost and rendering of `make compare`, on recorded captures.

The fixtures in tests/fixtures/traces/ were captured from real runs on LocalStack
(`python -m tools.compare --no-warmup --captures DIR`, then renamed <style>-<scenario>.json): the
Step Functions history, the event tap and the Lambda log events (create_order, start_saga, the
steps) of one order per style and scenario, in the formats AWS returns them. The expectations
below are written out by hand from what each scenario must do, not derived from the code.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from tools.compare import capture, console, eventbus, lambda_logs, prices, report, stepfunctions
from tools.compare.__main__ import arguments, pair
from tools.compare.comparison import align, compare
from tools.compare.model import Capture, Trace
from tools.compare.records import differences, same_outcome
from tools.compare.traces import build, scenario_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"
SCENARIOS = ("happy", "out-of-stock", "declined", "undeliverable")
STYLES = ("orchestration", "choreography")


def captured(style: str, scenario: str) -> Capture:
    return Capture.model_validate_json((FIXTURES / f"{style}-{scenario}.json").read_text())


@pytest.fixture(scope="module")
def traces() -> dict[tuple[str, str], Trace]:
    return {(style, name): build(captured(style, name)) for style in STYLES for name in SCENARIOS}


def test_every_fixture_is_a_complete_trace_of_its_scenario(traces):
    for (style, name), trace in traces.items():
        assert trace.complete, (style, name, trace.warnings)
        assert trace.scenario == name
        assert trace.style == style


# --- the Lambdas' logs -----------------------------------------------------------------------


def test_handler_spans_pair_started_and_done_by_request_id():
    capture = captured("choreography", "declined")
    spans = lambda_logs.handler_spans(capture.order_id, capture.logs)
    assert [(s.kind, s.step) for s in spans] == [
        ("request", "create_order"),
        ("handler", "reserve_inventory"),
        ("handler", "charge_payment"),
        ("handler", "release_inventory"),
    ]
    assert [s.outcome for s in spans[1:]] == ["InventoryReserved", "PaymentFailed", "InventoryReleased"]
    assert [s.service for s in spans[1:]] == ["inventory", "payment", "inventory"]
    assert all(s.end >= s.start for s in spans)


def test_log_lines_of_other_orders_are_ignored():
    # LocalStack ignores filter patterns: the builders must not mix orders up.
    capture = captured("orchestration", "happy")
    other = captured("orchestration", "declined")
    spans = lambda_logs.handler_spans(capture.order_id, capture.logs + other.logs)
    assert [s.step for s in spans if s.kind == "handler"] == ["reserve_inventory", "charge_payment", "notify_shipping"]


def test_a_step_that_never_logs_done_is_an_error_span():
    capture = captured("choreography", "happy")
    logs = [e for e in capture.logs if not ('"step done"' in e["message"] and "charge_payment" in e["message"])]
    spans = lambda_logs.handler_spans(capture.order_id, logs)
    (charge,) = [s for s in spans if s.step == "charge_payment"]
    assert charge.outcome == "error" and charge.ms == 0


def test_powertools_timestamps_are_parsed_with_milliseconds():
    at = lambda_logs.parse_time("2026-11-27 03:23:19,201+0000")
    assert at.microsecond == 201000 and at.utcoffset() == timedelta(0)


# --- orchestration: the execution history ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "states", "transitions", "steps", "hops"),
    [
        ("happy", ["reserve_inventory", "charge_payment", "notify_shipping", "OrderCompleted"], 4, 3, 7),
        ("out-of-stock", ["reserve_inventory", "OutOfStock"], 2, 1, 3),
        ("declined", ["reserve_inventory", "charge_payment", "release_inventory", "PaymentFailed"], 4, 3, 7),
    ],
)
def test_orchestration_states_and_counts(traces, name, states, transitions, steps, hops):
    trace = traces[("orchestration", name)]
    assert [s.step for s in trace.spans if s.kind == "state"] == states
    c = trace.counts
    assert (c.transitions, c.steps, c.hops, c.events, c.retries) == (transitions, steps, hops, 0, 0)
    assert c.invocations == steps + 1  # the steps and create_order


def test_orchestration_compensation_and_caught_error(traces):
    trace = traces[("orchestration", "declined")]
    assert trace.counts.compensations == 1
    charge = next(s for s in trace.spans if s.kind == "state" and s.step == "charge_payment")
    assert charge.outcome == "PaymentDeclinedError"
    assert trace.compensated() == ["release_inventory"]


def test_orchestration_handlers_run_inside_their_states(traces):
    trace = traces[("orchestration", "happy")]
    states = {s.step: s for s in trace.spans if s.kind == "state"}
    for handler in trace.handlers():
        state = states[handler.step]
        assert state.start <= handler.start <= handler.end <= state.end, handler.step


def _with_retry(capture: Capture) -> Capture:
    """The happy history with one failed attempt of ChargePayment retried (as Retry does it)."""
    history = copy.deepcopy(capture.history)
    scheduled = next(i for i, e in enumerate(history) if e["type"] == "LambdaFunctionScheduled"
                     and "charge-payment" in json.dumps(e))  # fmt: skip
    attempt = copy.deepcopy(history[scheduled : scheduled + 2])  # scheduled, started
    failed = {**copy.deepcopy(history[scheduled + 1]), "type": "LambdaFunctionFailed",
              "lambdaFunctionFailedEventDetails": {"error": "Lambda.ServiceException", "cause": "injected"}}  # fmt: skip
    history[scheduled:scheduled] = [*attempt, failed]
    for number, event in enumerate(history, 1):
        event["id"] = number
    return capture.model_copy(update={"history": history})


def test_orchestration_retry_is_counted_and_billed():
    trace = stepfunctions.build(_with_retry(captured("orchestration", "happy")), "happy")
    assert trace.counts.retries == 1
    assert trace.counts.transitions == 5  # 4 states entered + 1 retry
    assert trace.counts.invocations == 5
    charge = next(s for s in trace.spans if s.kind == "state" and s.step == "charge_payment")
    assert "2 attempts" in charge.detail
    # The history shows one more Lambda run than the logs: the trace says it is not complete.
    assert not trace.complete


def test_orchestration_without_an_end_is_incomplete():
    capture = captured("orchestration", "happy")
    cut = capture.model_copy(update={"history": [e for e in capture.history if e["type"] != "ExecutionSucceeded"]})
    trace = stepfunctions.build(cut)
    assert not trace.complete and "the execution has not ended" in trace.warnings


def test_state_names_become_step_names():
    assert stepfunctions.step_of_state("ReserveInventory") == "reserve_inventory"
    assert stepfunctions.step_of_state("OrderCompleted") == "order_completed"


# --- choreography: the event tap ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "events"),
    [
        ("happy", ["OrderCreated", "InventoryReserved", "PaymentCharged", "ShippingScheduled"]),
        ("out-of-stock", ["OrderCreated", "InventoryFailed"]),
        ("declined", ["OrderCreated", "InventoryReserved", "PaymentFailed", "InventoryReleased"]),
    ],
)
def test_choreography_events_on_the_bus(traces, name, events):
    trace = traces[("choreography", name)]
    assert [s.step for s in trace.spans if s.kind == "event"] == events
    c = trace.counts
    assert (c.events, c.transitions, c.retries) == (len(events), 0, 0)
    assert c.steps == len(events) - 1  # every event but OrderCreated is a step's outcome
    assert c.hops == len(events) + c.steps  # onto the bus, then to each subscriber
    assert c.compensations == (name == "declined")


def test_each_event_is_published_after_its_step_started(traces):
    trace = traces[("choreography", "happy")]
    handlers = {s.outcome: s for s in trace.handlers()}
    for event in (s for s in trace.spans if s.kind == "event" and s.step != "OrderCreated"):
        assert handlers[event.step].start <= event.start, event.step


def test_choreography_waits_for_the_terminal_event():
    capture = captured("choreography", "happy")
    cut = capture.model_copy(update={"tap": [e for e in capture.tap if "ShippingScheduled" not in e["message"]]})
    trace = eventbus.build(cut)
    assert not trace.complete and "ShippingScheduled not on the event tap yet" in trace.warnings


def test_choreography_duplicate_delivery_is_a_retry():
    capture = captured("choreography", "happy")
    run = [e for e in capture.logs if "notify_shipping" in e["message"]]
    later = [{**e, "message": _shift(e["message"], seconds=1)} for e in run]
    trace = eventbus.build(capture.model_copy(update={"logs": capture.logs + later}))
    assert trace.counts.retries == 1 and trace.counts.steps == 3 and trace.counts.invocations == 5


def _shift(message: str, seconds: int) -> str:
    record = json.loads(message)
    at = lambda_logs.parse_time(record["timestamp"]) + timedelta(seconds=seconds)
    record["timestamp"] = at.strftime("%Y-%m-%d %H:%M:%S,") + f"{at.microsecond // 1000:03d}+0000"
    return json.dumps(record)


def test_terminal_event_names():
    assert eventbus.terminal_event("SHIPPING_SCHEDULED") == "ShippingScheduled"
    assert eventbus.terminal_event("INVENTORY_RELEASED") == "InventoryReleased"


# --- comparison ---------------------------------------------------------------------------------


def test_align_lines_up_equal_steps_and_leaves_gaps():
    assert align(["a", "b", "c"], ["a", "c"]) == [(0, 0), (1, None), (2, 1)]
    assert align(["a"], ["a", "x"]) == [(0, 0), (None, 1)]


@pytest.mark.parametrize("name", SCENARIOS)
def test_both_styles_run_the_same_steps_and_agree(traces, name):
    comparison = compare(name, {s: traces[(s, name)] for s in STYLES})
    assert comparison.agree is True and comparison.differences == []
    for row in comparison.rows:
        assert all(cell is not None for cell in row.cells.values()), row.step
        assert len({cell.outcome for cell in row.cells.values()}) == 1, row.step


def test_compensation_is_reported_where_it_ran(traces):
    comparison = compare("declined", {s: traces[(s, "declined")] for s in STYLES})
    for summary in comparison.summaries.values():
        assert summary.compensation == "release_inventory after PaymentFailed"
    happy = compare("happy", {s: traces[(s, "happy")] for s in STYLES})
    assert all(s.compensation == "" for s in happy.summaries.values())


def test_handoff_and_handler_times_add_up_to_the_saga(traces):
    comparison = compare("happy", {s: traces[(s, "happy")] for s in STYLES})
    for style in STYLES:
        cells = [row.cells[style] for row in comparison.rows]
        assert all(c.handoff_ms >= 0 and c.handler_ms > 0 for c in cells)
        assert sum(c.handoff_ms + c.handler_ms for c in cells) <= comparison.summaries[style].total_ms + 1


def test_records_differ_only_on_real_fields():
    a = {"orderId": "1", "status": "SHIPPING_SCHEDULED", "trackingNumber": "TRK-1", "amount": 1}
    b = {"orderId": "2", "status": "SHIPPING_SCHEDULED", "trackingNumber": "TRK-2", "amount": 1}
    assert same_outcome(a, b)
    assert differences(a, {**b, "status": "INVENTORY_FAILED"}) == ["status"]
    assert differences(a, {k: v for k, v in b.items() if k != "trackingNumber"}) == ["trackingNumber"]


def test_given_orders_are_paired_by_their_scenario(traces):
    mixed = [traces[("choreography", "declined")], traces[("orchestration", "happy")],
             traces[("orchestration", "declined")], traces[("choreography", "happy")]]  # fmt: skip
    comparisons = pair(mixed)
    assert [c.scenario for c in comparisons] == ["happy", "declined"]
    assert all(set(c.traces) == set(STYLES) for c in comparisons)
    (alone,) = pair([traces[("choreography", "out-of-stock")]])
    assert alone.agree is None and list(alone.summaries) == ["choreography"]


def test_scenario_is_inferred_from_the_record():
    assert scenario_of({"status": "INVENTORY_RELEASED", "failureReason": "card declined"}) == "declined"
    assert scenario_of({"status": "PAYMENT_CHARGED"}) == ""


# --- cost ---------------------------------------------------------------------------------------


def test_cost_per_million_orders_from_the_counts(traces):
    orchestration = prices.per_million(traces[("orchestration", "happy")])
    choreography = prices.per_million(traces[("choreography", "happy")])
    assert orchestration.workflow == Decimal("100.00")  # 4 transitions x $25 per million
    assert choreography.workflow == Decimal("4.00")  # 4 events x $1 per million
    assert orchestration.lambda_requests == choreography.lambda_requests == Decimal("0.80")  # 4 x $0.20
    assert choreography.express is None and orchestration.express is not None


def test_express_bills_requests_and_duration_in_100_ms_steps():
    one_step = prices.express_per_execution(1)
    assert one_step == prices.express_per_execution(100)
    assert one_step == Decimal("0.000001") + Decimal(64) / 1024 * Decimal("0.1") * Decimal("0.00001667")
    assert prices.express_per_execution(101) > one_step


# --- rendering ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def comparisons(traces):
    return [compare(name, {s: traces[(s, name)] for s in STYLES}) for name in SCENARIOS]


def test_html_report_is_self_contained_with_both_timelines(comparisons, tmp_path):
    page = report.write(comparisons, tmp_path / "compare.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "the report must open offline"
    assert "<script" not in page
    for comparison in comparisons:
        assert f'<section id="{comparison.scenario}">' in page
        for style, trace in comparison.traces.items():
            assert f'class="timeline {style}"' in page
            assert trace.order_id in page
    assert page.count("<svg") == 2 * len(comparisons)
    assert ">eventbridge<" in page and ">step-functions<" in page
    assert prices.PRICES_RECORDED in page


def test_console_tables_show_steps_counts_and_verdict(comparisons):
    out = Console(width=140, record=True, color_system=None)
    console.print_all(comparisons, out)
    text = out.export_text()
    for step in ("reserve_inventory", "charge_payment", "notify_shipping", "release_inventory"):
        assert step in text
    assert text.count("final records agree") == 3
    assert "Step Functions $100.00" in text and "EventBridge $4.00" in text
    assert "release_inventory after PaymentFailed" in text


def test_json_output_round_trips(comparisons):
    from pydantic import TypeAdapter

    from tools.compare.comparison import Comparison

    adapter = TypeAdapter(list[Comparison])
    again = adapter.validate_json(adapter.dump_json(comparisons))
    assert again[0].traces["orchestration"].counts == comparisons[0].traces["orchestration"].counts
    assert isinstance(again[0].traces["choreography"].spans[0].start, datetime)


def test_orders_argument_is_style_and_id():
    args = arguments(["--orders", "orchestration:abc", "choreography:def"])
    assert args.orders == [("orchestration", "abc"), ("choreography", "def")]
    with pytest.raises(SystemExit):
        arguments(["--orders", "sideways:abc"])
