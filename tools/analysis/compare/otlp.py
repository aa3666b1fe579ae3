"""One traced saga as OpenTelemetry JSON (OTLP/JSON): an ExportTraceServiceRequest.

One trace per saga: a root span for the whole saga, and under it a span per record of the trace
(handler runs, Step Functions states, events on the bus, the stored order, start_saga) and per
hand-off, each in the resource of its lane (`service.name`: orders, step-functions, inventory...).
A handler's parent is the state that invoked it, if any. Any OTLP/JSON reader takes the file
(an OpenTelemetry Collector's otlpjsonfile receiver, or a POST to /v1/traces of a backend).

OTLP/JSON differs from protobuf's own JSON mapping (the OTLP specification, "JSON Protobuf
Encoding"): ids are hex strings, enums integers, keys lowerCamelCase; 64-bit integers (the
nanosecond times) are decimal strings. Ids derive from the order id, so a trace exported twice
is the same file: the trace id is the order id itself (a UUID), the span ids a hash of it.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tools.analysis.compare.handoffs import handoffs, lanes, state_of
from tools.analysis.compare.model import Span, Trace

SCOPE = "tools.analysis.compare"
ROOT_SERVICE = "order-saga"
NAMESPACE = "order-saga"
# SpanKind values (opentelemetry/proto/trace/v1/trace.proto)
INTERNAL, SERVER, PRODUCER = 1, 2, 4
KINDS = {"handler": SERVER, "request": SERVER, "event": PRODUCER, "relay": PRODUCER}
STATUS_ERROR = 2
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def trace_id(order_id: str) -> str:
    try:
        return uuid.UUID(order_id).hex
    except ValueError:
        return hashlib.sha256(order_id.encode()).hexdigest()[:32]


def span_id(order_id: str, index: int) -> str:
    return hashlib.sha256(f"{order_id}/{index}".encode()).hexdigest()[:16]


def nanos(at: datetime) -> str:
    return str((at - EPOCH) // timedelta(microseconds=1) * 1000)


def attribute(key: str, value: Any) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def name(span: Span) -> str:
    if span.kind == "state":
        return f"state {span.detail.split(' ')[0] or span.step}"
    if span.kind == "event":
        return f"event {span.step}"
    return span.step


def _span(
    trace: Trace,
    ids: tuple[str, str],  # (span id, parent span id: "" for the root)
    title: str,
    times: tuple[datetime, datetime],
    attributes: dict[str, Any],
    kind: int = INTERNAL,
    error: str | None = None,  # the status message of a span that failed
) -> dict:
    (sid, parent), (start, end) = ids, times
    out = {
        "traceId": trace_id(trace.order_id),
        "spanId": sid,
        "parentSpanId": parent,
        "name": title,
        "kind": kind,
        "startTimeUnixNano": nanos(start),
        "endTimeUnixNano": nanos(end),
        "attributes": [attribute(k, v) for k, v in attributes.items() if v not in ("", None)],
    }
    if error is not None:
        out["status"] = {"code": STATUS_ERROR, "message": error}
    return out


def spans_by_lane(trace: Trace) -> dict[str, list[dict]]:
    """Every span of the saga, under the service (lane) it ran in; the root first."""
    root = span_id(trace.order_id, 0)
    counts = trace.counts.model_dump()
    by_lane: dict[str, list[dict]] = {
        ROOT_SERVICE: [
            _span(
                trace,
                (root, ""),
                f"order saga ({trace.style}{', ' + trace.scenario if trace.scenario else ''})",
                (trace.start, trace.end),
                {"saga.style": trace.style, "saga.scenario": trace.scenario, "saga.order_id": trace.order_id}
                | {"saga.status": trace.status, "saga.complete": trace.complete}
                | {f"saga.{k}": v for k, v in counts.items()},
            )
        ]
    }
    ids = {id(s): span_id(trace.order_id, i) for i, s in enumerate(trace.spans, 1)}
    for s in trace.spans:
        state = state_of(trace, s) if s.kind == "handler" else None
        by_lane.setdefault(s.service, []).append(
            _span(
                trace,
                (ids[id(s)], ids[id(state)] if state else root),
                name(s),
                (s.start, s.end),
                {"saga.kind": s.kind, "saga.step": s.step, "saga.outcome": s.outcome, "saga.detail": s.detail}
                | ({"faas.coldstart": "cold" in s.detail} if s.kind == "handler" else {}),
                kind=KINDS.get(s.kind, INTERNAL),
                # A handler that never logged `step done`: it crashed or timed out (lambda_logs).
                error=(s.detail or "no `step done` line") if s.outcome == "error" else None,
            )
        )
    first = len(trace.spans) + 1
    for i, h in enumerate(handoffs(trace), first):
        by_lane.setdefault(h.lane, []).append(
            _span(
                trace,
                (span_id(trace.order_id, i), root),
                f"hand-off -> {h.step}",
                (h.start, h.end),
                {"saga.kind": "hand-off", "saga.step": h.step, "saga.carried_by": h.lane},
            )
        )
    return by_lane


def export(trace: Trace) -> dict:
    if not trace.spans:
        return {"resourceSpans": []}
    by_lane = spans_by_lane(trace)
    order = [ROOT_SERVICE, *lanes(trace), *by_lane]
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        attribute("service.name", lane),
                        attribute("service.namespace", NAMESPACE),
                        attribute("saga.style", trace.style),
                    ]
                },
                "scopeSpans": [{"scope": {"name": SCOPE}, "spans": by_lane[lane]}],
            }
            for lane in dict.fromkeys(order)
            if lane in by_lane
        ]
    }
