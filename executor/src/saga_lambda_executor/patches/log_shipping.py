"""Log lines written to CloudWatch Logs per log stream for all that is waiting, in-process,
instead of one PutLogEvents request per Lambda invocation and one per EventBridge event.

LocalStack's Lambda service queues each invocation's output and a thread sends it, one
PutLogEvents per invocation; the EventBridge CloudWatch Logs target sends each event as it comes.
Each of those requests went through a boto client and LocalStack's whole handler chain (request
building, signing, parsing, moto's dispatch) to append lines to moto's logs backend, in the same
process: with Lambda output batched per stream, that was still a fifth of LocalStack's CPU under a
chaos run (py-spy). Here one thread per log handler (and per event target) takes everything
queued and appends it per stream straight to that backend, as LocalStack's PutLogEvents does
in the end (moto's checks and subscription filters included): when idle, a line still goes out at
once; under load, writes stay few. Within a stream the lines keep their order, with their own
timestamps. A state machine's execution log (its CloudWatch logging session) is written the same
way, one request less per logged history event. A log group with metric filters gets its lines
through the API, where LocalStack turns matching lines into metrics.
"""

from __future__ import annotations

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


class MissingLogStream(Exception):
    """The log group or the log stream written to does not exist."""


class LogStore:
    """The CloudWatch Logs of one account and region, written in-process; `client` (that
    account's logs client) serves the log groups whose lines also feed metric filters."""

    def __init__(self, account_id: str, region: str, client) -> None:
        self.account_id, self.region, self.client = account_id, region, client

    def put(self, group: str, stream: str, events: list[dict]) -> None:
        """The events appended to the stream; MissingLogStream if it (or its group) does not exist."""
        from moto.logs.exceptions import ResourceNotFoundException

        backend = self._backend()
        try:
            if backend.filters.metric_filters:
                self.client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
            else:
                backend.put_log_events(group, stream, events)
        except (ResourceNotFoundException, self.client.exceptions.ResourceNotFoundException) as missing:
            raise MissingLogStream(f"{group}/{stream}") from missing

    def write(self, group: str, stream: str, events: list[dict]) -> None:
        """The events appended to the stream, the group and the stream created if missing."""
        try:
            self.put(group, stream, events)
        except MissingLogStream:
            backend = self._backend()
            backend.ensure_log_group(group)
            backend.ensure_log_stream(group, stream)
            self.put(group, stream, events)

    def _backend(self):
        from localstack.services.logs.provider import get_moto_logs_backend

        return get_moto_logs_backend(self.account_id, self.region)


def ship(store: LogStore, lines: list[Line]) -> None:
    """One write per stream (per MAX_EVENTS_PER_REQUEST lines)."""
    ordered = sorted(lines, key=lambda line: (line.group, line.stream))  # stable: order kept per stream
    for (group, stream), same in groupby(ordered, key=lambda line: (line.group, line.stream)):
        events = [{"timestamp": line.timestamp, "message": line.message} for line in same]
        for start in range(0, len(events), MAX_EVENTS_PER_REQUEST):
            _write(store, group, stream, events[start : start + MAX_EVENTS_PER_REQUEST])


def _write(store: LogStore, group: str, stream: str, events: list[dict]) -> None:
    try:
        store.write(group, stream, events)
    except Exception as error:  # as LocalStack's own loop: a lost write must not stop the shipping
        LOG.warning("Error saving %d log lines to %s/%s: %s", len(events), group, stream, error)


def ship_forever(store: LogStore, lines: queue.Queue) -> None:
    """The loop of a daemon thread: it ends with the process."""
    while True:
        ship(store, list(waiting(lines)))


def _lambda_log_loop(self, *args, **kwargs) -> None:
    """LogHandler.run_log_loop: the invocations' output queued as LogItems, shipped in rounds."""
    from localstack.aws.connect import connect_to
    from localstack.services.lambda_.invocation.logs import QUEUE_SHUTDOWN
    from localstack.utils.aws.arns import extract_account_id_from_arn
    from localstack.utils.aws.client_types import ServicePrincipal
    from localstack.utils.time import now_utc

    # As LocalStack's loop: the function's logs go to the account of its role.
    client = connect_to.with_assumed_role(
        region_name=self.region, role_arn=self.role_arn, service_principal=ServicePrincipal.lambda_
    ).logs
    store = LogStore(extract_account_id_from_arn(self.role_arn), self.region, client)
    while not self._shutdown_event.is_set():
        taken = list(waiting(self.log_queue))
        now = now_utc(millis=True)
        items = [item for item in taken if item is not QUEUE_SHUTDOWN]
        # As LocalStack does: one line per line of output, empty lines dropped, newline kept.
        ship(
            store,
            [Line(i.log_group, i.log_stream, now, text + "\n") for i in items for text in i.logs.split("\n") if text],
        )
        if len(items) < len(taken):
            return


_lambda_log_loop.patched = True


def _session_put_events(self, log_events: list) -> bool:
    """CloudWatchLoggingSession._put_events (a state machine's execution log): False when the log
    stream is missing, for the session to create it, as LocalStack's does."""
    configuration = self.configuration
    store = LogStore(configuration.log_account_id, configuration.log_region, self._logs_client)
    try:
        store.put(configuration.log_group_name, configuration.log_stream_name, log_events)
    except MissingLogStream:
        return False
    except Exception as error:  # as LocalStack's: a lost log line must not fail the execution
        LOG.warning("State Machine execution log event could not be published due to an error: '%s'", error)
    return True


_session_put_events.patched = True


def apply() -> None:
    from localstack.services.lambda_.invocation.logs import LogHandler
    from localstack.services.stepfunctions.asl.eval.event.logging import CloudWatchLoggingSession

    if not hasattr(LogHandler.run_log_loop, "patched"):
        LogHandler.run_log_loop = _lambda_log_loop
    if not hasattr(CloudWatchLoggingSession._put_events, "patched"):
        CloudWatchLoggingSession._put_events = _session_put_events
