"""What the trace exports add to a trace's spans: who handed each step over, and when.

A hand-off runs from the previous step's end (or the order stored) to this step's start, on the
lane of what carried it: the orders table's stream for start_saga, then the state machine or the
bus. The same boundaries as the comparison's hand-off column (comparison.cells).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from tools.analysis.compare.comparison import step_runs
from tools.analysis.compare.model import EVENTBRIDGE, STEP_FUNCTIONS, Span, Trace
from tools.analysis.compare.svg import LANES

STREAM = "dynamodb-stream"  # the lane of the orders table's stream: create_order's write -> start_saga


class Handoff(NamedTuple):
    step: str  # the step handed over
    start: datetime
    end: datetime
    lane: str  # what carried it: STREAM, STEP_FUNCTIONS or EVENTBRIDGE


def state_steps(trace: Trace) -> set[str]:
    """The steps a state of the state machine ran (the rest were delivered by the bus)."""
    return {s.step for s in trace.spans if s.kind == "state"}


def carrier(trace: Trace, span: Span) -> str:
    if span.kind == "relay":
        return STREAM
    return STEP_FUNCTIONS if span.step in state_steps(trace) else EVENTBRIDGE


def handoffs(trace: Trace) -> list[Handoff]:
    created = [s.end for s in trace.spans if s.kind == "request"]
    previous = created[0] if created else None
    out = []
    for step, runs in step_runs(trace):
        if previous is not None and runs[0].start >= previous:
            out.append(Handoff(step, previous, runs[0].start, carrier(trace, runs[0])))
        previous = runs[-1].end
    return out


def state_of(trace: Trace, handler: Span) -> Span | None:
    """The state that invoked a handler: of its step, entered before it started, exited after."""
    return next(
        (s for s in trace.spans if s.kind == "state" and s.step == handler.step and s.start <= handler.start <= s.end),
        None,
    )


def lanes(trace: Trace) -> list[str]:
    """The services in the timeline's order (svg.LANES), then any other, as they first appear."""
    order = list(LANES.get(trace.style, ()))
    for span in trace.spans:
        if span.service not in order:
            order.append(span.service)
    return order
