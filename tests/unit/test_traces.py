"""Trace builders, comparison, cost and rendering of `make compare`, on recorded captures.

The fixtures in tests/fixtures/traces/ were captured from real runs on LocalStack
(`python -m tools.analysis.compare --no-warmup --captures DIR`, then renamed <style>-<scenario>.json): the
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

from tools.analysis.compare import capture, console, eventbus, lambda_logs, prices, report, stepfunctions, svg
from tools.analysis.compare.__main__ import arguments, pair
from tools.analysis.compare.comparison import align, compare
from tools.analysis.compare.model import Capture, Trace
from tools.analysis.compare.records import differences, same_outcome
from tools.analysis.compare.traces import build, scenario_of

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
        ("relay", "start_saga"),
        ("handler", "reserve_inventory"),
        ("handler", "charge_payment"),
        ("handler", "release_inventory"),
    ]
    assert [s.outcome for s in spans[2:]] == ["InventoryReserved", "PaymentFailed", "InventoryReleased"]
    assert [s.service for s in spans] == ["orders", "orders", "inventory", "payment", "inventory"]
    assert all(s.end >= s.start for s in spans)


def test_undeliverable_runs_two_compensations_after_the_three_steps():
    capture = captured("orchestration", "undeliverable")
    spans = lambda_logs.handler_spans(capture.order_id, capture.logs)
    assert [(s.step, s.outcome) for s in spans if s.kind == "handler"] == [
        ("reserve_inventory", "InventoryReserved"),
        ("charge_payment", "PaymentCharged"),
        ("notify_shipping", "ShippingFailed"),
        ("refund_payment", "PaymentRefunded"),
        ("release_inventory", "InventoryReleased"),
    ]
    assert [s.service for s in spans if s.kind == "handler"] == [
        "inventory",
        "payment",
        "shipping",
        "payment",
        "inventory",
    ]


def test_start_saga_is_one_mark_between_the_stored_order_and_the_first_step():
    for style in STYLES:
        capture = captured(style, "happy")
        spans = lambda_logs.handler_spans(capture.order_id, capture.logs)
        request, relay, first = spans[0], spans[1], spans[2]
        assert (request.kind, relay.kind, first.kind) == ("request", "relay", "handler"), style
        assert relay.step == "start_saga" and relay.service == "orders" and relay.ms == 0, style
        assert request.end <= relay.start <= first.start, style


def test_log_lines_of_other_orders_are_ignored():
    # LocalStack ignores filter patterns: the builders must not mix orders up.
    capture = captured("orchestration", "happy")
    other = captured("orchestration", "declined")
    spans = lambda_logs.handler_spans(capture.order_id, capture.logs + other.logs)
    assert [s.step for s in spans if s.kind == "handler"] == ["reserve_inventory", "charge_payment", "notify_shipping"]
    assert [s.kind for s in spans].count("relay") == 1 and [s.kind for s in spans].count("request") == 1


def test_a_step_that_never_logs_done_is_an_error_span():
    capture = captured("choreography", "happy")
    logs = [e for e in capture.logs if not ('"step done"' in e["message"] and "charge_payment" in e["message"])]
    spans = lambda_logs.handler_spans(capture.order_id, logs)
    (charge,) = [s for s in spans if s.step == "charge_payment"]
    assert charge.outcome == "error" and charge.ms == 0


def _line(capture: Capture, message: str, **fields) -> dict:
    """A log event like the fixture's last one, saying `message` with `fields`, a second later."""
    last = json.loads(capture.logs[-1]["message"])
    at = lambda_logs.parse_time(last["timestamp"]) + timedelta(seconds=1)
    record = {**last, "message": message, "timestamp": _powertools(at), **fields}
    return {"timestamp": capture.logs[-1]["timestamp"] + 1000, "message": json.dumps(record)}


def test_a_skipped_step_closes_its_run():
    # Choreography's late delivery to a finished order: "step skipped", nothing published.
    capture = captured("choreography", "happy")
    started = _line(capture, "step started", step="notify_shipping", service="shipping", function_request_id="late")
    skipped = _line(
        capture,
        "step skipped",
        step="notify_shipping",
        service="shipping",
        function_request_id="late",
        reason="order shipped",
    )
    spans = lambda_logs.handler_spans(capture.order_id, [*capture.logs, started, skipped])
    late = [s for s in spans if s.step == "notify_shipping"][-1]
    assert (late.outcome, late.detail) == ("skipped", "order shipped")


