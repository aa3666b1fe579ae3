"""The trace model both styles are reduced to, so they can be compared field by field.

A trace is one order's saga: spans (who did what, when) and counts (what it cost in messages).
Times are UTC datetimes with millisecond precision, from the services' own clocks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contract import COMPENSATION_STEPS

Style = Literal["orchestration", "choreography", "hybrid"]  # shared.contract.STYLES, as a type
# handler: a Lambda running a step, or the hybrid's notification service (from its logs); state:
# a Step Functions state (from the history); event: an event seen on the bus (from the tap; start
# == end); request: the API call that stored the order (its log line; start == end); relay: the
# outbox relay (start_saga, fed by the orders table's stream) starting the saga (its one log
# line, written once the saga is started; start == end); recovery: the reconciler acting on the
# order (not in a normal trace).
SpanKind = Literal["handler", "state", "event", "request", "relay", "recovery"]

# The lane of the orchestrator and of the bus in the timeline.
STEP_FUNCTIONS = "step-functions"
EVENTBRIDGE = "eventbridge"


class Span(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: SpanKind
    step: str  # saga step (handler, state of a task), state name, or event detail-type
    service: str  # lane: orders, inventory, payment, shipping, step-functions, eventbridge
    start: datetime
    end: datetime
    outcome: str = ""  # outcome event, error name, or state/event name
    detail: str = ""  # anything worth a tooltip: cold start, retry, error cause...

    @property
    def ms(self) -> float:
        return (self.end - self.start).total_seconds() * 1000


class Counts(BaseModel):
    steps: int = 0  # saga steps that ran (create_order and start_saga not included), each counted once
    invocations: int = 0  # Lambda invocations: create_order, start_saga, the steps, retries included
    # Deliveries from one service to another (see README: Comparing the styles), the start
    # included: create_order -> the orders table's stream -> start_saga -> Step Functions / the bus.
    hops: int = 0
    events: int = 0  # events published on the bus
    transitions: int = 0  # Step Functions state transitions, as billed (retries included)
    retries: int = 0  # extra attempts of a step beyond its first
    compensations: int = 0  # compensating steps that ran


class Trace(BaseModel):
    style: Style
    order_id: str
    scenario: str = ""
    status: str = ""  # the order's final status
    record: dict = Field(default_factory=dict)
    spans: list[Span] = Field(default_factory=list)
    counts: Counts = Field(default_factory=Counts)
    complete: bool = True  # False: the deadline passed before every expected record arrived
    warnings: list[str] = Field(default_factory=list)

    @property
    def start(self) -> datetime:
        return min(s.start for s in self.spans)

    @property
    def end(self) -> datetime:
        return max(s.end for s in self.spans)

    @property
    def total_ms(self) -> float:
        return (self.end - self.start).total_seconds() * 1000 if self.spans else 0.0

    def handlers(self) -> list[Span]:
        """Lambda runs of saga steps (not create_order, not start_saga), in start order."""
        return sorted((s for s in self.spans if s.kind == "handler"), key=lambda s: s.start)

    def relays(self) -> list[Span]:
        """start_saga's runs that started the saga (one, unless the stream delivered it again)."""
        return sorted((s for s in self.spans if s.kind == "relay"), key=lambda s: s.start)

    def compensated(self) -> list[str]:
        """The compensating steps that ran, in the order they ran (a retry counted once)."""
        out: list[str] = []
        for span in self.handlers():
            if span.step in COMPENSATION_STEPS and span.step not in out:
                out.append(span.step)
        return out


class Capture(BaseModel):
    """What AWS recorded about one order, in the services' own formats (the test fixtures are
    these, saved as JSON): the builders turn it into a Trace without calling AWS."""

    style: Style
    order_id: str
    record: dict = Field(default_factory=dict)  # GET /orders/{orderId}
    history: list[dict] = Field(default_factory=list)  # get_execution_history events
    tap: list[dict] = Field(default_factory=list)  # filter_log_events on the event tap's group
    # filter_log_events on the log groups of create_order, start_saga, the steps and the reconciler
    logs: list[dict] = Field(default_factory=list)
