"""Handler time and hops, per order, from the saga Lambdas' structured logs.

Every step logs "step started" and "step done" (Powertools JSON, `correlation_id` = orderId,
`timestamp` taken inside the handler); create_order logs "order created" (`orderId`) once the
order is stored; the outbox relay start_saga, fed by the orders table's stream, logs "saga
started" (`orderId`) once it has started the saga (StartExecution, or OrderCreated put on the bus).
On the happy path, with these marks:

    created --hop1--> saga started --hop2--> reserve [started..done] --hop3--> charge [started..done]
            --hop4--> notify [started..done]

handler time is the sum of the three step bodies, each hop the gap from one mark (or handler's
last mark) to the next one's first, and the saga window (created -> notify done) is exactly
handlers + hops (with no retries: a failed attempt and the wait for its retry fall into the hop;
`retries` counts the invocations beyond one per step, so such a run is visible).
hop1 is the outbox's hand-off, the same in every style: create_order returning, the orders
table's stream, the event source mapping invoking start_saga, and start_saga's own run up to its
one log line, its StartExecution or PutEvents call included (it logs nothing before it).
The other hops are everything between two handler bodies: the handler returning, the executor's
HTTP round trips to LocalStack (logs, result, next invoke), Step Functions or EventBridge and
LocalStack's Lambda service in between, and Powertools' event parsing before "step started".
Choreography's PutEvents call sits inside the publishing handler's body (it is logged before
"step done"); orchestration's hand-back to Step Functions sits in the hop.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from shared.contract import (
    CREATE_ORDER,
    FORWARD_STEPS,
    ORDER_CREATED,
    SAGA_STARTED,
    START_SAGA,
    STEP_DONE,
    STEP_STARTED,
)
from tools import aws
from tools.analysis.compare import lambda_logs
from tools.analysis.compare.lambda_logs import json_records

STEPS = FORWARD_STEPS  # the steps of a happy saga
# Hand-offs of a happy saga: create_order -> (the stream) start_saga, the outbox's, then start_saga
# -> reserve -> charge -> notify, through Step Functions or the bus.
OUTBOX_HOPS, STEP_HOPS = 1, len(STEPS)
HOPS = OUTBOX_HOPS + STEP_HOPS


def log_groups(style: str) -> list[str]:
    return [aws.log_group(style, name) for name in (CREATE_ORDER, START_SAGA, *STEPS)]


@dataclass
class OrderMarks:
    created: float | None = None  # "order created", epoch s
    saga_started: float | None = None  # start_saga's first "saga started"
    started: dict[str, float] = field(default_factory=dict)  # step -> first "step started"
    done: dict[str, float] = field(default_factory=dict)  # step -> last "step done"
    # (step, request id) -> [started, done] of each invocation; a retry is another request id
    runs: dict[tuple[str, str], list[float | None]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return (
            self.created is not None
            and self.saga_started is not None
            and all(s in self.started and s in self.done for s in STEPS)
        )

    @property
    def retries(self) -> int:
        """Step invocations beyond one per step (a failed attempt, a duplicate delivery)."""
        return max(0, len(self.runs) - len(STEPS))

    def handler_ms(self) -> float:
        """Time inside the step handlers: each finished invocation's body, retries included."""
        return sum(done - start for start, done in self.runs.values() if start is not None and done is not None) * 1000

    def hops_ms(self) -> list[float]:
        """The HOPS hand-offs, in order: the outbox's (created -> saga started, OUTBOX_HOPS), then
        one into each step (STEP_HOPS)."""
        # start_saga logs `saga started` once its start call returned, and a fast hand-off can run
        # the first step before that: the outbox's hop then ends where the first step starts, and
        # the hop into that step took no measurable time beyond the call (0), so the hops still
        # tile the saga's window.
        outbox_end = min(self.saga_started, self.started[STEPS[0]])
        previous = [outbox_end] + [self.done[s] for s in STEPS[:-1]]
        return [(outbox_end - self.created) * 1000] + [
            max(self.started[s] - before, 0.0) * 1000 for s, before in zip(STEPS, previous, strict=True)
        ]

    def window_ms(self) -> float:
        return (self.done[STEPS[-1]] - self.created) * 1000


def parse_time(value: str) -> float:
    return lambda_logs.parse_time(value).timestamp()


def marks_from(messages: Iterable[str], order_ids: set[str], into: dict[str, OrderMarks]) -> None:
    for record in json_records(messages):
        # create_order's correlation id is the API request id and start_saga has none: their lines
        # name the order itself.
        order_id = record.get("orderId") if record.get("orderId") in order_ids else record.get("correlation_id")
        if order_id not in order_ids or "timestamp" not in record:
            continue
        at = parse_time(record["timestamp"])
        marks = into.setdefault(order_id, OrderMarks())
        what, step = record.get("message"), record.get("step")
        run = (
            marks.runs.setdefault((step, record.get("function_request_id", "")), [None, None])
            if step in STEPS
            else None
        )
        if what == ORDER_CREATED:
            marks.created = at
        elif what == SAGA_STARTED:
            marks.saga_started = min(at, marks.saga_started or at)
        elif what == STEP_STARTED and run is not None:
            marks.started[step] = min(at, marks.started.get(step, at))
            run[0] = at
        elif what == STEP_DONE and run is not None:
            marks.done[step] = max(at, marks.done.get(step, at))
            run[1] = at


def collect(style: str, order_ids: set[str], since: float, deadline_s: float = 20.0) -> dict[str, OrderMarks]:
    """Marks of every order in `order_ids` (epoch `since` bounds the log read). Logs reach
    CloudWatch a moment after the status they report, so this re-reads until every order is
    complete or the deadline passes; incomplete orders are returned as they are."""
    give_up = time.monotonic() + deadline_s
    since_ms = int((since - 5) * 1000)
    while True:
        marks: dict[str, OrderMarks] = {}
        for group in log_groups(style):
            marks_from([e["message"] for e in aws.log_events(group, since_ms=since_ms)], order_ids, marks)
        if all(order_id in marks and marks[order_id].complete for order_id in order_ids):
            return marks
        if time.monotonic() >= give_up:
            return marks
        time.sleep(1.0)
