"""Choreography trace: the events on the bus (from the event tap) plus the Lambdas' log spans.

Nobody holds the saga's state here, so the bus is the only shared record: the tap logs every
`saga.*` event as EventBridge delivered it. An event's time is when the tap received it (the
log event's timestamp, in ms); the event's own `time` field has whole seconds only. The first
event, OrderCreated, is put on the bus by the outbox relay start_saga, fed by the orders table's
stream once create_order has stored the order.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from shared.contract import CHOREOGRAPHY, NOTIFY_CUSTOMER, pascal
from shared.events import EVENTS_BY_NAME, OUTCOMES, ROUTES
from tools.analysis.compare.lambda_logs import handler_spans, missing_marks
from tools.analysis.compare.model import COMPENSATION_STEPS, EVENTBRIDGE, Capture, Counts, Span, Trace

# detail-type -> the steps it triggers, from ROUTES (step -> its trigger events); an event that
# triggers nothing (InventoryFailed, ShippingScheduled, InventoryReleased) ends the saga.
TRIGGERS: dict[str, tuple[str, ...]] = {
    name: tuple(step for step, events in ROUTES.items() if name in {e.detail_type() for e in events})
    for name in dict.fromkeys(e.detail_type() for events in ROUTES.values() for e in events)
}


# The hybrid's outcome events -> who follows them on its bus (hybrid.infra.notifications).
FOLLOWERS: dict[str, tuple[str, ...]] = {event.detail_type(): (NOTIFY_CUSTOMER,) for event in OUTCOMES}


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


def event_spans(order_id: str, tap: list[dict]) -> list[Span]:
    """One point span per event about the order on the bus, when the tap received it (the
    hybrid's outcome events too)."""
    return [
        Span(
            kind="event",
            step=event["detail-type"],
            service=EVENTBRIDGE,
            start=at,
            end=at,
            outcome=event["detail-type"],
            detail=f"from {event.get('source', '?')}",
        )
        for at, event in bus_events(order_id, tap)
    ]


def build(capture: Capture, scenario: str = "") -> Trace:
    seen = event_spans(capture.order_id, capture.tap)
    logged = handler_spans(capture.order_id, capture.logs)
    runs = [s for s in logged if s.kind == "handler"]
    requests = sum(1 for s in logged if s.kind == "request")
    relays = sum(1 for s in logged if s.kind == "relay")
    steps = {s.step for s in runs}
    counts = Counts(
        steps=len(steps),
        invocations=requests + relays + len(runs),  # create_order, start_saga, every step run
        events=len(seen),
        # create_order -> the orders table's stream, the stream -> start_saga (per run), then
        # each publisher (start_saga, the steps) -> the bus, and the bus -> each subscriber.
        hops=requests + relays + len(seen) + len(runs),
        retries=len(runs) - len(steps),
        compensations=len(steps & set(COMPENSATION_STEPS)),
    )
    warnings = []
    types = [event.step for event in seen]
    status = capture.record.get("status", "")
    # The event that reports the final status (`SHIPPING_SCHEDULED` -> ShippingScheduled), if some
    # event does (not NEEDS_ATTENTION, which the reconciler sets, publishing nothing).
    reported = pascal(status)
    if status and reported in EVENTS_BY_NAME and reported not in types:
        warnings.append(f"{reported} not on the event tap yet")
    for detail_type in dict.fromkeys(types):
        for step in TRIGGERS.get(detail_type, ()):
            if step not in steps:
                warnings.append(f"{detail_type} on the bus, but no log of {step}")
    warnings += missing_marks(logged)
    return Trace(
        style=CHOREOGRAPHY,
        order_id=capture.order_id,
        scenario=scenario,
        status=status,
        record=capture.record,
        spans=sorted(seen + logged, key=lambda s: (s.start, s.kind)),
        counts=counts,
        complete=not warnings,
        warnings=warnings,
    )
