"""Spans from the saga Lambdas' structured logs (Powertools JSON lines), and which functions' logs
tell an order's story. The messages are shared.contract's.

Each step logs "step started" and "step done" (or "step skipped") with `correlation_id` = orderId
and `step`, and so does the hybrid's notification service (`notify_customer`); create_order logs
"order created" with `orderId` once the order is stored; the outbox relay start_saga (fed by the
orders table's stream) logs "saga started" with `orderId` once it has started the saga
(StartExecution, or OrderCreated put on the bus); the reconciler logs "order recovered" with
`orderId` when it acts on an order. Times come from the Powertools `timestamp`
field, written inside the handler: CloudWatch's own event timestamp is when the log batch was
shipped, which is the same for every line of an invocation (on LocalStack at least).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime

from shared.contract import (
    CREATE_ORDER,
    EXTRA_FUNCTIONS,
    ORDER_CREATED,
    ORDER_RECOVERED,
    RECONCILE,
    SAGA_STARTED,
    START_SAGA,
    STEP_DONE,
    STEP_SKIPPED,
    STEP_STARTED,
)
from shared.events import ROUTES
from tools.analysis.compare.model import Span

# The functions whose logs tell an order's story, in the order they act on it.
TRACED_FUNCTIONS = (CREATE_ORDER, START_SAGA, *ROUTES, RECONCILE)


def traced_functions(style: str) -> tuple[str, ...]:
    """TRACED_FUNCTIONS, with the style's own (the hybrid's notify_customer) before the reconciler."""
    return (*TRACED_FUNCTIONS[:-1], *EXTRA_FUNCTIONS.get(style, ()), RECONCILE)


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
    """One span per step invocation, a `request` span for create_order, a `relay` span for each
    start_saga run that started the saga, a `recovery` span for each time the reconciler acted.

    A run is keyed by its request id; Lambda's own async retries reuse the request id, so a
    "step started" always opens a new run and "step done" (or "step skipped") closes the latest
    open one."""
    spans: list[Span] = []
    open_runs: dict[str, dict] = {}
    for record in records_of(order_id, log_events):
        at = parse_time(record["timestamp"])
        message = record.get("message")
        request_id = record.get("function_request_id", "")
        service = record.get("service", "orders")
        if message == ORDER_CREATED:
            spans.append(
                Span(
                    kind="request",
                    step=CREATE_ORDER,
                    service=service,
                    start=at,
                    end=at,
                    outcome="CREATED",
                    detail=_cold(record),
                )
            )
        elif message == SAGA_STARTED:
            detail = " ".join(filter(None, ["from the orders table's stream", _cold(record)]))
            spans.append(
                Span(
                    kind="relay",
                    step=record.get("step") or START_SAGA,
                    service=service,
                    start=at,
                    end=at,
                    outcome="OrderCreated",
                    detail=detail,
                )
            )
        elif message == ORDER_RECOVERED:
            what = " ".join(str(record[k]) for k in ("status", "action") if record.get(k))
            detail = ": ".join(filter(None, [what, str(record.get("detail") or "")]))
            spans.append(
                Span(
                    kind="recovery",
                    step=RECONCILE,
                    service=record.get("service", "reconciler"),
                    start=at,
                    end=at,
                    outcome=str(record.get("action", "")),
                    detail=detail,
                )
            )
        elif message == STEP_STARTED:
            if request_id in open_runs:
                spans.append(_unfinished(open_runs.pop(request_id)))
            open_runs[request_id] = {**record, "_start": at}
        elif message in (STEP_DONE, STEP_SKIPPED) and request_id in open_runs:
            run = open_runs.pop(request_id)
            outcome = record.get("outcome", "") if message == STEP_DONE else "skipped"
            detail = _cold(run) if message == STEP_DONE else str(record.get("reason", ""))
            spans.append(
                Span(
                    kind="handler",
                    step=run["step"],
                    service=run.get("service", ""),
                    start=run["_start"],
                    end=at,
                    outcome=outcome,
                    detail=detail,
                )
            )
    spans.extend(_unfinished(run) for run in open_runs.values())
    return sorted(spans, key=lambda s: s.start)


def missing_marks(spans: Iterable[Span]) -> list[str]:
    """What a complete trace has and these spans lack: create_order's and start_saga's lines."""
    kinds = {s.kind for s in spans}
    marks = (("request", ORDER_CREATED, CREATE_ORDER), ("relay", SAGA_STARTED, START_SAGA))
    return [f"no '{message}' log line of {function}" for kind, message, function in marks if kind not in kinds]


def _cold(record: dict) -> str:
    return "cold start" if record.get("cold_start") else ""


def _unfinished(run: dict) -> Span:
    # Started but never logged "step done": it raised (or is still running).
    return Span(
        kind="handler",
        step=run["step"],
        service=run.get("service", ""),
        start=run["_start"],
        end=run["_start"],
        outcome="error",
        detail=f"no '{STEP_DONE}' logged",
    )