def test_the_reconciler_acting_is_a_recovery_span_not_a_step():
    capture = captured("choreography", "happy")
    recovered = _line(
        capture,
        "order recovered",
        service="reconciler",
        orderId=capture.order_id,
        status="PAYMENT_CHARGED",
        action="republish",
        detail="PaymentCharged",
    )
    trace = eventbus.build(capture.model_copy(update={"logs": [*capture.logs, recovered]}))
    (span,) = [s for s in trace.spans if s.kind == "recovery"]
    assert span.step == "reconcile" and "PAYMENT_CHARGED republish" in span.detail
    assert trace.counts == build(capture).counts  # not a step, not a hop of this saga
    text = _console_text([compare("happy", {"choreography": trace})])
    assert "the reconciler acted on the order: PAYMENT_CHARGED republish: PaymentCharged" in text


def test_powertools_timestamps_are_parsed_with_milliseconds():
    at = lambda_logs.parse_time("2026-11-27 03:23:19,201+0000")
    assert at.microsecond == 201000 and at.utcoffset() == timedelta(0)


def test_log_groups_are_those_of_create_order_start_saga_the_steps_and_the_reconciler():
    assert capture.log_groups("choreography") == [
        "/aws/lambda/SagaChoreography-create-order",
        "/aws/lambda/SagaChoreography-start-saga",
        "/aws/lambda/SagaChoreography-reserve-inventory",
        "/aws/lambda/SagaChoreography-charge-payment",
        "/aws/lambda/SagaChoreography-notify-shipping",
        "/aws/lambda/SagaChoreography-refund-payment",
        "/aws/lambda/SagaChoreography-release-inventory",
        "/aws/lambda/SagaChoreography-reconcile",
    ]
    for style in STYLES:  # every function in the fixtures logs to the group of its name
        for event in captured(style, "undeliverable").logs:
            function = json.loads(event["message"])["function_name"]
            assert f"/aws/lambda/{function}" in capture.log_groups(style)


# --- every scenario, both styles: hand-written expectations -------------------------------------

# Per scenario: the saga steps run, the compensation summary, the final status.
STEPS_RUN = {
    "happy": ["reserve_inventory", "charge_payment", "notify_shipping"],
    "out-of-stock": ["reserve_inventory"],
    "declined": ["reserve_inventory", "charge_payment", "release_inventory"],
    "undeliverable": ["reserve_inventory", "charge_payment", "notify_shipping", "refund_payment", "release_inventory"],
}
COMPENSATION = {
    "happy": "",
    "out-of-stock": "",
    "declined": "release_inventory after PaymentFailed",
    "undeliverable": "refund_payment, release_inventory after ShippingFailed",
}
# Hops of every scenario, the same in both styles: create_order -> the orders table's stream ->
# start_saga -> Step Functions (or OrderCreated onto the bus), then 2 per step (orchestration:
# Step Functions -> Lambda -> Step Functions; choreography: bus -> the step, its outcome -> bus).
HOPS = {"happy": 9, "out-of-stock": 5, "declined": 9, "undeliverable": 13}


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_trace_starts_with_the_stored_order_and_start_saga(traces, name):
    for style in STYLES:
        trace = traces[(style, name)]
        assert [s.step for s in trace.handlers()] == STEPS_RUN[name], style
        assert [s.step for s in trace.relays()] == ["start_saga"], style
        (request,) = [s for s in trace.spans if s.kind == "request"]
        assert request.step == "create_order" and request.start == trace.start, style
        assert request.end <= trace.relays()[0].start <= trace.handlers()[0].start, style
        c = trace.counts
        assert c.hops == HOPS[name], style
        assert c.invocations == len(STEPS_RUN[name]) + 2, style  # the steps, create_order, start_saga
        assert c.compensations == {"happy": 0, "out-of-stock": 0, "declined": 1, "undeliverable": 2}[name]


# --- orchestration: the execution history ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "states", "transitions", "steps"),
    [
        ("happy", ["reserve_inventory", "charge_payment", "notify_shipping", "OrderCompleted"], 4, 3),
        ("out-of-stock", ["reserve_inventory", "OutOfStock"], 2, 1),
        ("declined", ["reserve_inventory", "charge_payment", "release_inventory", "PaymentFailed"], 4, 3),
        (
            "undeliverable",
            [
                "reserve_inventory",
                "charge_payment",
                "notify_shipping",
                "refund_payment",
                "release_inventory",
                "ShippingFailed",
            ],
            6,
            5,
        ),
    ],
)
def test_orchestration_states_and_counts(traces, name, states, transitions, steps):
    trace = traces[("orchestration", name)]
    assert [s.step for s in trace.spans if s.kind == "state"] == states
    c = trace.counts
    assert (c.transitions, c.steps, c.events, c.retries) == (transitions, steps, 0, 0)


