"""Orchestration trace: the Step Functions execution history plus the Lambdas' log spans.

The history is the orchestrator's own account: every state entered and exited, every Lambda
scheduled, started, succeeded or failed, with timestamps. Billing counts one transition per
state entered, and one more per retry.

A task state's step is the function it invoked (from the history), not its name: several
states run the same step (CancelPayment and RefundPayment run refund_payment; ReleaseInventory,
ReleaseAfterCancel and ReleaseAfterRefund run release_inventory), and state names change with
the state machine while the functions stay.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime

from shared.contract import ORCHESTRATION, unpascal
from shared.events import ROUTES
from tools import aws
from tools.analysis.compare.lambda_logs import handler_spans, missing_marks
from tools.analysis.compare.model import COMPENSATION_STEPS, STEP_FUNCTIONS, Capture, Counts, Span, Trace

STYLE = ORCHESTRATION
SCHEDULED = ("LambdaFunctionScheduled", "TaskScheduled")
STARTED = ("LambdaFunctionStarted", "TaskStarted")
RESULTS = (
    "LambdaFunctionSucceeded",
    "LambdaFunctionFailed",
    "LambdaFunctionTimedOut",
    "TaskSucceeded",
    "TaskFailed",
    "TaskTimedOut",
)
EXECUTION_END = ("ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")
# Deployed function name -> the saga step it runs.
STEP_OF_FUNCTION = {aws.function_name(STYLE, step): step for step in ROUTES}


def timestamp(event: dict) -> datetime:
    value = event["timestamp"]
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def step_of_scheduled(event: dict) -> str | None:
    """The step whose function a Scheduled event invokes: the function ARN is the `resource`
    (LambdaFunctionScheduled), or the `FunctionName` parameter of lambda:invoke (TaskScheduled)."""
    details = _details(event)
    names = [details.get("resource", "")]
    with contextlib.suppress(ValueError, AttributeError):
        names.append(json.loads(details.get("parameters") or "{}").get("FunctionName", ""))
    for name in names:
        function = str(name).split(":function:")[-1].split(":")[0]
        if function in STEP_OF_FUNCTION:
            return STEP_OF_FUNCTION[function]
    return None


def _details(event: dict) -> dict:
    return next((v for k, v in event.items() if k.endswith("EventDetails")), {})


def state_spans(history: list[dict]) -> tuple[list[Span], Counts]:
    """One span per state visit, and the counts the history alone can tell."""
    events = sorted(history, key=lambda e: e["id"])
    spans: list[Span] = []
    counts = Counts()
    current: dict | None = None  # the state being visited: name, type, step, start, attempts, error

    def close(end: datetime) -> None:
        nonlocal current
        if current is None:
            return
        is_task = current["type"] == "Task"
        attempts = current["attempts"]
        detail = f"{attempts} attempts" if attempts > 1 else ""
        # A task state that invoked no function: its step by its name (`ReserveInventory`).
        step = (current["step"] or unpascal(current["name"])) if is_task else current["name"]
        spans.append(
            Span(
                kind="state",
                step=step,
                service=STEP_FUNCTIONS,
                start=current["start"],
                end=end,
                outcome=current["error"] or ("ok" if is_task else current["type"].lower()),
                detail=" ".join(filter(None, [current["name"], detail])),
            )
        )
        current = None

    for event in events:
        kind, at = event["type"], timestamp(event)
        if kind.endswith("StateEntered"):
            close(at)
            current = {
                "name": _details(event)["name"],
                "type": kind.removesuffix("StateEntered"),
                "step": None,
                "start": at,
                "attempts": 0,
                "error": "",
            }
            counts.transitions += 1
            if current["type"] == "Task":
                counts.steps += 1
        elif kind in SCHEDULED:
            counts.invocations += 1
            counts.hops += 1  # Step Functions -> the step's Lambda
            if current is not None:
                current["attempts"] += 1
                if current["attempts"] == 1:
                    current["step"] = step_of_scheduled(event)
                    counts.compensations += current["step"] in COMPENSATION_STEPS
                else:
                    counts.retries += 1
                    counts.transitions += 1  # each retry is billed as a transition
        elif kind in RESULTS:
            counts.hops += 1  # the Lambda's answer back to Step Functions
            if kind.endswith(("Failed", "TimedOut")) and current is not None:
                current["error"] = _details(event).get("error", kind)
        elif kind.endswith("StateExited"):
            close(at)
        elif kind == "ExecutionStarted":
            counts.hops += 1  # start_saga -> Step Functions (StartExecution)
        elif kind in EXECUTION_END:
            if current is not None and not current["error"]:
                current["error"] = _details(event).get("error", "")
            close(at)
    return spans, counts


def build(capture: Capture, scenario: str = "") -> Trace:
    spans, counts = state_spans(capture.history)
    logged = handler_spans(capture.order_id, capture.logs)
    requests = sum(1 for s in logged if s.kind == "request")
    relays = sum(1 for s in logged if s.kind == "relay")
    counts.invocations += requests + relays  # create_order, start_saga
    # create_order -> the orders table's stream (one write), then the stream -> start_saga per run;
    # start_saga -> Step Functions is the history's ExecutionStarted.
    counts.hops += requests + relays
    warnings = []
    types = [e["type"] for e in capture.history]
    if not any(t in EXECUTION_END for t in types):
        warnings.append("the execution has not ended")
    started = sum(t in STARTED for t in types)
    ran = sum(1 for s in logged if s.kind == "handler")
    if ran < started:
        warnings.append(f"{started} Lambda runs in the history, {ran} in the logs")
    warnings += missing_marks(logged)
    return Trace(
        style=STYLE,
        order_id=capture.order_id,
        scenario=scenario,
        status=capture.record.get("status", ""),
        record=capture.record,
        spans=sorted(spans + logged, key=lambda s: (s.start, s.kind)),
        counts=counts,
        complete=not warnings,
        warnings=warnings,
    )
