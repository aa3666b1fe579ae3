"""Orchestration's SagaStarter: one state machine execution per order."""

from __future__ import annotations

import json

import boto3

from ..events import OrderCreated


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str, client=None) -> None:
        self._client = client or boto3.client("stepfunctions")
        self._arn = state_machine_arn

    def start(self, event: OrderCreated) -> None:
        # The orderId as execution name makes a repeated start a no-op, not a second saga.
        try:
            self._client.start_execution(
                stateMachineArn=self._arn,
                name=event.order_id,
                input=json.dumps(event.to_json_dict()),
            )
        except self._client.exceptions.ExecutionAlreadyExists:
            pass
