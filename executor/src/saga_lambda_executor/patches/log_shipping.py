"""Log lines shipped to CloudWatch Logs with one PutLogEvents per log stream for all that is
waiting, instead of one per Lambda invocation and one per EventBridge event.

LocalStack's Lambda service queues each invocation's output and a thread sends it, one
PutLogEvents per invocation; the EventBridge CloudWatch Logs target sends each event as it comes.
Each of those requests goes through LocalStack's whole handler chain (signing, parsing, moto's
backend lock): with the choreography's event tap that made about a tenth of LocalStack's CPU under
load. Here one thread per log handler (and per event target) takes everything queued and writes
it per stream in one request: when idle, a line still goes out at once; under load, requests stay
few. Within a stream the lines keep their order, with their own timestamps.
"""

from __future__ import annotations

import contextlib
import logging
import queue
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

LOG = logging.getLogger(__name__)

MAX_EVENTS_PER_REQUEST = 1000  # well under PutLogEvents' limits (10,000 events, 1 MiB)


@dataclass(frozen=True)
class Line:
    group: str
    stream: str
    timestamp: int  # epoch ms
    message: str


def waiting(lines: queue.Queue) -> Iterator:
    """What the queue holds: blocks for the first item, then takes the rest without waiting."""
    yield lines.get()
    while True:
        try:
            yield lines.get_nowait()
        except queue.Empty:
            return


def ship(client, lines: list[Line]) -> None:
    """One PutLogEvents per stream (per MAX_EVENTS_PER_REQUEST lines), creating the group and the
    stream when missing."""
    ordered = sorted(lines, key=lambda line: (line.group, line.stream))  # stable: order kept per stream
    for (group, stream), same in groupby(ordered, key=lambda line: (line.group, line.stream)):
        events = [{"timestamp": line.timestamp, "message": line.message} for line in same]
        for start in range(0, len(events), MAX_EVENTS_PER_REQUEST):
            _write(client, group, stream, events[start : start + MAX_EVENTS_PER_REQUEST])


def _write(client, group: str, stream: str, events: list[dict]) -> None:
    try:
        try:
            client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        except client.exceptions.ResourceNotFoundException:
            with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
                client.create_log_group(logGroupName=group)
            with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
                client.create_log_stream(logGroupName=group, logStreamName=stream)
            client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    except Exception as error:  # as LocalStack's own loop: a lost write must not stop the shipping
        LOG.warning("Error saving %d log lines to %s/%s: %s", len(events), group, stream, error)


def ship_forever(client, lines: queue.Queue) -> None:
    """The loop of a daemon thread: it ends with the process."""
    while True:
        ship(client, list(waiting(lines)))


def _lambda_log_loop(self, *args, **kwargs) -> None:
    """LogHandler.run_log_loop: the invocations' output queued as LogItems, shipped in rounds."""
    from localstack.aws.connect import connect_to
    from localstack.services.lambda_.invocation.logs import QUEUE_SHUTDOWN
    from localstack.utils.aws.client_types import ServicePrincipal
    from localstack.utils.time import now_utc

    client = connect_to.with_assumed_role(
        region_name=self.region, role_arn=self.role_arn, service_principal=ServicePrincipal.lambda_
    ).logs
    while not self._shutdown_event.is_set():
        taken = list(waiting(self.log_queue))
        now = now_utc(millis=True)
        items = [item for item in taken if item is not QUEUE_SHUTDOWN]
        # As LocalStack does: one line per line of output, empty lines dropped, newline kept.
        ship(
            client,
            [Line(i.log_group, i.log_stream, now, text + "\n") for i in items for text in i.logs.split("\n") if text],
        )
        if len(items) < len(taken):
            return


_lambda_log_loop.patched = True


def apply() -> None:
    from localstack.services.lambda_.invocation.logs import LogHandler

    if not hasattr(LogHandler.run_log_loop, "patched"):
        LogHandler.run_log_loop = _lambda_log_loop
