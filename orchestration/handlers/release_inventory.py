"""The compensation task. The state machine's Catch hands it the reserved order plus what the
payment step raised, as `error: {Error, Cause}`; the Cause of a Lambda error is its JSON."""

import json

from pydantic import BaseModel, ConfigDict

from orchestration.task import task
from shared import steps
from shared.events import InventoryReserved, PaymentFailed


class CaughtError(BaseModel):
    model_config = ConfigDict(extra="ignore")
    Error: str
    Cause: str = ""


class CaughtPaymentFailure(InventoryReserved):
    error: CaughtError


def payment_failure(caught: CaughtPaymentFailure) -> PaymentFailed:
    try:
        reason = json.loads(caught.error.Cause)["errorMessage"]
    except (ValueError, KeyError, TypeError):
        reason = caught.error.Error
    fields = caught.model_dump(by_alias=True, exclude={"error"})
    return PaymentFailed.model_validate({**fields, "reason": reason})


handler = task(steps.release_inventory, CaughtPaymentFailure, payment_failure)
