"""Patches to LocalStack, applied at its start (an on_infra_start hook, registered in
executor/pyproject.toml) and only on the version they were written and measured against
(PINNED): on any other version nothing is patched and LocalStack's log says so.

Each module says what it changes and why; docs/profile.md has the profiles and the before/after:
- stepfunctions: a Lambda client per role, a parsed JSONPath per path, a parse tree per definition;
- direct_invoke: Lambda invocations LocalStack makes of itself handed to its Lambda provider in-process;
- streams: the DynamoDB stream poller reads the shard and filters before it batches, as on AWS;
- stream_lanes: a stream mapping's ParallelizationFactor honoured (lanes by key), as on AWS;
- events: one log stream per EventBridge CloudWatch Logs target, not one per event;
- rule_workers: EventBridge's rules of an event run on a pool of threads, not a new thread per event;
- log_shipping: log lines written in-process, once per stream for all that waits;
- status_events: execution status changes sent to the default bus only when something there receives them;
- lambda_metrics: Lambda's Invocations and Errors counted, published once a second;
- async_events: a function update does not hold back the asynchronous events already received;
- threads: LocalStack's list of threads to stop at shutdown forgets those that have ended.
"""

from __future__ import annotations

import logging
from importlib import metadata

from localstack.runtime import hooks

from . import (
    async_events,
    direct_invoke,
    events,
    lambda_metrics,
    log_shipping,
    rule_workers,
    status_events,
    stepfunctions,
    stream_lanes,
    streams,
    threads,
)

LOG = logging.getLogger(__name__)

PINNED = "2026.3.0"


def apply(version: str | None = None) -> bool:
    """Patch the running LocalStack; returns whether it did (only on the pinned version). Applying
    twice changes nothing more."""
    version = version or metadata.version("localstack-core")
    if version != PINNED:
        LOG.warning(
            "saga executor: LocalStack patches not applied (written for localstack-core %s, found %s)",
            PINNED,
            version,
        )
        return False
    every = (
        stepfunctions,
        direct_invoke,
        status_events,
        streams,
        stream_lanes,
        events,
        rule_workers,
        log_shipping,
        async_events,
        lambda_metrics,
        threads,
    )
    for patch in every:
        patch.apply()
    LOG.info("saga executor: LocalStack patches applied (localstack-core %s)", version)
    return True


@hooks.on_infra_start()
def _apply_patches() -> None:
    apply()
