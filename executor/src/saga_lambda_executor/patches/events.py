"""One log stream per EventBridge CloudWatch Logs target.

LocalStack's target creates a new log stream for every event it delivers (CreateLogStream, then
PutLogEvents): the choreography's event tap, which copies each event on the bus into a log group
for `make compare`, was a sixth of LocalStack's CPU in a choreographed saga, and the group grew a
stream per event. Here each target writes to one stream of its own, created on its first event
(and again should the group have been recreated since).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import uuid


def _one_stream_per_target(send_event):
    """LogsTargetSender.send_event writing to one log stream per target instead of one per event."""
    from localstack.services.events.utils import to_json_str
    from localstack.utils.time import now_utc

    lock = threading.Lock()

    def write(self, group: str, message: str) -> None:
        self.client.put_log_events(
            logGroupName=group,
            logStreamName=self.saga_stream,
            logEvents=[{"timestamp": now_utc(millis=True), "message": message}],
        )

    def create_stream(self, group: str) -> None:
        # Another delivery of this target's may have created it first.
        with lock, contextlib.suppress(self.client.exceptions.ResourceAlreadyExistsException):
            self.client.create_log_stream(logGroupName=group, logStreamName=self.saga_stream)

    @functools.wraps(send_event)
    def send(self, event, trace_header) -> None:
        group = self.target["Arn"].split(":")[6]
        if getattr(self, "saga_stream", None) is None:
            self.saga_stream = f"{self.target['Id']}-{uuid.uuid4()}"
            create_stream(self, group)
        try:
            write(self, group, to_json_str(event))
        except self.client.exceptions.ResourceNotFoundException:
            create_stream(self, group)  # the group was deleted and created again since
            write(self, group, to_json_str(event))

    send.patched = True
    return send


def apply() -> None:
    from localstack.services.events.target import LogsTargetSender

    if not hasattr(LogsTargetSender.send_event, "patched"):
        LogsTargetSender.send_event = _one_stream_per_target(LogsTargetSender.send_event)
