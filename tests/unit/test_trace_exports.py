"""The recorded traces exported as OpenTelemetry JSON and Chrome trace events, validated against
their formats (tests/trace_formats.py: the official protobuf message, a JSON schema of the trace
event format), and the validators shown to refuse what breaks those formats."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from google.protobuf.json_format import ParseError

from tests.trace_formats import chrome_trace, otlp_request
from tools.analysis.compare import chrome, exports, otlp
from tools.analysis.compare.comparison import cells, compare
from tools.analysis.compare.handoffs import handoffs
from tools.analysis.compare.model import Capture
from tools.analysis.compare.traces import build

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"
SCENARIOS = ("happy", "out-of-stock", "declined", "undeliverable")
STYLES = ("orchestration", "choreography")
CASES = [(style, scenario) for style in STYLES for scenario in SCENARIOS]


def traced(style: str, scenario: str):
    return build(Capture.model_validate_json((FIXTURES / f"{style}-{scenario}.json").read_text()))


def otlp_text(style: str, scenario: str) -> str:
    return json.dumps(otlp.export(traced(style, scenario)))


def chrome_text(style: str, scenario: str) -> str:
    return json.dumps(chrome.export(traced(style, scenario)))


def spans_of(request) -> list:
    return [span for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]


# --- OpenTelemetry ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("style", "scenario"), CASES)
def test_every_trace_is_a_valid_otlp_request(style, scenario):
    trace = traced(style, scenario)
    request = otlp_request(otlp_text(style, scenario))
    spans = spans_of(request)
    # The root, a span per record of the trace, one per hand-off.
    assert len(spans) == 1 + len(trace.spans) + len(handoffs(trace))
    assert spans[0].trace_id.hex() == trace.order_id.replace("-", "")


def test_otlp_root_span_holds_the_saga():
    trace = traced("orchestration", "undeliverable")
    request = otlp_request(otlp_text("orchestration", "undeliverable"))
    (root,) = [s for s in spans_of(request) if not s.parent_span_id]
    assert root.name == "order saga (orchestration, undeliverable)"
    attributes = {a.key: a.value for a in root.attributes}
    assert attributes["saga.order_id"].string_value == trace.order_id
    assert attributes["saga.steps"].int_value == 5 and attributes["saga.transitions"].int_value == 6
    assert root.end_time_unix_nano - root.start_time_unix_nano == round(trace.total_ms * 1_000_000)


def test_otlp_resources_are_the_lanes():
    request = otlp_request(otlp_text("choreography", "happy"))
    services = [next(a.value.string_value for a in rs.resource.attributes) for rs in request.resource_spans]
    assert services == ["order-saga", "orders", "eventbridge", "inventory", "payment", "shipping", "dynamodb-stream"]


def test_otlp_handlers_are_children_of_the_state_that_invoked_them():
    request = otlp_request(otlp_text("orchestration", "happy"))
    by_id = {s.span_id: s for s in spans_of(request)}
    handlers = [s for s in by_id.values() if s.name in ("reserve_inventory", "charge_payment", "notify_shipping")]
    assert [by_id[h.parent_span_id].name for h in handlers] == [
        "state ReserveInventory",
        "state ChargePayment",
        "state NotifyShipping",
    ]
    assert all(h.kind == 2 for h in handlers)  # SPAN_KIND_SERVER


def test_otlp_choreography_steps_hang_from_the_root():
    request = otlp_request(otlp_text("choreography", "declined"))
    spans = spans_of(request)
    (root,) = [s for s in spans if not s.parent_span_id]
    assert all(s.parent_span_id == root.span_id for s in spans if s is not root)
    events = [s.name for s in spans if s.kind == 4]  # SPAN_KIND_PRODUCER: events and start_saga
    assert "event PaymentFailed" in events and "start_saga" in events


def test_hand_offs_are_the_comparisons_hand_offs():
    for style in STYLES:
        trace = traced(style, "undeliverable")
        exported = handoffs(trace)
        compared = cells(trace)
        assert [h.step for h in exported] == [step for step, _ in compared], style
        ms = [(h.end - h.start).total_seconds() * 1000 for h in exported]
        assert ms == pytest.approx([cell.handoff_ms for _, cell in compared]), style
    lanes = [h.lane for h in handoffs(traced("orchestration", "happy"))]
    assert lanes == ["dynamodb-stream", "step-functions", "step-functions", "step-functions"]


def test_the_same_trace_exports_to_the_same_file():
    assert otlp_text("choreography", "happy") == otlp_text("choreography", "happy")


def test_a_crashed_handler_is_an_error_span():
    capture = Capture.model_validate_json((FIXTURES / "choreography-happy.json").read_text())
    logs = [e for e in capture.logs if not ('"step done"' in e["message"] and "charge_payment" in e["message"])]
    trace = build(capture.model_copy(update={"logs": logs}))
    request = otlp_request(json.dumps(otlp.export(trace)))
    (charge,) = [s for s in spans_of(request) if s.name == "charge_payment"]
    assert charge.status.code == 2 and "step done" in charge.status.message


# --- the OTLP validator refuses what breaks the format -----------------------------------------


def _broken(change) -> str:
    data = json.loads(otlp_text("orchestration", "happy"))
    change(data["resourceSpans"][1]["scopeSpans"][0]["spans"][0])
    return json.dumps(data)


def test_otlp_validator_refuses_base64_ids():
    import base64

    def to_base64(span):
        span["spanId"] = base64.b64encode(bytes.fromhex(span["spanId"])).decode()

    with pytest.raises((ValueError, AssertionError)):
        otlp_request(_broken(to_base64))


def test_otlp_validator_refuses_enum_names():
    with pytest.raises(AssertionError, match="enum"):
        otlp_request(_broken(lambda span: span.update(kind="SPAN_KIND_SERVER")))


def test_otlp_validator_refuses_unknown_fields():
    with pytest.raises(ParseError):
        otlp_request(_broken(lambda span: span.update(durationNano="5")))


def test_otlp_validator_refuses_snake_case_keys():
    with pytest.raises(AssertionError, match="lowerCamelCase"):
        otlp_request(_broken(lambda span: span.update(start_time_unix_nano=span.pop("startTimeUnixNano"))))


def test_otlp_validator_refuses_a_second_root():
    with pytest.raises(AssertionError, match="one root"):
        otlp_request(_broken(lambda span: span.update(parentSpanId="")))


# --- Chrome trace events ---------------------------------------------------------------------------


@pytest.mark.parametrize(("style", "scenario"), CASES)
def test_every_trace_is_valid_chrome_trace_json(style, scenario):
    trace = traced(style, scenario)
    data = chrome_trace(chrome_text(style, scenario))
    complete = [e for e in data["traceEvents"] if e["ph"] == "X"]
    instants = [e for e in data["traceEvents"] if e["ph"] == "i"]
    durable = [s for s in trace.spans if s.kind in ("handler", "state")]
    assert len(complete) == len(durable) + len(handoffs(trace))
    assert len(instants) == len(trace.spans) - len(durable)


def test_chrome_threads_are_the_lanes_in_the_timelines_order():
    data = chrome_trace(chrome_text("orchestration", "undeliverable"))
    names = {e["tid"]: e["args"]["name"] for e in data["traceEvents"] if e["name"] == "thread_name"}
    order = {e["tid"]: e["args"]["sort_index"] for e in data["traceEvents"] if e["name"] == "thread_sort_index"}
    assert [names[tid] for tid in sorted(names, key=order.get)] == [
        "orders",
        "step-functions",
        "inventory",
        "payment",
        "shipping",
        "hand-offs",
    ]


def test_chrome_times_are_microseconds_from_the_first_record():
    trace = traced("choreography", "happy")
    data = chrome_trace(chrome_text("choreography", "happy"))
    (reserve,) = [e for e in data["traceEvents"] if e["name"] == "reserve_inventory"]
    (span,) = [s for s in trace.handlers() if s.step == "reserve_inventory"]
    assert reserve["ts"] == pytest.approx((span.start - trace.start).total_seconds() * 1e6)
    assert reserve["dur"] == pytest.approx(span.ms * 1000)
    assert min(e["ts"] for e in data["traceEvents"] if "ts" in e) == 0


def test_overlapping_runs_of_a_lane_go_to_a_second_thread():
    # A duplicate delivery running beside the first: drawn on "inventory #2", not across it.
    trace = traced("choreography", "happy")
    (first,) = [s for s in trace.handlers() if s.step == "reserve_inventory"]
    half = (first.end - first.start) / 2
    twin = first.model_copy(update={"start": first.start + half, "end": first.end + half})
    data = chrome_trace(json.dumps(chrome.export(trace.model_copy(update={"spans": [*trace.spans, twin]}))))
    threads = {e["tid"]: e["args"]["name"] for e in data["traceEvents"] if e["name"] == "thread_name"}
    runs = [threads[e["tid"]] for e in data["traceEvents"] if e["name"] == "reserve_inventory"]
    assert runs == ["inventory", "inventory #2"]


# --- the Chrome validator refuses what breaks the format ------------------------------------------


def _chrome_broken(change) -> str:
    data = json.loads(chrome_text("orchestration", "happy"))
    change(data)
    return json.dumps(data)


def _first_complete(data) -> dict:
    return next(e for e in data["traceEvents"] if e["ph"] == "X")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda d: _first_complete(d).pop("dur"), jsonschema.ValidationError),
        (lambda d: _first_complete(d).update(ts="12"), jsonschema.ValidationError),
        (lambda d: _first_complete(d).update(ph="Z"), jsonschema.ValidationError),
        (lambda d: _first_complete(d).update(duration=3), jsonschema.ValidationError),
        (lambda d: d.pop("traceEvents"), jsonschema.ValidationError),
        (lambda d: d["traceEvents"][1]["args"].pop("name"), jsonschema.ValidationError),
        (lambda d: _first_complete(d).update(dur=-1), AssertionError),
        (lambda d: _first_complete(d).update(tid=99), AssertionError),
        (lambda d: d["traceEvents"].pop(0), AssertionError),  # the process's name
    ],
)
def test_chrome_validator_refuses(change, error):
    with pytest.raises(error):
        chrome_trace(_chrome_broken(change))


# --- the files --------------------------------------------------------------------------------------


def test_each_saga_is_written_in_both_formats(tmp_path):
    comparisons = [compare(name, {s: traced(s, name) for s in STYLES}) for name in SCENARIOS]
    again = copy.deepcopy(comparisons[0]).model_copy(update={"scenario": "happy (2)"})
    written = exports.write([*comparisons, again], tmp_path / "traces")
    assert sorted(p.name for p in written) == sorted(
        f"{slug}.{style}.{fmt}.json"
        for slug in ("happy", "out-of-stock", "declined", "undeliverable", "happy-2")
        for style in STYLES
        for fmt in ("otlp", "chrome")
    )
    for path in written:
        (otlp_request if path.name.endswith(".otlp.json") else chrome_trace)(path.read_text())


def test_file_names_of_an_order_of_no_known_scenario():
    assert exports.slug("") == "order" and exports.slug("happy (2)") == "happy-2"