def test_orchestration_compensation_and_caught_error(traces):
    trace = traces[("orchestration", "declined")]
    assert trace.counts.compensations == 1
    charge = next(s for s in trace.spans if s.kind == "state" and s.step == "charge_payment")
    assert charge.outcome == "PaymentDeclinedError"
    assert trace.compensated() == ["release_inventory"]


def test_orchestration_refunds_then_releases_after_shipping_refuses(traces):
    trace = traces[("orchestration", "undeliverable")]
    states = [s for s in trace.spans if s.kind == "state"]
    notify = next(s for s in states if s.step == "notify_shipping")
    assert notify.outcome == "ShippingRefusedError"
    # The states name the path; their steps are the functions they ran.
    assert [(s.detail, s.step) for s in states[3:5]] == [
        ("RefundPayment", "refund_payment"),
        ("ReleaseAfterRefund", "release_inventory"),
    ]
    assert trace.compensated() == ["refund_payment", "release_inventory"]
    # The end state names the path; a consistent end is a Succeed state.
    assert (states[-1].step, states[-1].outcome) == ("ShippingFailed", "succeed")


def test_a_task_state_is_named_by_the_function_it_invoked():
    arn = "arn:aws:lambda:us-east-1:000000000000:function:SagaOrchestration-release-inventory"
    assert (
        stepfunctions.step_of_scheduled({"lambdaFunctionScheduledEventDetails": {"resource": arn}})
        == "release_inventory"
    )
    sdk = {
        "taskScheduledEventDetails": {
            "resource": "invoke",
            "parameters": json.dumps({"FunctionName": f"{arn}:$LATEST"}),
        }
    }
    assert stepfunctions.step_of_scheduled(sdk) == "release_inventory"
    other = arn.replace("SagaOrchestration", "SomeoneElse")
    assert stepfunctions.step_of_scheduled({"lambdaFunctionScheduledEventDetails": {"resource": other}}) is None


def test_orchestration_handlers_run_inside_their_states(traces):
    for name in ("happy", "undeliverable"):
        trace = traces[("orchestration", name)]
        states = [s for s in trace.spans if s.kind == "state"]
        for handler in trace.handlers():
            assert any(s.step == handler.step and s.start <= handler.start <= handler.end <= s.end for s in states), (
                name,
                handler.step,
            )


def test_orchestration_starts_after_start_saga_is_invoked(traces):
    trace = traces[("orchestration", "happy")]
    first_state = min(s.start for s in trace.spans if s.kind == "state")
    (request,) = [s for s in trace.spans if s.kind == "request"]
    assert request.end <= first_state


def _with_retry(capture: Capture) -> Capture:
    """The happy history with one failed attempt of ChargePayment retried (as Retry does it)."""
    history = copy.deepcopy(capture.history)
    scheduled = next(
        i for i, e in enumerate(history) if e["type"] == "LambdaFunctionScheduled" and "charge-payment" in json.dumps(e)
    )
    attempt = copy.deepcopy(history[scheduled : scheduled + 2])  # scheduled, started
    failed = {
        **copy.deepcopy(history[scheduled + 1]),
        "type": "LambdaFunctionFailed",
        "lambdaFunctionFailedEventDetails": {"error": "Lambda.ServiceException", "cause": "injected"},
    }
    history[scheduled:scheduled] = [*attempt, failed]
    for number, event in enumerate(history, 1):
        event["id"] = number
    return capture.model_copy(update={"history": history})


def test_orchestration_retry_is_counted_and_billed():
    trace = stepfunctions.build(_with_retry(captured("orchestration", "happy")), "happy")
    assert trace.counts.retries == 1
    assert trace.counts.transitions == 5  # 4 states entered + 1 retry
    assert trace.counts.invocations == 6  # 4 step attempts, create_order, start_saga
    assert trace.counts.hops == 11  # 2 more: to the retried attempt and its failure back
    charge = next(s for s in trace.spans if s.kind == "state" and s.step == "charge_payment")
    assert "2 attempts" in charge.detail
    # The history shows one more Lambda run than the logs: the trace says it is not complete.
    assert not trace.complete


