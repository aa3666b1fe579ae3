"""What the stacks parked in their dead-letter queues, and redriving it.

    python -m tools.operator.dlq [--style S]            # list
    python -m tools.operator.dlq [--style S] redrive    # send each message back where it failed, then delete it

Three kinds of message land there: events EventBridge could not deliver (choreography, and the
hybrid's outcomes for its notification service; the body is the event, its attributes name the
target), invocations a subscriber's Lambda failed after its retries (the same two; the on-failure
destination's record: `requestPayload` is the event, `requestContext.functionArn` the function),
and stream batches the outbox relay could not start (every style; the record names the stream
positions, not the orders). Redriving is safe because
every step is idempotent; a stream batch cannot be replayed from the queue (the stream keeps
records 24 hours), so redrive only removes it: the orders it held stay CREATED and the reconciler
starts them.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from rich.table import Table

from tools import aws
from tools.console import console


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
    if "DDBStreamBatchInfo" in body:  # the outbox relay's stream mapping gave up on a batch
        info, context = body["DDBStreamBatchInfo"], body.get("requestContext", {})
        records = f"{info.get('startSequenceNumber')}..{info.get('endSequenceNumber')}"
        error = f"{context.get('condition', 'failed')}: stream records {records}"
        return Parked(message["ReceiptHandle"], {}, context.get("functionArn", info.get("streamArn", "")), error)
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
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=30,
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
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
        if item.event:  # a stream batch has nothing to send back (see the module docstring)
            lam.invoke(FunctionName=item.target_arn, InvocationType="Event", Payload=json.dumps(item.event).encode())
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=item.receipt)
    return len(parked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=["list", "redrive"], default="list")
    parser.add_argument("--style", choices=aws.STYLES, action="append")
    args = parser.parse_args()
    for style in args.style or aws.STYLES:
        show_or_redrive(style, args.action)


def show_or_redrive(style: str, action: str) -> None:
    queue_url = aws.outputs(style)["DeadLetterQueueUrl"]
    parked = receive_all(queue_url)
    if action == "redrive":
        print(f"{style}: redriven: {redrive(queue_url, parked)} message(s)")
        return
    release(queue_url, parked)
    table = Table(title=f"{style} dead-letter queue: {len(parked)} message(s)")
    for column in ("order", "event", "target", "error"):
        table.add_column(column)
    for item in parked:
        first_line = item.error.splitlines()[0] if item.error else ""
        table.add_row(item.order_id, item.event.get("detail-type", "stream batch"), item.target_name, first_line)
    console().print(table)


if __name__ == "__main__":
    main()
