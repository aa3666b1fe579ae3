"""Fault injection, to show the saga's guarantees hold when steps fail. Off unless a function's
environment sets SAGA_FAULT_RATE or SAGA_DROP_RATE (0 to 1; `python -m tools.operator.faults` and
`make chaos` set them on deployed functions).

SAGA_FAULT_RATE: an invocation fails with about that probability, at one of two points (half
the rate each): before its step runs, or after the step's write is committed but before its
answer goes out — the nasty case, where the work is done (a charge taken, a refund made) and the
retry must not do it twice.

SAGA_DROP_RATE (choreography): a step's outcome event is lost after the step committed, with no
error and so no retry: only the reconciler can notice the saga stopped.
"""

from __future__ import annotations

import os
import random

from .contract import DROP_RATE_VARIABLE, FAULT_RATE_VARIABLE, INJECTED_FAULT

BEFORE, AFTER = "before", "after"


class TransientFault(Exception):
    """An injected failure that a retry gets past."""


def _rate(variable: str) -> float:
    return float(os.environ.get(variable) or 0)


def maybe_fail(step: str, point: str) -> None:
    rate = _rate(FAULT_RATE_VARIABLE)
    if rate and random.random() < rate / 2:
        raise TransientFault(f"{INJECTED_FAULT} {point} {step}")


def drop_outcome() -> bool:
    rate = _rate(DROP_RATE_VARIABLE)
    return bool(rate) and random.random() < rate
