"""notify_customer: the notification service reacting to the saga's outcome on the bus.

It logs like a saga step (`step started`, then `step done` or, for a duplicate delivery, `step
skipped`), so the tools trace it the same way. Failures (injected faults included) are retried
by Lambda's async retries, then parked in the stack's dead-letter queue.
"""

from __future__ import annotations

import os
from functools import cache

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from hybrid import notifications
from hybrid.dynamodb import DynamoNotificationStore
from shared import faults
from shared.contract import NOTIFY_CUSTOMER, STEP_DONE, STEP_SKIPPED, STEP_STARTED
from shared.entrypoints.runtime import logger
from shared.events import OUTCOMES_BY_NAME, SagaEnded


@cache
def store() -> DynamoNotificationStore:
    return DynamoNotificationStore(os.environ["NOTIFICATIONS_TABLE"])


def outcome(envelope: EventBridgeModel) -> SagaEnded:
    """The bus event's detail as the outcome it reports; any other detail-type is a wiring error."""
    event_type = OUTCOMES_BY_NAME.get(envelope.detail_type)
    if event_type is None:
        raise ValueError(f"{NOTIFY_CUSTOMER} does not react to {envelope.detail_type}")
    return event_type.model_validate(envelope.detail)


@logger.inject_lambda_context(correlation_id_path="detail.orderId")
@event_parser(model=EventBridgeModel)
def handler(envelope: EventBridgeModel, context) -> dict:
    event = outcome(envelope)
    logger.info(STEP_STARTED, extra={"step": NOTIFY_CUSTOMER})
    faults.maybe_fail(NOTIFY_CUSTOMER, faults.BEFORE)
    notification, recorded = notifications.notify_customer(event, store())
    faults.maybe_fail(NOTIFY_CUSTOMER, faults.AFTER)
    if recorded:
        logger.info(STEP_DONE, extra={"step": NOTIFY_CUSTOMER, "outcome": notifications.CUSTOMER_NOTIFIED})
    else:
        logger.info(STEP_SKIPPED, extra={"step": NOTIFY_CUSTOMER, "reason": notifications.ALREADY_NOTIFIED})
    return notification.as_record()
