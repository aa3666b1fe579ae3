"""EventBridge's rules matched and their targets sent on a pool of worker threads, not on a new
thread per event.

LocalStack's PutEvents answers at once and leaves each event's rules to a thread it starts for
that event (its own TODO: "use a worker pool instead of spawning a new thread for each
request"). Starting a thread waits until the new thread has run, so each PutEvents waited for
its thread to get the GIL, under load several of the interpreter's 5 ms turns, on the path of
every choreographed hand-off: a step's outcome is its PutEvents, and the next step's invocation
is the rule's target. Here the work is handed to WORKERS threads kept for it; an event still
goes through every rule of its bus, in order, as before, and a failure is logged as before.
"""

from __future__ import annotations

import functools
import logging
from concurrent.futures import ThreadPoolExecutor

LOG = logging.getLogger(__name__)

WORKERS = 16
NAME = "events-process-rules"  # the name LocalStack gives the thread of an event's rules


def _run(method, params) -> None:
    try:
        method(params)
    except Exception as error:  # as LocalStack's thread would: logged, not raised
        LOG.info("Processing the rules of an event failed: %s", error, exc_info=LOG.isEnabledFor(logging.DEBUG))


def _pooled(start_worker_thread, pool: ThreadPoolExecutor):
    """start_worker_thread for the events provider: an event's rules go to `pool`."""

    @functools.wraps(start_worker_thread)
    def start(method, params=None, name: str | None = None):
        if name != NAME:
            return start_worker_thread(method, params, name=name)
        pool.submit(_run, method, params)
        return None

    start.patched = True
    return start


def apply() -> None:
    from localstack.services.events import provider

    if not hasattr(provider.start_worker_thread, "patched"):
        # Made once, here: its threads start as work comes, up to WORKERS.
        pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix=NAME)
        provider.start_worker_thread = _pooled(provider.start_worker_thread, pool)
