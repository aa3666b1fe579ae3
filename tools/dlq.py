"""What choreography parked in its dead-letter queue, and redriving it.

    python -m tools.dlq            # list
    python -m tools.dlq redrive    # send each message back where it failed, then delete it

Two kinds of message land there: events EventBridge could not deliver (the body is the event;
its attributes name the target), and invocations a step's Lambda failed after its retries (the
on-failure destination's record: `requestPayload` is the event, `requestContext.functionArn`
the function). Redriving is safe because every step is idempotent.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from tools import aws


@dataclass
class Parked:
    receipt: str
    event: dict
    target_arn: str
    error: str

    @property
    def target_name(self) -> str:
        """`...:function:NAME[:qualifier]` -> NAME (other targets: the last ARN part)."""
        if ":function:" in self.target_arn:
            return self.target_arn.split(":function:", 1)[1].split(":", 1)[0]
        return self.target_arn.rsplit(":", 1)[-1]

    @property
    def order_id(self) -> str:
        return str(self.event.get("detail", {}).get("orderId", "?"))


def parse(message: dict) -> Parked:
    body = json.loads(message["Body"])
    attributes = message.get("MessageAttributes", {})
    if "requestPayload" in body:  # Lambda on-failure destination record
        context, response = body["requestContext"], body.get("responsePayload") or {}
        error = f"{response.get('errorType', context.get('condition'))}: {response.get('errorMessage', '')}"
        return Parked(message["ReceiptHandle"], body["requestPayload"], context["functionArn"], error)
    target = attributes.get("TARGET_ARN", {}).get("StringValue", "")
    error = attributes.get("ERROR_MESSAGE", attributes.get("ERROR_CODE", {})).get("StringValue", "delivery failed")
    return Parked(message["ReceiptHandle"], body, target, error)


def receive_all(queue_url: str) -> list[Parked]:
    sqs, parked, seen = aws.client("sqs"), [], set()
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30,
            MessageAttributeNames=["All"], WaitTimeSeconds=0,
        ).get("Messages", [])  # fmt: skip
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            return parked
        seen.update(m["MessageId"] for m in fresh)
        parked.extend(parse(m) for m in fresh)


def release(queue_url: str, parked: list[Parked]) -> None:
    """Make listed messages visible again at once (listing must not hide them for 30 s)."""
    sqs = aws.client("sqs")
    for item in parked:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=item.receipt, VisibilityTimeout=0)


def redrive(queue_url: str, parked: list[Parked]) -> int:
    lam, sqs = aws.client("lambda"), aws.client("sqs")
    for item in parked:
        lam.invoke(FunctionName=item.target_arn, InvocationType="Event", Payload=json.dumps(item.event).encode())
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=item.receipt)
    return len(parked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=["list", "redrive"], default="list")
    args = parser.parse_args()
    queue_url = aws.outputs("choreography")["DeadLetterQueueUrl"]
    parked = receive_all(queue_url)
    if args.action == "redrive":
        print(f"redriven: {redrive(queue_url, parked)} message(s)")
        return
    release(queue_url, parked)
    table = Table(title=f"dead-letter queue: {len(parked)} message(s)")
    for column in ("order", "event", "target", "error"):
        table.add_column(column)
    for item in parked:
        first_line = item.error.splitlines()[0] if item.error else ""
        table.add_row(item.order_id, item.event.get("detail-type", "?"), item.target_name, first_line)
    Console().print(table)


if __name__ == "__main__":
    main()
