"""Handler spans from the step Lambdas' structured logs (Powertools JSON lines).

Each step logs "step started" and "step done" with `correlation_id` = orderId and `step`;
create_order logs "order created" with `orderId`. Times come from the Powertools `timestamp`
field, written inside the handler: CloudWatch's own event timestamp is when the log batch was
shipped, which is the same for every line of an invocation (on LocalStack at least).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime

from tools.compare.model import Span

STARTED, DONE, CREATED = "step started", "step done", "order created"
_POWERTOOLS_TIME = "%Y-%m-%d %H:%M:%S,%f%z"


def parse_time(value: str) -> datetime:
    return datetime.strptime(value, _POWERTOOLS_TIME)


def json_records(messages: Iterable[str]) -> Iterator[dict]:
    """The Powertools JSON lines among a function's log messages (START, END, REPORT, tracebacks
    and anything else that is not a JSON object are skipped)."""
    for message in messages:
        message = message.strip()
        if not message.startswith("{"):
            continue
        try:
            yield json.loads(message)
        except json.JSONDecodeError:
            continue


def records_of(order_id: str, log_events: Iterable[dict]) -> list[dict]:
    """The JSON log records about `order_id`, oldest first. Other orders' lines are dropped here
    (LocalStack ignores filter patterns)."""
    out = [
        record
        for record in json_records(event.get("message", "") for event in log_events)
        if order_id in (record.get("correlation_id"), record.get("orderId")) and "timestamp" in record
    ]
    return sorted(out, key=lambda r: parse_time(r["timestamp"]))


def handler_spans(order_id: str, log_events: Iterable[dict]) -> list[Span]:
    """One span per step invocation, plus a `request` span for create_order.

    A run is keyed by its request id; Lambda's own async retries reuse the request id, so a
    "step started" always opens a new run and "step done" closes the latest open one."""
    spans: list[Span] = []
    open_runs: dict[str, dict] = {}
    for record in records_of(order_id, log_events):
        at = parse_time(record["timestamp"])
        message = record.get("message")
        request_id = record.get("function_request_id", "")
        if message == CREATED:
            spans.append(Span(kind="request", step="create_order", service=record.get("service", "orders"),
                              start=at, end=at, outcome="OrderCreated", detail=_cold(record)))  # fmt: skip
        elif message == STARTED:
            if request_id in open_runs:
                spans.append(_unfinished(open_runs.pop(request_id)))
            open_runs[request_id] = {**record, "_start": at}
        elif message == DONE and request_id in open_runs:
            run = open_runs.pop(request_id)
            spans.append(Span(kind="handler", step=run["step"], service=run.get("service", ""),
                              start=run["_start"], end=at, outcome=record.get("outcome", ""),
                              detail=_cold(run)))  # fmt: skip
    spans.extend(_unfinished(run) for run in open_runs.values())
    return sorted(spans, key=lambda s: s.start)


def _cold(record: dict) -> str:
    return "cold start" if record.get("cold_start") else ""


def _unfinished(run: dict) -> Span:
    # Started but never logged "step done": it raised (or is still running).
    return Span(kind="handler", step=run["step"], service=run.get("service", ""), start=run["_start"],
                end=run["_start"], outcome="error", detail="no 'step done' logged")  # fmt: skip
