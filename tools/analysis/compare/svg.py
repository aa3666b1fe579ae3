"""A swimlane timeline of one trace as inline SVG: one lane per service, time left to right.

Every style of a scenario is drawn on the same scale (`span_ms`), one above the other, so the
lengths compare. Thin lines are the hops: the order stored -> (the orders table's stream) ->
the saga started by start_saga -> the orchestrator or OrderCreated on the bus; then orchestrator
-> handler -> orchestrator, or event -> subscriber -> published event; the hybrid's outcome goes
from the orchestrator to the bus, and from there to the notification service. Every shape has a
<title> (the browser's tooltip).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape

from shared.contract import CHOREOGRAPHY, HYBRID, ORCHESTRATION, ORDER_CREATED, SAGA_STARTED
from shared.events import OrderCreated
from tools.analysis.compare.eventbus import FOLLOWERS, TRIGGERS
from tools.analysis.compare.model import EVENTBRIDGE, STEP_FUNCTIONS, Span, Trace

LANES = {
    ORCHESTRATION: ("orders", STEP_FUNCTIONS, "inventory", "payment", "shipping"),
    CHOREOGRAPHY: ("orders", EVENTBRIDGE, "inventory", "payment", "shipping"),
    HYBRID: ("orders", STEP_FUNCTIONS, "inventory", "payment", "shipping", EVENTBRIDGE, "notifications"),
}
COLORS = {
    "orders": "#6b7280",
    STEP_FUNCTIONS: "#c2410c",
    EVENTBRIDGE: "#be185d",
    "inventory": "#2563eb",
    "payment": "#059669",
    "shipping": "#7c3aed",
    "notifications": "#0d9488",
}
LABEL_W, PLOT_W, LANE_H, TOP, BOTTOM = 120, 860, 34, 22, 26
WIDTH = LABEL_W + PLOT_W + 110  # room on the right for the last labels


def nice_step(total_ms: float) -> int:
    """A tick interval giving 4 to 10 ticks."""
    for step in (10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 60000):
        if total_ms / step <= 10:
            return step
    return 120000


class _Scale:
    def __init__(self, origin: datetime, span_ms: float) -> None:
        self.origin = origin
        self.px_per_ms = PLOT_W / max(span_ms, 1.0)

    def x(self, at: datetime) -> float:
        return LABEL_W + (at - self.origin).total_seconds() * 1000 * self.px_per_ms

    def w(self, ms: float) -> float:
        return ms * self.px_per_ms


def _title(span: Span) -> str:
    parts = [f"{span.step}: {span.outcome}" if span.outcome and span.outcome != span.step else span.step]
    if span.start != span.end:
        parts.append(f"{span.ms:,.0f} ms")
    if span.detail:
        parts.append(span.detail)
    return escape(" — ".join(parts))


POINTS = ("event", "request", "relay", "recovery")  # drawn as diamonds: start == end


def _label(span: Span) -> str:
    if span.kind == "request":  # labelled with the log line it comes from
        return ORDER_CREATED
    if span.kind == "relay":
        return SAGA_STARTED
    if span.kind == "state":
        return span.detail.split(" ")[0] or span.step
    return span.step


def _shape(span: Span, scale: _Scale, y: float, color: str) -> str:
    x, title = scale.x(span.start), _title(span)
    mid = y + LANE_H / 2
    if span.kind in POINTS:
        r = 5
        return (
            f'<g class="{span.kind}"><title>{title}</title>'
            f'<path d="M{x:.1f} {mid - r} l{r} {r} l{-r} {r} l{-r} {-r} z" fill="{color}"/></g>'
        )
    width = max(scale.w(span.ms), 2.0)
    failed = span.outcome.endswith(("Error", "Failed", "error")) or span.outcome == "fail"
    fill = "none" if span.kind == "state" else color
    stroke = ' stroke-dasharray="3 2"' if failed else ""
    return (
        f'<g class="{span.kind}"><title>{title}</title>'
        f'<rect x="{x:.1f}" y="{y + 8}" width="{width:.1f}" height="{LANE_H - 16}" rx="3" '
        f'fill="{fill}" fill-opacity="0.85" stroke="{color}" stroke-width="1.5"{stroke}/></g>'
    )


class _Labels:
    """Places each label above its shape, or below if that would overlap the previous label in
    the lane; a label with room on neither side is left to the tooltip."""

    CHAR_W = 5.6

    def __init__(self) -> None:
        self.free: dict[tuple[str, int], float] = {}

    def place(self, span: Span, scale: _Scale, y: float) -> str:
        text = _label(span)
        x = scale.x(span.start) + (7 if span.kind in POINTS else 1)
        width = len(text) * self.CHAR_W
        for row, text_y in enumerate((y + 7, y + LANE_H - 1)):
            if self.free.get((span.service, row), 0.0) <= x:
                self.free[(span.service, row)] = x + width + 4
                return f'<text x="{x:.1f}" y="{text_y:.1f}" class="small">{escape(text)}</text>'
        return ""


def _hops(trace: Trace, scale: _Scale, lane_y: dict[str, float]) -> list[str]:
    """Lines from the wiring lane (orchestrator or bus) to each handler and back."""
    wiring = EVENTBRIDGE if trace.style == CHOREOGRAPHY else STEP_FUNCTIONS
    if wiring not in lane_y:
        return []
    handlers = trace.handlers()
    lines = []

    def line(a: datetime, ya: float, b: datetime, yb: float) -> None:
        lines.append(f'<line x1="{scale.x(a):.1f}" y1="{ya:.1f}" x2="{scale.x(b):.1f}" y2="{yb:.1f}" class="hop"/>')

    hub = lane_y[wiring] + LANE_H / 2
    # The start: create_order's write -> the stream -> start_saga -> the orchestrator or the bus.
    requests = [s for s in trace.spans if s.kind == "request" and s.service in lane_y]
    relays = [s for s in trace.relays() if s.service in lane_y]
    states = [s for s in trace.spans if s.kind == "state"]
    events = [s for s in trace.spans if s.kind == "event"]
    if relays:
        relay_y = lane_y[relays[0].service] + LANE_H / 2
        if requests:
            line(requests[0].end, lane_y[requests[0].service] + LANE_H / 2, relays[0].start, relay_y)
        if trace.style != CHOREOGRAPHY:
            started = states[:1]
        else:
            started = [e for e in events if e.step == OrderCreated.detail_type()][:1]
        if started:
            line(relays[0].end, relay_y, started[0].start, hub)
    if trace.style != CHOREOGRAPHY:
        for handler in handlers:
            state = next((s for s in states if s.step == handler.step and s.start <= handler.start <= s.end), None)
            if state and handler.service in lane_y:
                y = lane_y[handler.service] + LANE_H / 2
                line(state.start, hub, handler.start, y)
                line(handler.end, y, state.end, hub)
        if EVENTBRIDGE in lane_y:  # the hybrid
            _followers(trace, states, events, lane_y, hub, line)
        return lines
    for handler in handlers:
        if handler.service not in lane_y:
            continue
        y = lane_y[handler.service] + LANE_H / 2
        # The tap is a subscriber too: it may log the event after the step has started on it.
        triggers = [e for e in events if handler.step in TRIGGERS.get(e.step, ())]
        before = [e for e in triggers if e.start <= handler.end]
        if triggers:
            line((before[-1] if before else triggers[0]).start, hub, handler.start, y)
        published = [e for e in events if e.step == handler.outcome and e.start >= handler.start]
        if published:
            line(handler.end, y, published[0].start, hub)
    return lines


def _followers(
    trace: Trace, states: list[Span], events: list[Span], lane_y: dict[str, float], hub: float, line: Callable
) -> None:
    """The hybrid's outcome: the state that published it (the last one before the end) -> the
    event on the bus -> each run of whoever follows it."""
    bus = lane_y[EVENTBRIDGE] + LANE_H / 2
    for event in (e for e in events if e.step in FOLLOWERS):
        publishers = [s for s in states if s.start <= event.start and s.outcome != "succeed"]
        if publishers:
            line(publishers[-1].start, hub, event.start, bus)
        for run in (h for h in trace.handlers() if h.step in FOLLOWERS[event.step] and h.service in lane_y):
            line(event.start, bus, run.start, lane_y[run.service] + LANE_H / 2)


def timeline(trace: Trace, span_ms: float, caption: str = "") -> str:
    """The trace as an <svg>, `span_ms` wide (the longer of the two styles compared)."""
    lanes = LANES[trace.style]
    height = TOP + LANE_H * len(lanes) + BOTTOM
    origin = trace.start if trace.spans else datetime.now()
    scale = _Scale(origin, span_ms)
    lane_y = {lane: TOP + i * LANE_H for i, lane in enumerate(lanes)}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline {trace.style}" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(trace.style)} timeline of order {escape(trace.order_id)}">',
        f'<text x="4" y="14" class="caption">{escape(caption or trace.style)}</text>',
    ]
    for i, lane in enumerate(lanes):
        y = lane_y[lane]
        out.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{LANE_H}" class="{"lane-a" if i % 2 else "lane-b"}"/>')
        out.append(f'<text x="6" y="{y + LANE_H / 2 + 4}" class="lane" fill="{COLORS[lane]}">{lane}</text>')
    step = nice_step(span_ms)
    bottom = TOP + LANE_H * len(lanes)
    for tick in range(0, int(span_ms) + 1, step):
        x = LABEL_W + scale.w(tick)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{bottom}" class="tick"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 14}" class="small" text-anchor="middle">{tick:,} ms</text>')
    out += _hops(trace, scale, lane_y)
    labels = _Labels()
    for span in trace.spans:
        if span.service in lane_y:
            y = lane_y[span.service]
            out.append(_shape(span, scale, y, COLORS[span.service]))
            out.append(labels.place(span, scale, y))
    out.append("</svg>")
    return "\n".join(out)
