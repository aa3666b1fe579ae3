"""The trace model both styles are reduced to, so they can be compared field by field.

A trace is one order's saga: spans (who did what, when) and counts (what it cost in messages).
Times are UTC datetimes with millisecond precision, from the services' own clocks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Style = Literal["orchestration", "choreography"]
# handler: a Lambda running a step (from its logs); state: a Step Functions state (from the
# history); event: an event seen on the bus (from the tap; start == end); request: the API call
# that created the order (its log line; start == end).
SpanKind = Literal["handler", "state", "event", "request"]

# Steps that undo an earlier one (shared/steps.py: release_inventory gives back the reservation).
COMPENSATION_STEPS = frozenset({"release_inventory"})
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
    steps: int = 0  # saga steps that ran (create_order not included), each counted once
    invocations: int = 0  # Lambda invocations, create_order and retries included
    hops: int = 0  # deliveries from one service to another (see README: Comparing the two styles)
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
        """Lambda runs of saga steps (not create_order), in start order."""
        return sorted((s for s in self.spans if s.kind == "handler"), key=lambda s: s.start)

    def compensated(self) -> list[str]:
        return [s.step for s in self.handlers() if s.step in COMPENSATION_STEPS]


class Capture(BaseModel):
    """What AWS recorded about one order, in the services' own formats (the test fixtures are
    these, saved as JSON): the builders turn it into a Trace without calling AWS."""

    style: Style
    order_id: str
    record: dict = Field(default_factory=dict)  # GET /orders/{orderId}
    history: list[dict] = Field(default_factory=list)  # get_execution_history events
    tap: list[dict] = Field(default_factory=list)  # filter_log_events on the event tap's group
    logs: list[dict] = Field(default_factory=list)  # filter_log_events on the step functions' groups
