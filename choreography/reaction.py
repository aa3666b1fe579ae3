"""How a saga step becomes a choreography service: it reacts to its trigger event from the bus
(ROUTES says which) and publishes its outcome there. It knows no other service."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.utilities.parser import envelopes, event_parser

from shared import faults
from shared.entrypoints.runtime import event_publisher, logger, saga_store
from shared.events import ROUTES, Message


def reaction(step: Callable):
    @logger.inject_lambda_context(correlation_id_path="detail.orderId")
    @event_parser(model=ROUTES[step.__name__], envelope=envelopes.EventBridgeEnvelope)
    def handler(event: Message, context) -> dict:
        logger.info("step started", extra={"step": step.__name__})
        faults.maybe_fail(step.__name__, faults.BEFORE)
        outcome = step(event, saga_store())
        faults.maybe_fail(step.__name__, faults.AFTER)
        # Published on every delivery, duplicates included: if an earlier delivery stored the
        # outcome but died before publishing it, this is what moves the saga on.
        event_publisher().publish(outcome)
        logger.info("step done", extra={"step": step.__name__, "outcome": outcome.detail_type()})
        return outcome.to_json_dict()

    return handler
