"""Fault injection, to show the saga's guarantees hold when steps fail. Off unless a function's
environment sets SAGA_FAULT_RATE (0 to 1; `python -m tools.faults` sets it on deployed functions).

An invocation then fails with about that probability, at one of two points (half the rate
each): before its step runs, or after the step's write is committed but before its answer goes
out — the nasty case, where the work is done and the retry must not do it twice.
"""

from __future__ import annotations

import os
import random

BEFORE, AFTER = "before", "after"


class TransientFault(Exception):
    """An injected failure that a retry gets past. Step Functions retries it by this name."""


def maybe_fail(step: str, point: str) -> None:
    rate = float(os.environ.get("SAGA_FAULT_RATE") or 0)
    if rate and random.random() < rate / 2:
        raise TransientFault(f"injected fault {point} {step}")
