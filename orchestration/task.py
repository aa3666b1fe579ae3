"""How a saga step becomes a Step Functions task: the state's input is the triggering event, the
state's output the outcome event. A failed outcome is raised as an error, named so the state
machine's Catch can route it (OutOfStockError ends the saga, anything after the reservation
leads to the compensation)."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.utilities.parser import event_parser
from pydantic import BaseModel

from shared import faults
from shared.domain.errors import OutOfStockError, PaymentDeclinedError
from shared.entrypoints.runtime import logger, saga_store
from shared.events import ROUTES, InventoryFailed, Message, PaymentFailed

_FAILURES: dict[type[Message], type[Exception]] = {
    InventoryFailed: OutOfStockError,
    PaymentFailed: PaymentDeclinedError,
}


def raise_if_failed(outcome: Message) -> None:
    for failed, error in _FAILURES.items():
        if type(outcome) is failed:
            raise error(outcome.reason)


def task(step: Callable, model: type[BaseModel] | None = None, adapt: Callable = lambda e: e):
    """A Lambda handler running `step` on its state input (parsed as `model`, by default the
    step's trigger event) after `adapt` turns the parsed input into that event."""

    @logger.inject_lambda_context(correlation_id_path="orderId")
    @event_parser(model=model or ROUTES[step.__name__])
    def handler(event: BaseModel, context) -> dict:
        logger.info("step started", extra={"step": step.__name__})
        faults.maybe_fail(step.__name__, faults.BEFORE)
        outcome = step(adapt(event), saga_store())
        logger.info("step done", extra={"step": step.__name__, "outcome": outcome.detail_type()})
        faults.maybe_fail(step.__name__, faults.AFTER)
        raise_if_failed(outcome)
        return outcome.to_json_dict()

    return handler