def test_orchestration_without_an_end_is_incomplete():
    capture = captured("orchestration", "happy")
    cut = capture.model_copy(update={"history": [e for e in capture.history if e["type"] != "ExecutionSucceeded"]})
    trace = stepfunctions.build(cut)
    assert not trace.complete and "the execution has not ended" in trace.warnings


@pytest.mark.parametrize("style", STYLES)
def test_a_trace_without_start_saga_is_incomplete(style):
    capture = captured(style, "happy")
    cut = capture.model_copy(update={"logs": [e for e in capture.logs if '"saga started"' not in e["message"]]})
    trace = build(cut)
    assert not trace.complete and "no 'saga started' log line of start_saga" in trace.warnings
    assert trace.counts.hops == HOPS["happy"] - 1  # the stream -> start_saga hop is not seen


# --- choreography: the event tap ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "events"),
    [
        ("happy", ["OrderCreated", "InventoryReserved", "PaymentCharged", "ShippingScheduled"]),
        ("out-of-stock", ["OrderCreated", "InventoryFailed"]),
        ("declined", ["OrderCreated", "InventoryReserved", "PaymentFailed", "InventoryReleased"]),
        (
            "undeliverable",
            [
                "OrderCreated",
                "InventoryReserved",
                "PaymentCharged",
                "ShippingFailed",
                "PaymentRefunded",
                "InventoryReleased",
            ],
        ),
    ],
)
def test_choreography_events_on_the_bus(traces, name, events):
    trace = traces[("choreography", name)]
    assert [s.step for s in trace.spans if s.kind == "event"] == events
    c = trace.counts
    assert (c.events, c.transitions, c.retries) == (len(events), 0, 0)
    assert c.steps == len(events) - 1  # every event but OrderCreated is a step's outcome


def test_order_created_is_published_by_start_saga(traces):
    trace = traces[("choreography", "happy")]
    (created,) = [s for s in trace.spans if s.kind == "event" and s.step == "OrderCreated"]
    assert created.detail == "from saga.orders"
    # start_saga logs once PutEvents has returned: the tap may get the event a moment before.
    assert abs((created.start - trace.relays()[0].start).total_seconds()) < 1


def test_each_event_is_published_after_its_step_started(traces):
    for name in ("happy", "undeliverable"):
        trace = traces[("choreography", name)]
        handlers = {s.outcome: s for s in trace.handlers()}
        for event in (s for s in trace.spans if s.kind == "event" and s.step != "OrderCreated"):
            assert handlers[event.step].start <= event.start, (name, event.step)


def test_release_is_triggered_by_a_failed_or_a_refunded_payment():
    assert eventbus.TRIGGERS["PaymentFailed"] == ("release_inventory",)
    assert eventbus.TRIGGERS["PaymentRefunded"] == ("release_inventory",)
    assert eventbus.TRIGGERS["ShippingFailed"] == ("refund_payment",)
    assert "ShippingScheduled" not in eventbus.TRIGGERS and "InventoryReleased" not in eventbus.TRIGGERS


def test_choreography_waits_for_the_terminal_event():
    capture = captured("choreography", "happy")
    cut = capture.model_copy(update={"tap": [e for e in capture.tap if "ShippingScheduled" not in e["message"]]})
    trace = eventbus.build(cut)
    assert not trace.complete and "ShippingScheduled not on the event tap yet" in trace.warnings


def test_choreography_names_the_step_a_refund_has_not_reached():
    capture = captured("choreography", "undeliverable")
    cut = capture.model_copy(update={"logs": [e for e in capture.logs if "refund_payment" not in e["message"]]})
    trace = eventbus.build(cut)
    assert not trace.complete and "ShippingFailed on the bus, but no log of refund_payment" in trace.warnings


def test_a_parked_order_does_not_wait_for_an_event_nobody_publishes():
    capture = captured("choreography", "happy")
    parked = capture.model_copy(update={"record": {**capture.record, "status": "NEEDS_ATTENTION"}})
    assert eventbus.build(parked).complete


