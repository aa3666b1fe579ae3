"""Choreography's publisher and SagaDriver: every outcome goes on the one bus, and the bus
decides who hears it."""

from __future__ import annotations

import json
from datetime import datetime

import boto3

from ..domain.order import Order
from ..events import Message, OrderCreated
from ..recovery import SagaState, waiting_on


class PublishFailed(Exception):
    pass


class EventBridgePublisher:
    def __init__(self, bus_name: str, client=None) -> None:
        self._client = client or boto3.client("events")
        self._bus = bus_name

    def publish(self, event: Message) -> None:
        answer = self._client.put_events(
            Entries=[
                {
                    "EventBusName": self._bus,
                    "Source": event.source,
                    "DetailType": event.detail_type(),
                    "Detail": json.dumps(event.to_json_dict()),
                }
            ]
        )
        # PutEvents answers 200 even when an entry was refused; the count says so.
        if answer.get("FailedEntryCount"):
            raise PublishFailed(json.dumps(answer["Entries"]))

    def start(self, event: OrderCreated) -> None:
        self.publish(event)


class EventBusDriver:
    """The reconciler's view of a choreographed saga: no one holds its state, so a stuck order
    gets the event its status waits on published again (every step is idempotent)."""

    def __init__(self, publisher: EventBridgePublisher) -> None:
        self._publisher = publisher

    def state(self, order: Order) -> SagaState:
        return SagaState.UNKNOWN

    def interrupted(self, since: datetime) -> list[str]:
        return []  # a bus keeps no runs: a stopped order is open, and the first pass resumes it

    def resume(self, order: Order) -> str:
        event = waiting_on(order)
        self._publisher.publish(event)
        return f"re-published {event.detail_type()}"
