"""Orchestration's SagaStarter and SagaDriver: one state machine execution per order (and one
more per recovery attempt)."""

from __future__ import annotations

import json
from datetime import datetime

import boto3

from ..domain.order import Order
from ..events import OrderCreated
from ..recovery import SagaState
from ..steps import outcome_event

# How an execution ends without reaching an end of the saga (every end is a Succeed state).
ENDED_BADLY = ("ABORTED", "FAILED", "TIMED_OUT")


def order_id_of(name: str) -> str:
    """The order an execution ran, from its name (execution_name)."""
    base, marker, attempt = name.rpartition("-r")
    return base if marker and attempt.isdigit() else name


def execution_name(order_id: str, attempt: int = 0) -> str:
    """The first execution is named by the orderId (a repeated start is a no-op, not a second
    saga); the reconciler's restarts add the attempt: `<orderId>-r<n>`."""
    return order_id if not attempt else f"{order_id}-r{attempt}"


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str, client=None) -> None:
        self._client = client or boto3.client("stepfunctions")
        self._arn = state_machine_arn

    def start(self, event: OrderCreated, name: str | None = None) -> bool:
        """False if an execution of that name exists already."""
        try:
            self._client.start_execution(
                stateMachineArn=self._arn,
                name=name or execution_name(event.order_id),
                input=json.dumps(event.to_json_dict()),
            )
            return True
        except self._client.exceptions.ExecutionAlreadyExists:
            return False

    def execution_arn(self, name: str) -> str:
        return f"{self._arn.replace(':stateMachine:', ':execution:')}:{name}"

    def ended_badly(self, since: datetime) -> list[str]:
        """Names of the executions stopped, failed or timed out since `since`, newest first."""
        names = []
        for status in ENDED_BADLY:
            pages = self._client.get_paginator("list_executions").paginate(
                stateMachineArn=self._arn, statusFilter=status
            )
            names += [e["name"] for page in pages for e in page["executions"] if e.get("stopDate", since) >= since]
        return names

    def execution_status(self, name: str) -> str | None:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, or None if there is no such execution."""
        try:
            return self._client.describe_execution(executionArn=self.execution_arn(name))["status"]
        except self._client.exceptions.ExecutionDoesNotExist:
            return None


class StepFunctionsDriver:
    """The reconciler's view of an orchestrated saga: the order's latest execution.

    A stopped saga gets a new execution from the first state: the steps replay what the order
    recorded and the state machine goes on from there (the same on AWS and LocalStack, which has
    no RedriveExecution)."""

    def __init__(self, starter: StepFunctionsStarter) -> None:
        self._starter = starter

    def state(self, order: Order) -> SagaState:
        status = self._starter.execution_status(execution_name(order.order_id, order.recovery_attempts or 0))
        if status == "RUNNING":
            return SagaState.RUNNING
        return SagaState.INTERRUPTED if status in ENDED_BADLY else SagaState.STOPPED

    def interrupted(self, since: datetime) -> list[str]:
        """Orders with an execution that ended badly since `since` (whether it was their latest:
        `state`)."""
        found = []
        for name in self._starter.ended_badly(since):
            order_id = order_id_of(name)
            if order_id not in found:
                found.append(order_id)
        return found

    def resume(self, order: Order) -> str:
        name = execution_name(order.order_id, order.recovery_attempts or 0)
        started = self._starter.start(outcome_event(order, OrderCreated), name=name)
        return f"started execution {name}" if started else f"execution {name} existed"