def test_choreography_duplicate_delivery_is_a_retry():
    capture = captured("choreography", "happy")
    run = [e for e in capture.logs if "notify_shipping" in e["message"]]
    later = [{**e, "message": _shift(e["message"], seconds=1)} for e in run]
    trace = eventbus.build(capture.model_copy(update={"logs": capture.logs + later}))
    assert trace.counts.retries == 1 and trace.counts.steps == 3
    assert trace.counts.invocations == 6  # 4 step runs, create_order, start_saga
    assert trace.counts.hops == HOPS["happy"] + 1  # one more delivery from the bus


def _powertools(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S,") + f"{at.microsecond // 1000:03d}+0000"


def _shift(message: str, seconds: int) -> str:
    record = json.loads(message)
    record["timestamp"] = _powertools(lambda_logs.parse_time(record["timestamp"]) + timedelta(seconds=seconds))
    return json.dumps(record)


# --- comparison ---------------------------------------------------------------------------------


def test_align_lines_up_equal_steps_and_leaves_gaps():
    assert align(["a", "b", "c"], ["a", "c"]) == [(0, 0), (1, None), (2, 1)]
    assert align(["a"], ["a", "x"]) == [(0, 0), (None, 1)]


@pytest.mark.parametrize("name", SCENARIOS)
def test_both_styles_run_the_same_steps_and_agree(traces, name):
    comparison = compare(name, {s: traces[(s, name)] for s in STYLES})
    assert comparison.agree is True and comparison.differences == []
    assert [row.step for row in comparison.rows] == ["start_saga", *STEPS_RUN[name]]
    for row in comparison.rows:
        assert all(cell is not None for cell in row.cells.values()), row.step
        assert len({cell.outcome for cell in row.cells.values()}) == 1, row.step


@pytest.mark.parametrize("name", SCENARIOS)
def test_compensation_is_reported_where_it_ran(traces, name):
    comparison = compare(name, {s: traces[(s, name)] for s in STYLES})
    for style, summary in comparison.summaries.items():
        assert summary.compensation == COMPENSATION[name], style


def test_handoff_and_handler_times_add_up_to_the_saga(traces):
    for name in ("happy", "undeliverable"):
        comparison = compare(name, {s: traces[(s, name)] for s in STYLES})
        for style in STYLES:
            relay, *steps = [row.cells[style] for row in comparison.rows]
            # start_saga logs one line: its hand-off (the stream, its run) is timed, its body is not.
            assert relay.handler_ms is None and relay.handoff_ms > 0 and relay.outcome == "OrderCreated"
            assert all(c.handoff_ms >= 0 and c.handler_ms > 0 for c in steps)
            total = relay.handoff_ms + sum(c.handoff_ms + c.handler_ms for c in steps)
            assert total <= comparison.summaries[style].total_ms + 1, (name, style)


def test_records_differ_only_on_real_fields():
    a = {"orderId": "1", "status": "SHIPPING_SCHEDULED", "trackingNumber": "TRK-1", "amount": 1}
    b = {"orderId": "2", "status": "SHIPPING_SCHEDULED", "trackingNumber": "TRK-2", "amount": 1}
    assert same_outcome(a, b)
    assert differences(a, {**b, "status": "INVENTORY_FAILED"}) == ["status"]
    assert differences(a, {k: v for k, v in b.items() if k != "trackingNumber"}) == ["trackingNumber"]
    refunded = {"orderId": "1", "paymentId": "PAY-1", "refundId": "REF-1"}
    assert same_outcome(refunded, {"orderId": "2", "paymentId": "PAY-2", "refundId": "REF-2"})
    assert differences(refunded, {"orderId": "2", "paymentId": "PAY-2"}) == ["refundId"]


def test_given_orders_are_paired_by_their_scenario(traces):
    mixed = [
        traces[("choreography", "undeliverable")],
        traces[("choreography", "declined")],
        traces[("orchestration", "happy")],
        traces[("orchestration", "declined")],
        traces[("orchestration", "undeliverable")],
        traces[("choreography", "happy")],
    ]
    comparisons = pair(mixed)
    assert [c.scenario for c in comparisons] == ["happy", "declined", "undeliverable"]
    assert all(set(c.traces) == set(STYLES) for c in comparisons)
    (alone,) = pair([traces[("choreography", "out-of-stock")]])
    assert alone.agree is None and list(alone.summaries) == ["choreography"]


def test_scenario_is_inferred_from_the_record():
    assert scenario_of({"status": "INVENTORY_RELEASED", "failureReason": "card declined"}) == "declined"
    assert scenario_of({"status": "INVENTORY_RELEASED", "failureReason": "address undeliverable"}) == "undeliverable"
    assert scenario_of({"status": "PAYMENT_CHARGED"}) == ""


# --- cost ---------------------------------------------------------------------------------------


def test_cost_per_million_orders_from_the_counts(traces):
    orchestration = prices.per_million(traces[("orchestration", "happy")])
    choreography = prices.per_million(traces[("choreography", "happy")])
    assert orchestration.workflow == Decimal("100.00")  # 4 transitions x $25 per million
    assert choreography.workflow == Decimal("4.00")  # 4 events x $1 per million
    # 5 x $0.20: create_order, start_saga and the 3 steps
    assert orchestration.lambda_requests == choreography.lambda_requests == Decimal("1.00")
    assert choreography.express is None and orchestration.express is not None


def test_undeliverable_costs_two_more_steps(traces):
    orchestration = prices.per_million(traces[("orchestration", "undeliverable")])
    choreography = prices.per_million(traces[("choreography", "undeliverable")])
    assert orchestration.workflow == Decimal("150.00")  # 6 transitions
    assert choreography.workflow == Decimal("6.00")  # 6 events
    assert orchestration.lambda_requests == choreography.lambda_requests == Decimal("1.40")  # 7 invocations


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
    assert re.findall(r'<section id="([^"]+)">', page) == list(SCENARIOS)
    for comparison in comparisons:
        for style, trace in comparison.traces.items():
            assert f'class="timeline {style}"' in page
            assert trace.order_id in page
    assert page.count("<svg") == 2 * len(comparisons)
    assert ">eventbridge<" in page and ">step-functions<" in page
    assert prices.PRICES_RECORDED in page


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_hop_is_drawn_on_the_timelines(traces, name):
    # create_order -> stream -> start_saga is one line (the stream has no lane), every other hop one.
    for style in STYLES:
        trace = traces[(style, name)]
        assert svg.timeline(trace, trace.total_ms).count('class="hop"') == HOPS[name] - 1, style


def test_html_report_shows_the_undeliverable_compensations(comparisons, tmp_path):
    page = report.write(comparisons, tmp_path / "compare.html").read_text()
    section = page[page.index('<section id="undeliverable">') :]
    section = section[: section.index("</section>")]
    assert section.count("refund_payment, release_inventory after ShippingFailed") == 2  # one per style
    assert ">saga started<" in section  # start_saga's mark, labelled on both timelines
    for step in ("start_saga", "refund_payment", "release_inventory"):
        assert f"<td>{step}</td>" in section


def _console_text(comparisons, width: int = 120) -> str:
    out = Console(width=width, record=True, color_system=None)
    console.print_all(comparisons, out)
    return out.export_text()


def test_console_tables_show_steps_counts_and_verdict(comparisons):
    text = _console_text(comparisons)
    for step in (
        "start_saga",
        "reserve_inventory",
        "charge_payment",
        "notify_shipping",
        "refund_payment",
        "release_inventory",
    ):
        assert step in text
    assert text.count("final records agree") == 4
    assert "Step Functions $100.00" in text and "EventBridge $4.00" in text
    assert "release_inventory after PaymentFailed" in text
    assert "…" not in text, "a cropped cell at the width used when stdout is not a terminal"


def test_console_shows_the_undeliverable_scenario_with_two_compensations(comparisons):
    text = _console_text(comparisons)
    part = text[text.index("\nundeliverable") :]
    # The summary may wrap in its column: compare without the layout.
    flat = " ".join(part.replace("│", " ").split())
    assert "refund_payment, release_inventory" in flat and "after ShippingFailed" in flat
    rows = [line for line in part.splitlines() if "refund_payment" in line or "ShippingRefused" in line]
    assert any("PaymentRefunded" in line for line in rows)


def test_json_output_round_trips(comparisons):
    from pydantic import TypeAdapter

    from tools.analysis.compare.comparison import Comparison

    adapter = TypeAdapter(list[Comparison])
    again = adapter.validate_json(adapter.dump_json(comparisons))
    assert again == comparisons
    assert isinstance(again[0].traces["choreography"].spans[0].start, datetime)


def test_orders_argument_is_style_and_id():
    args = arguments(["--orders", "orchestration:abc", "choreography:def"])
    assert args.orders == [("orchestration", "abc"), ("choreography", "def")]
    with pytest.raises(SystemExit):
        arguments(["--orders", "sideways:abc"])
