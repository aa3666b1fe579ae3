"""The reconciler, for both styles: run every minute by a schedule, it finds orders whose saga
stopped moving and drives each to an end (shared.recovery), then reports two metrics: the age of
the oldest open order (since it was placed) and the number of orders parked for a person. Each
style's reconcile handler is this, given its own SagaDriver."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .. import recovery
from ..contract import ORDER_RECOVERED, STUCK_AFTER_VARIABLE
from .runtime import logger, metrics, saga_store


class RecoveryFailed(Exception):
    """Some orders could not be recovered this round (each is logged with why)."""


def settings() -> tuple[timedelta, int]:
    stuck_after = float(os.environ.get(STUCK_AFTER_VARIABLE) or 0) or None
    attempts = int(os.environ.get("MAX_RECOVERY_ATTEMPTS") or recovery.DEFAULT_MAX_ATTEMPTS)
    return (timedelta(seconds=stuck_after) if stuck_after else recovery.DEFAULT_STUCK_AFTER), attempts


def reconcile_handler(driver: Callable[[], recovery.SagaDriver]):
    @logger.inject_lambda_context
    def handler(event: dict, context) -> dict:
        stuck_after, max_attempts = settings()
        done = recovery.reconcile(saga_store(), driver(), datetime.now(UTC), stuck_after, max_attempts)
        for r in done.recoveries:
            log = logger.error if r.action is recovery.Action.FAILED else logger.info
            log(
                ORDER_RECOVERED,
                extra={"orderId": r.order_id, "status": str(r.status), "action": str(r.action), "detail": r.detail},
            )
        metrics().report(done.oldest_open_seconds, done.needing_attention)
        if done.failures:
            # After every order had its turn and the metrics are out: the failed invocation is what
            # the ReconcilerErrors alarm counts; the failed orders are tried again next round.
            raise RecoveryFailed(f"{len(done.failures)} of {len(done.recoveries)} recoveries failed")
        return {
            "recovered": len(done.recoveries),
            "oldestOpenSeconds": round(done.oldest_open_seconds, 1),
            "needingAttention": done.needing_attention,
        }

    return handler
