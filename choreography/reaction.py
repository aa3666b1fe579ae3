"""How a saga step becomes a choreography service: it reacts to its trigger events from the bus
(ROUTES says which) and publishes its outcome there. It knows no other service."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from shared import faults
from shared.contract import OUTCOME_DROPPED, STEP_DONE, STEP_SKIPPED, STEP_STARTED
from shared.domain.errors import SagaError
from shared.entrypoints.runtime import event_publisher, logger, run_step
from shared.events import ROUTES, Message


def trigger(step: str, envelope: EventBridgeModel) -> Message:
    """The bus event's detail as the step's trigger event; a detail-type the step does not
    react to is a wiring error, not something to act on."""
    for event_type in ROUTES[step]:
        if event_type.detail_type() == envelope.detail_type:
            return event_type.model_validate(envelope.detail)
    raise ValueError(f"{step} does not react to {envelope.detail_type}")


def reaction(step: Callable):
    name = step.__name__

    @logger.inject_lambda_context(correlation_id_path="detail.orderId")
    @event_parser(model=EventBridgeModel)
    def handler(envelope: EventBridgeModel, context) -> dict | None:
        event = trigger(name, envelope)
        logger.info(STEP_STARTED, extra={"step": name})
        faults.maybe_fail(name, faults.BEFORE)
        try:
            outcome = run_step(step, event)
        except SagaError as answer:
            # A late delivery to an order that was parked or shipped: nothing to publish, and
            # nothing to retry (the order's record says what happened).
            logger.info(STEP_SKIPPED, extra={"step": name, "reason": str(answer)})
            return None
        faults.maybe_fail(name, faults.AFTER)
        if faults.drop_outcome():
            logger.info(OUTCOME_DROPPED, extra={"step": name})
            return None
        # Logged before publishing: the publish is the hand-off to the next step, as the hand-back
        # to Step Functions is in orchestration (and the next step may start before this returns).
        logger.info(STEP_DONE, extra={"step": name, "outcome": outcome.detail_type()})
        # Published on every delivery, duplicates included: if an earlier delivery stored the
        # outcome but died before publishing it, this is what moves the saga on.
        event_publisher().publish(outcome)
        return outcome.to_json_dict()

    return handler
