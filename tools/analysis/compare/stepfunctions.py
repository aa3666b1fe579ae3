"""Orchestration trace: the Step Functions execution history plus the Lambdas' log spans; and the
hybrid's, which adds what follows the saga: its outcome event on the bus (from the event tap,
as choreography's events) and the notification service's run (from its logs).

The history is the orchestrator's own account: every state entered and exited, every Lambda
scheduled, started, succeeded or failed, with timestamps. Billing counts one transition per
state entered, and one more per retry. A task that calls a service instead of a Lambda (the
hybrid's events:putEvents) is one hop to that service, not a step and not an invocation.

A task state's step is the function it invoked (from the history), not its name: several
states run the same step (CancelPayment and RefundPayment run refund_payment; ReleaseInventory,
ReleaseAfterCancel and ReleaseAfterRefund run release_inventory), and state names change with
the state machine while the functions stay.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime

from shared.contract import HYBRID, ORCHESTRATED, ORCHESTRATION, unpascal
from shared.events import ROUTES
from tools import aws
from tools.analysis.compare.eventbus import FOLLOWERS, event_spans
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
# Deployed function name -> the saga step it runs, in every style a state machine drives.
STEP_OF_FUNCTION = {aws.function_name(style, step): step for style in sorted(ORCHESTRATED) for step in ROUTES}
LAMBDA = "lambda"  # a Task* event's resourceType when the task invokes a Lambda


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


def integration(event: dict) -> str:
    """The service a Task* event's task calls (`events` for putEvents), or "" for a Lambda."""
    if event["type"].startswith("LambdaFunction"):
        return ""
    resource_type = _details(event).get("resourceType") or LAMBDA
    return "" if resource_type == LAMBDA else resource_type


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
        if is_task and not attempts:
            counts.steps += 1  # a task state that never got to invoke its function
        # A task state whose function is not known: its step by its name (`ReserveInventory`); a
        # task calling a service, and any other state, by its name (`PublishOrderCompleted`).
        lambda_task = is_task and not current["integration"]
        step = (current["step"] or unpascal(current["name"])) if lambda_task else current["name"]
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
                "integration": "",
            }
            counts.transitions += 1
        elif kind in SCHEDULED:
            calls = integration(event)
            counts.invocations += not calls
            counts.hops += 1  # Step Functions -> the step's Lambda, or the service it calls
            if current is not None:
                current["attempts"] += 1
                if current["attempts"] == 1:
                    current["integration"] = calls
                    current["step"] = None if calls else step_of_scheduled(event)
                    counts.steps += not calls
                    counts.compensations += current["step"] in COMPENSATION_STEPS
                else:
                    counts.retries += 1
                    counts.transitions += 1  # each retry is billed as a transition
        elif kind in RESULTS:
            counts.hops += not integration(event)  # the Lambda's answer back to Step Functions
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
    started = sum(t in STARTED and not integration(e) for t, e in zip(types, capture.history, strict=True))
    ran = sum(1 for s in logged if s.kind == "handler" and s.step in ROUTES)
    if ran < started:
        warnings.append(f"{started} Lambda runs in the history, {ran} in the logs")
    warnings += missing_marks(logged)
    if capture.style == HYBRID:
        events, more = followers(capture, logged, counts)
        spans += events
        warnings += more
    return Trace(
        style=capture.style,
        order_id=capture.order_id,
        scenario=scenario,
        status=capture.record.get("status", ""),
        record=capture.record,
        spans=sorted(spans + logged, key=lambda s: (s.start, s.kind)),
        counts=counts,
        complete=not warnings,
        warnings=warnings,
    )


def followers(capture: Capture, logged: list[Span], counts: Counts) -> tuple[list[Span], list[str]]:
    """The hybrid's part after the saga: the outcome events on the bus (the event tap) and the runs
    of whoever follows them (their logs), added to `counts`; and what is missing yet. The state
    machine's putEvents is a hop of the history already; the bus's delivery to each run is one
    more."""
    events = event_spans(capture.order_id, capture.tap)
    runs = [s for s in logged if s.kind == "handler" and s.step not in ROUTES]
    counts.events += len(events)
    counts.invocations += len(runs)
    counts.hops += len(runs)
    warnings = []
    published = any(e["type"] == "TaskSucceeded" and integration(e) == "events" for e in capture.history)
    seen = {e.step for e in events}
    if published and not seen:
        warnings.append("the state machine published the outcome, but it is not on the event tap yet")
    for detail_type in sorted(seen):
        for follower in FOLLOWERS.get(detail_type, ()):
            if follower not in {r.step for r in runs}:
                warnings.append(f"{detail_type} on the bus, but no log of {follower}")
    return events, warnings
