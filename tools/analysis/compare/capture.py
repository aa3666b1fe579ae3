"""Reads what the deployed stacks recorded about an order, without touching the services:
the Step Functions history (orchestration, the hybrid), the event tap's log group (choreography,
the hybrid), and the log groups of create_order, the outbox relay start_saga, the steps, the
style's own functions (the hybrid's notify_customer) and the reconciler
(lambda_logs.traced_functions).

Logs and the history trail the order's final status by a moment (the status is written before
the last handler returns), so `trace` polls until the builder finds the record complete, with a
deadline; past it, the trace is kept and marked incomplete.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from shared.adapters.stepfunctions import execution_name
from shared.contract import ORCHESTRATED, ORCHESTRATION, STACKS, TERMINAL_STATUSES
from tools import aws
from tools.analysis.compare.lambda_logs import traced_functions
from tools.analysis.compare.model import Capture, Trace
from tools.analysis.compare.traces import build


def log_groups(style: str) -> list[str]:
    return [aws.log_group(style, name) for name in traced_functions(style)]


def log_events(group: str, order_id: str, since: datetime | None) -> list[aws.LogEvent]:
    """Events of `group` mentioning the order id, from a minute before `since` on."""
    since_ms = int((since - timedelta(minutes=1)).timestamp() * 1000) if since is not None else None
    return aws.log_events(group, since_ms=since_ms, containing=order_id)


def execution_history(order_id: str, style: str = ORCHESTRATION) -> list[dict]:
    execution = aws.state_machine(style).execution_arn(execution_name(order_id))
    events: list[dict] = []
    try:
        pages = aws.client("stepfunctions").get_paginator("get_execution_history").paginate(executionArn=execution)
        for page in pages:
            events += page["events"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
            raise aws.UnknownOrder(f"error: no Step Functions execution for order {order_id}") from None
        raise
    return events


def snapshot(style: str, order_id: str, record: dict) -> Capture:
    since = _created_at(record)
    logs = [e for group in log_groups(style) for e in log_events(group, order_id, since)]
    history = execution_history(order_id, style) if style in ORCHESTRATED else []
    if style == ORCHESTRATION:  # no bus
        return Capture(style=style, order_id=order_id, record=record, history=history, logs=logs)
    tap_group = aws.outputs(style).get("EventLogGroupName")
    if tap_group is None:
        raise aws.NotDeployed(f"error: {STACKS[style]} has no event tap: run `make deploy-{style}`")
    tap = log_events(tap_group, order_id, since)
    return Capture(style=style, order_id=order_id, record=record, history=history, tap=tap, logs=logs)


def trace(
    style: str, order_id: str, record: dict | None = None, *, scenario: str | None = None, timeout: float = 30
) -> tuple[Trace, Capture]:
    """The order's trace, once complete or when `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if not record or record.get("status") not in TERMINAL_STATUSES:
            record = aws.read_order(style, order_id)
        captured = snapshot(style, order_id, record)
        built = build(captured, scenario)
        if built.complete or time.monotonic() >= deadline:
            return built, captured
        time.sleep(0.5)


def _created_at(record: dict) -> datetime | None:
    try:
        return datetime.fromisoformat(record["createdAt"])
    except (KeyError, ValueError):
        return None
