"""Asynchronous Lambda events that were already received are not held back when the function's
configuration changes.

LocalStack queues each asynchronous invocation (an EventBridge target's, say) in an internal queue
that a poller per function version reads, receiving each message invisible for the function's
timeout plus 60 s. Updating the function (`make chaos` sets and then resets the fault rate in its
environment) stops that poller: the messages it had received but not yet handed to an invoker
were dropped (the invoker pool's queued work cancelled, or a receive that ended after the stop
ignored), so they came back only when that invisibility ran out, 70 s later. On AWS an update does
not delay queued events. Here the poller's received messages are always handled: its invoker pool
finishes the work it holds (each invocation goes through the Lambda API, so it reaches the new
version), and a receive that ends after the stop is handled on a thread of its own.
"""

from __future__ import annotations

import functools
import logging
import threading
import time

LOG = logging.getLogger(__name__)


def _run(self, *args, **kwargs) -> None:
    """Poller.run: LocalStack's loop, every received message handed over."""
    from localstack.services.lambda_.invocation import event_manager

    sqs_client = event_manager.get_sqs_client(
        self.version_manager.function_version, client_config=event_manager.CLIENT_CONFIG
    )
    function_timeout = self.version_manager.function_version.config.timeout
    while not self._shutdown_event.is_set():
        try:
            response = sqs_client.receive_message(
                QueueUrl=self.event_queue_url,
                WaitTimeSeconds=2,
                MaxNumberOfMessages=10,
                VisibilityTimeout=function_timeout + 60,
            )
            for message in response.get("Messages") or []:
                _handle(self, message)
        except Exception as error:
            if self._shutdown_event.is_set():
                return
            LOG.error("Error while polling lambda events for function %s: %s", self.version_manager.function_arn, error)
            time.sleep(1)  # as LocalStack: not straight into the same problem again


def _handle(poller, message: dict) -> None:
    try:
        poller.invoker_pool.submit(poller.handle_message, message)
    except RuntimeError:  # the pool was shut down while this receive was waiting
        name = f"{threading.current_thread().name}-after-stop"
        threading.Thread(target=poller.handle_message, args=(message,), name=name, daemon=True).start()


def _finishing_queued_work(stop):
    """Poller.stop letting the invoker pool run the work it holds instead of cancelling it."""

    @functools.wraps(stop)
    def stopping(self) -> None:
        self._shutdown_event.set()
        self.invoker_pool.shutdown(wait=False, cancel_futures=False)

    stopping.patched = True
    return stopping


_run.patched = True


def apply() -> None:
    from localstack.services.lambda_.invocation.event_manager import Poller

    if not hasattr(Poller.run, "patched"):
        Poller.run = _run
    if not hasattr(Poller.stop, "patched"):
        Poller.stop = _finishing_queued_work(Poller.stop)
