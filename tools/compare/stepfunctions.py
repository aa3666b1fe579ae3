"""Orchestration trace: the Step Functions execution history plus the handlers' log spans.

The history is the orchestrator's own account: every state entered and exited, every Lambda
scheduled, started, succeeded or failed, with timestamps. Billing counts one transition per
state entered, and one more per retry.
"""

from __future__ import annotations

from datetime import datetime

from tools.compare.lambda_logs import handler_spans
from tools.compare.model import COMPENSATION_STEPS, STEP_FUNCTIONS, Capture, Counts, Span, Trace

SCHEDULED = ("LambdaFunctionScheduled", "TaskScheduled")
STARTED = ("LambdaFunctionStarted", "TaskStarted")
RESULTS = ("LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut",
           "TaskSucceeded", "TaskFailed", "TaskTimedOut")  # fmt: skip
EXECUTION_END = ("ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")


def timestamp(event: dict) -> datetime:
    value = event["timestamp"]
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def step_of_state(name: str) -> str:
    """`ReserveInventory` -> `reserve_inventory` (the inverse of shared.infra.lambdas.construct_id)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _details(event: dict) -> dict:
    return next((v for k, v in event.items() if k.endswith("EventDetails")), {})


def state_spans(history: list[dict]) -> tuple[list[Span], Counts]:
    """One span per state visit, and the counts the history alone can tell."""
    events = sorted(history, key=lambda e: e["id"])
    spans: list[Span] = []
    counts = Counts()
    current: dict | None = None  # the state being visited: name, type, start, attempts, error

    def close(end: datetime) -> None:
        nonlocal current
        if current is None:
            return
        is_task = current["type"] == "Task"
        attempts = current["attempts"]
        detail = f"{attempts} attempts" if attempts > 1 else ""
        spans.append(Span(kind="state", step=step_of_state(current["name"]) if is_task else current["name"],
                          service=STEP_FUNCTIONS, start=current["start"], end=end,
                          outcome=current["error"] or ("ok" if is_task else current["type"].lower()),
                          detail=" ".join(filter(None, [current["name"], detail]))))  # fmt: skip
        current = None

    for event in events:
        kind, at = event["type"], timestamp(event)
        if kind.endswith("StateEntered"):
            close(at)
            current = {"name": _details(event)["name"], "type": kind.removesuffix("StateEntered"),
                       "start": at, "attempts": 0, "error": ""}  # fmt: skip
            counts.transitions += 1
            if current["type"] == "Task":
                counts.steps += 1
                counts.compensations += step_of_state(current["name"]) in COMPENSATION_STEPS
        elif kind in SCHEDULED:
            counts.invocations += 1
            counts.hops += 1  # Step Functions -> the step's Lambda
            if current is not None:
                current["attempts"] += 1
                if current["attempts"] > 1:
                    counts.retries += 1
                    counts.transitions += 1  # each retry is billed as a transition
        elif kind in RESULTS:
            counts.hops += 1  # the Lambda's answer back to Step Functions
            if kind.endswith(("Failed", "TimedOut")) and current is not None:
                current["error"] = _details(event).get("error", kind)
        elif kind.endswith("StateExited"):
            close(at)
        elif kind == "ExecutionStarted":
            counts.hops += 1  # create_order -> Step Functions (StartExecution)
        elif kind in EXECUTION_END:
            if current is not None and not current["error"]:
                current["error"] = _details(event).get("error", "")
            close(at)
    return spans, counts


def build(capture: Capture, scenario: str = "") -> Trace:
    spans, counts = state_spans(capture.history)
    handlers = handler_spans(capture.order_id, capture.logs)
    counts.invocations += sum(1 for s in handlers if s.kind == "request")  # create_order
    warnings = []
    types = [e["type"] for e in capture.history]
    if not any(t in EXECUTION_END for t in types):
        warnings.append("the execution has not ended")
    started = sum(t in STARTED for t in types)
    logged = sum(1 for s in handlers if s.kind == "handler")
    if logged < started:
        warnings.append(f"{started} Lambda runs in the history, {logged} in the logs")
    if not any(s.kind == "request" for s in handlers):
        warnings.append("no 'order created' log line of create_order")
    return Trace(style="orchestration", order_id=capture.order_id, scenario=scenario,
                 status=capture.record.get("status", ""), record=capture.record,
                 spans=sorted(spans + handlers, key=lambda s: (s.start, s.kind)), counts=counts,
                 complete=not warnings, warnings=warnings)  # fmt: skip
