"""LocalStack's list of threads to stop at shutdown, without the threads that have ended.

`localstack.utils.threads.TMP_THREADS` keeps every thread ever appended to it: Step Functions adds
one per execution and one per task state. On Python 3.13 a finished thread that is still
referenced keeps its stack mapped (8 MiB and a guard page), so after ~32,000 such threads (about
5,000 sagas) the process reached the kernel's limit of 65,530 memory mappings and could start no
thread at all: requests failed with "can't start new thread". Here the list drops threads that
have ended whenever it has doubled since.
"""

from __future__ import annotations

import sys
import threading


class _LiveThreads(list):
    """TMP_THREADS without the threads that have ended: pruned when it has doubled since the last
    time (so appending stays cheap). What is not a thread (thread pools, servers) is kept, and so
    is a thread not started yet: some are appended first."""

    MIN_PRUNE_AT = 256

    def __init__(self, threads) -> None:
        super().__init__(threads)
        self._lock = threading.Lock()
        self._prune_at = self.MIN_PRUNE_AT

    def append(self, thread) -> None:
        with self._lock:
            if len(self) >= self._prune_at:
                self[:] = [t for t in self if not _ended(t)]
                self._prune_at = max(self.MIN_PRUNE_AT, 2 * len(self))
            super().append(thread)


def _ended(item) -> bool:
    return isinstance(item, threading.Thread) and item.ident is not None and not item.is_alive()


def apply() -> None:
    """Put a _LiveThreads in place of TMP_THREADS, in every module that imported the list."""
    from localstack.utils import threads

    old = threads.TMP_THREADS
    if isinstance(old, _LiveThreads):
        return
    live = _LiveThreads(old)
    for module in list(sys.modules.values()):
        if getattr(module, "TMP_THREADS", None) is old:
            module.TMP_THREADS = live
