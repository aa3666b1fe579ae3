"""How a saga step becomes a Step Functions task: the state's input is the triggering event, the
state's output the outcome event. A forward step's failed outcome is raised as an error, named so
the state machine's Catch can route it (OutOfStockError ends the saga, PaymentDeclinedError leads
to the release, ShippingRefusedError to the refund and then the release). Compensations return
their outcome whatever it is: the next compensation runs either way.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from aws_lambda_powertools.utilities.parser import event_parser
from pydantic import BaseModel, ConfigDict, Field

from shared import faults
from shared.contract import STEP_DONE, STEP_STARTED
from shared.domain.errors import OutOfStockError, PaymentDeclinedError, ShippingRefusedError
from shared.entrypoints.runtime import logger, run_step
from shared.events import ROUTES, InventoryFailed, Message, PaymentFailed, ShippingFailed, StepFailed, fit_reason

_FAILURES: dict[str, tuple[type[InventoryFailed | PaymentFailed | ShippingFailed], type[Exception]]] = {
    "reserve_inventory": (InventoryFailed, OutOfStockError),
    "charge_payment": (PaymentFailed, PaymentDeclinedError),
    "notify_shipping": (ShippingFailed, ShippingRefusedError),
}


def raise_if_failed(step: str, outcome: Message) -> None:
    if step not in _FAILURES:
        return
    failed, error = _FAILURES[step]
    # The exact type: an InventoryReleased is a PaymentFailed too, and not a failed step.
    if type(outcome) is failed:
        raise error(outcome.reason)


class CaughtError(BaseModel):
    model_config = ConfigDict(extra="ignore")
    Error: str
    Cause: str = ""

    @property
    def message(self) -> str:
        """The Lambda error's message (its Cause is the error as JSON), else the error's name."""
        try:
            return json.loads(self.Cause)["errorMessage"]
        except (ValueError, KeyError, TypeError):
            return self.Error


class CompensationInput(BaseModel):
    """What a compensation task receives: the caught step's input plus `error` (from a Catch),
    or the previous compensation's outcome (which carries a reason)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    order_id: str = Field(alias="orderId")
    reason: str | None = None
    error: CaughtError | None = None


def step_failed(given: CompensationInput) -> StepFailed:
    # A caught error's message is any text of any length (a traceback line, a validation error
    # over several lines): fitted to the bounded, printable Reason of the event.
    caught = given.reason or (given.error.message if given.error else "")
    return StepFailed(order_id=given.order_id, reason=fit_reason(caught) or "compensation requested")


def task(step: Callable, model: type[BaseModel] | None = None, adapt: Callable = lambda e: e):
    """A Lambda handler running `step` on its state input (parsed as `model`, by default the
    step's trigger event) after `adapt` turns the parsed input into that event."""

    @logger.inject_lambda_context(correlation_id_path="orderId")
    @event_parser(model=model or ROUTES[step.__name__][0])
    def handler(event: BaseModel, context) -> dict:
        logger.info(STEP_STARTED, extra={"step": step.__name__})
        faults.maybe_fail(step.__name__, faults.BEFORE)
        outcome = run_step(step, adapt(event))
        logger.info(STEP_DONE, extra={"step": step.__name__, "outcome": outcome.detail_type()})
        faults.maybe_fail(step.__name__, faults.AFTER)
        raise_if_failed(step.__name__, outcome)
        return outcome.to_json_dict()

    return handler


def compensation(step: Callable):
    """A compensation task: whatever reached it (a caught error or the previous compensation's
    outcome) becomes a StepFailed naming the order and why."""
    return task(step, CompensationInput, step_failed)
