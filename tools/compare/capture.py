"""Reads what the deployed stacks recorded about an order, without touching the services:
the Step Functions history, the event tap's log group, and the log groups of create_order, the
outbox relay start_saga, the steps and the reconciler (lambda_logs.TRACED_FUNCTIONS).

Logs and the history trail the order's final status by a moment (the status is written before
the last handler returns), so `trace` polls until the builder finds the record complete, with a
deadline; past it, the trace is kept and marked incomplete.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import requests
from botocore.exceptions import ClientError

from tools import aws
from tools.compare.lambda_logs import TRACED_FUNCTIONS, log_group
from tools.compare.model import Capture, Trace
from tools.compare.traces import build
from tools.trigger import TERMINAL_STATUSES

# Keep only what the builders read: the fixtures stay small and the JSON output readable.
_LOG_KEYS = ("timestamp", "message")


class UnknownOrder(SystemExit):
    """An order id the deployed style does not know: one line, non-zero exit."""


def fetch_record(style: str, order_id: str) -> dict:
    answer = requests.get(f"{aws.api_url(style)}/orders/{order_id}", timeout=30)
    if answer.status_code == 404:
        raise UnknownOrder(f"error: no {style} order {order_id}")
    answer.raise_for_status()
    return answer.json()


def log_groups(style: str) -> list[str]:
    return [log_group(style, name) for name in TRACED_FUNCTIONS]


def log_events(group: str, order_id: str, since: datetime | None) -> list[dict]:
    """Events of `group` mentioning the order id. The pattern narrows it down on AWS; LocalStack
    ignores patterns, so the builders match the order id again."""
    kwargs = {"logGroupName": group, "filterPattern": f'"{order_id}"'}
    if since is not None:
        kwargs["startTime"] = int((since - timedelta(minutes=1)).timestamp() * 1000)
    out: list[dict] = []
    try:
        for page in aws.client("logs").get_paginator("filter_log_events").paginate(**kwargs):
            out += [{k: e[k] for k in _LOG_KEYS} for e in page["events"] if order_id in e["message"]]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise  # a group not created yet (no invocation so far) simply has no events
    return out


def execution_history(order_id: str) -> list[dict]:
    state_machine = aws.outputs("orchestration")["StateMachineArn"]
    execution = f"{state_machine.replace(':stateMachine:', ':execution:')}:{order_id}"
    events: list[dict] = []
    try:
        pages = aws.client("stepfunctions").get_paginator("get_execution_history").paginate(executionArn=execution)
        for page in pages:
            events += page["events"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
            raise UnknownOrder(f"error: no Step Functions execution for order {order_id}") from None
        raise
    return events


def snapshot(style: str, order_id: str, record: dict) -> Capture:
    since = _created_at(record)
    logs = [e for group in log_groups(style) for e in log_events(group, order_id, since)]
    if style == "orchestration":
        return Capture(style=style, order_id=order_id, record=record, history=execution_history(order_id), logs=logs)
    tap_group = aws.outputs(style).get("EventLogGroupName")
    if tap_group is None:
        raise aws.NotDeployed("error: SagaChoreography has no event tap: run `make deploy-choreography`")
    tap = log_events(tap_group, order_id, since)
    return Capture(style=style, order_id=order_id, record=record, tap=tap, logs=logs)


def trace(style: str, order_id: str, record: dict | None = None, *, scenario: str | None = None,
          timeout: float = 30) -> tuple[Trace, Capture]:  # fmt: skip
    """The order's trace, once complete or when `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if not record or record.get("status") not in TERMINAL_STATUSES:
            record = fetch_record(style, order_id)
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
