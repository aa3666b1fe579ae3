"""Handler time and hops, per order, from the step Lambdas' structured logs.

Every step logs "step started" and "step done" (Powertools JSON, `correlation_id` = orderId,
`timestamp` taken inside the handler); create_order logs "order created" (`orderId`) once the
saga is started. On the happy path, with these marks:

    created --hop1--> reserve [started..done] --hop2--> charge [started..done] --hop3--> notify [started..done]

handler time is the sum of the three step bodies, each hop the gap from one handler's last mark
to the next one's first, and the saga window (created -> notify done) is exactly handlers + hops
(with no retries: a failed attempt and the wait for its retry fall into the hop; `retries` counts
the invocations beyond one per step, so such a run is visible).
A hop is therefore everything between two handler bodies: the handler returning, the executor's
HTTP round trips to LocalStack (logs, result, next invoke), Step Functions or EventBridge and
LocalStack's Lambda service in between, and Powertools' event parsing before "step started".
Choreography's PutEvents call sits inside the publishing handler's body (it is logged before
"step done"); orchestration's hand-back to Step Functions sits in the hop.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from tools import aws
from tools.compare import lambda_logs
from tools.compare.lambda_logs import json_records

STEPS = ("reserve_inventory", "charge_payment", "notify_shipping")
HOPS = len(STEPS)  # create_order -> reserve, reserve -> charge, charge -> notify


def log_groups(style: str) -> list[str]:
    stack = aws.STACKS[style]
    return [f"/aws/lambda/{stack}-{name.replace('_', '-')}" for name in ("create_order", *STEPS)]


@dataclass
class OrderMarks:
    created: float | None = None  # "order created", epoch s
    started: dict[str, float] = field(default_factory=dict)  # step -> first "step started"
    done: dict[str, float] = field(default_factory=dict)  # step -> last "step done"
    # (step, request id) -> [started, done] of each invocation; a retry is another request id
    runs: dict[tuple[str, str], list[float | None]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.created is not None and all(s in self.started and s in self.done for s in STEPS)

    @property
    def retries(self) -> int:
        """Step invocations beyond one per step (a failed attempt, a duplicate delivery)."""
        return max(0, len(self.runs) - len(STEPS))

    def handler_ms(self) -> float:
        """Time inside the step handlers: each finished invocation's body, retries included."""
        return sum(done - start for start, done in self.runs.values() if start is not None and done is not None) * 1000

    def hops_ms(self) -> list[float]:
        previous = [self.created] + [self.done[s] for s in STEPS[:-1]]
        return [(self.started[s] - before) * 1000 for s, before in zip(STEPS, previous)]

    def window_ms(self) -> float:
        return (self.done[STEPS[-1]] - self.created) * 1000


def parse_time(value: str) -> float:
    return lambda_logs.parse_time(value).timestamp()


def marks_from(messages: Iterable[str], order_ids: set[str], into: dict[str, OrderMarks]) -> None:
    for record in json_records(messages):
        # create_order's correlation id is the API request id; its line names the order itself.
        order_id = record.get("orderId") if record.get("orderId") in order_ids else record.get("correlation_id")
        if order_id not in order_ids or "timestamp" not in record:
            continue
        at = parse_time(record["timestamp"])
        marks = into.setdefault(order_id, OrderMarks())
        what, step = record.get("message"), record.get("step")
        run = marks.runs.setdefault((step, record.get("function_request_id", "")), [None, None]) if step in STEPS else None
        if what == "order created":
            marks.created = at
        elif what == "step started" and run is not None:
            marks.started[step] = min(at, marks.started.get(step, at))
            run[0] = at
        elif what == "step done" and run is not None:
            marks.done[step] = max(at, marks.done.get(step, at))
            run[1] = at


def _messages(group: str, since_ms: int) -> list[str]:
    out: list[str] = []
    try:
        pages = aws.client("logs").get_paginator("filter_log_events").paginate(logGroupName=group, startTime=since_ms)
        for page in pages:
            out += [e["message"] for e in page["events"]]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    return out


def collect(style: str, order_ids: set[str], since: float, deadline_s: float = 20.0) -> dict[str, OrderMarks]:
    """Marks of every order in `order_ids` (epoch `since` bounds the log read). Logs reach
    CloudWatch a moment after the status they report, so this re-reads until every order is
    complete or the deadline passes; incomplete orders are returned as they are."""
    give_up = time.monotonic() + deadline_s
    since_ms = int((since - 5) * 1000)
    while True:
        marks: dict[str, OrderMarks] = {}
        for group in log_groups(style):
            marks_from(_messages(group, since_ms), order_ids, marks)
        if all(order_id in marks and marks[order_id].complete for order_id in order_ids):
            return marks
        if time.monotonic() >= give_up:
            return marks
        time.sleep(1.0)
