"""Choreography's publisher: every outcome goes on the one bus, and the bus decides who hears it."""

from __future__ import annotations

import json

import boto3

from ..events import Message, OrderCreated


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
