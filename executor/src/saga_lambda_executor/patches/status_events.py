"""Step Functions' execution status changes published only where something can receive them.

As on AWS, LocalStack's Step Functions sends a "Step Functions Execution Status Change" event to
the account's default event bus when an execution starts and when it ends: a PutEvents through
LocalStack's whole handler chain, 8.5 % of its CPU under a chaos run (py-spy), though nothing
here reads those events. An event on a bus reaches only the bus's rules that have an event
pattern (a scheduled rule, such as the reconciler's, never receives one) and its archives; when
the default bus has neither, the event is skipped, which nobody can tell apart from its being
delivered to no one. Add such a rule (or an archive) to the default bus and the events flow again.
"""

from __future__ import annotations

import functools

DEFAULT_BUS = "default"


def receivable(account_id: str, region: str) -> bool:
    """Whether the default bus of the account and region has a rule with an event pattern, or an
    archive."""
    from localstack.services.events.models import events_stores

    store = events_stores[account_id][region]
    bus = store.event_buses.get(DEFAULT_BUS)
    if bus is None:
        return False
    return any(rule.event_pattern for rule in bus.rules.values()) or any(
        archive.event_source_arn == bus.arn for archive in store.archives.values()
    )


def _only_when_receivable(publish):
    @functools.wraps(publish)
    def publish_execution_status_change_event(self) -> None:
        if receivable(self.account_id, self.region_name):
            publish(self)

    publish_execution_status_change_event.patched = True
    return publish_execution_status_change_event


def apply() -> None:
    from localstack.services.stepfunctions.backend.execution import Execution

    if not hasattr(Execution.publish_execution_status_change_event, "patched"):
        Execution.publish_execution_status_change_event = _only_when_receivable(
            Execution.publish_execution_status_change_event
        )
