"""Choreography trace: the events on the bus (from the event tap) plus the handlers' log spans.

Nobody holds the saga's state here, so the bus is the only shared record: the tap logs every
`saga.*` event as EventBridge delivered it. An event's time is when the tap received it (the
log event's timestamp, in ms); the event's own `time` field has whole seconds only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from shared.events import ROUTES
from tools.compare.lambda_logs import handler_spans
from tools.compare.model import COMPENSATION_STEPS, EVENTBRIDGE, Capture, Counts, Span, Trace

# detail-type -> the step it triggers (None: it ends the saga).
TRIGGERS = {event.detail_type(): step for step, event in ROUTES.items()}


def bus_events(order_id: str, tap: list[dict]) -> list[tuple[datetime, dict]]:
    out = []
    for log_event in tap:
        try:
            event = json.loads(log_event["message"])
        except (KeyError, json.JSONDecodeError):
            continue
        if isinstance(event, dict) and event.get("detail", {}).get("orderId") == order_id:
            out.append((datetime.fromtimestamp(log_event["timestamp"] / 1000, UTC), event))
    return sorted(out, key=lambda pair: pair[0])


def terminal_event(status: str) -> str:
    """`SHIPPING_SCHEDULED` -> `ShippingScheduled`: the event that reports a final status."""
    return "".join(part.capitalize() for part in status.split("_"))


def build(capture: Capture, scenario: str = "") -> Trace:
    seen = bus_events(capture.order_id, capture.tap)
    spans = [Span(kind="event", step=event["detail-type"], service=EVENTBRIDGE, start=at, end=at,
                  outcome=event["detail-type"], detail=f"from {event.get('source', '?')}")
             for at, event in seen]  # fmt: skip
    logged = handler_spans(capture.order_id, capture.logs)
    runs = [s for s in logged if s.kind == "handler"]
    steps = {s.step for s in runs}
    counts = Counts(
        steps=len(steps),
        invocations=len(logged),  # every step run, plus create_order's request
        events=len(seen),
        hops=len(seen) + len(runs),  # publisher -> bus, then bus -> each subscriber
        retries=len(runs) - len(steps),
        compensations=len(steps & COMPENSATION_STEPS),
    )
    warnings = []
    types = [event["detail-type"] for _, event in seen]
    status = capture.record.get("status", "")
    if status and terminal_event(status) not in types:
        warnings.append(f"{terminal_event(status)} not on the event tap yet")
    for detail_type in types:
        if (step := TRIGGERS.get(detail_type)) and step not in steps:
            warnings.append(f"{detail_type} on the bus, but no log of {step}")
    if not any(s.kind == "request" for s in logged):
        warnings.append("no 'order created' log line of create_order")
    return Trace(style="choreography", order_id=capture.order_id, scenario=scenario, status=status,
                 record=capture.record, spans=sorted(spans + logged, key=lambda s: (s.start, s.kind)),
                 counts=counts, complete=not warnings, warnings=warnings)  # fmt: skip
