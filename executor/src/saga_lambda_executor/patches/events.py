"""One log stream per EventBridge CloudWatch Logs target, written in rounds.

LocalStack's target creates a new log stream for every event it delivers (CreateLogStream, then
PutLogEvents): the choreography's event tap, which copies each event on the bus into a log group
for `make compare`, was a sixth of LocalStack's CPU in a choreographed saga, and the group grew a
stream per event. Here each target writes to one stream of its own, and its events are queued and
shipped by a thread of the target's, one write for all that is waiting (`log_shipping`).
The stream (and the group, should it have been deleted since) is created when a write finds it
missing.
"""

from __future__ import annotations

import functools
import queue
import threading
import uuid

from . import log_shipping


def _one_stream_per_target(send_event):
    """LogsTargetSender.send_event queueing the event for the target's one log stream."""
    from localstack.services.events.utils import to_json_str
    from localstack.utils.aws.arns import parse_arn
    from localstack.utils.time import now_utc

    lock = threading.Lock()

    def lines_of(self) -> queue.Queue:
        with lock:
            if getattr(self, "saga_lines", None) is None:
                self.saga_stream = f"{self.target['Id']}-{uuid.uuid4()}"
                self.saga_lines = queue.Queue()
                name = f"event-log-{self.target['Id']}"
                arn = parse_arn(self.target["Arn"])
                args = (log_shipping.LogStore(arn["account"], arn["region"], self.client), self.saga_lines)
                threading.Thread(target=log_shipping.ship_forever, args=args, name=name, daemon=True).start()
        return self.saga_lines

    @functools.wraps(send_event)
    def send(self, event, trace_header) -> None:
        group = self.target["Arn"].split(":")[6]
        lines = lines_of(self)
        lines.put(log_shipping.Line(group, self.saga_stream, now_utc(millis=True), to_json_str(event)))

    send.patched = True
    return send


def apply() -> None:
    from localstack.services.events.target import LogsTargetSender

    if not hasattr(LogsTargetSender.send_event, "patched"):
        LogsTargetSender.send_event = _one_stream_per_target(LogsTargetSender.send_event)
