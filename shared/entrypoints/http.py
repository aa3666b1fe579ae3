"""What both orders API handlers share: JSON responses, the caller, and the order as a client sees it.

Who the caller is, the stack says (`shared.contract.CUSTOMER_IDENTITY_VARIABLE`, set from its
target by `shared.infra.api`); a handler never guesses where it runs:

    body          the API is open: the body's customerId names the customer, GET answers anyone
                  (LocalStack, where the scenarios order as CUST-DECLINE and friends)
    cognito-sub   API Gateway let the request in with an ID token of the stack's Cognito user
                  pool: the customer is the token's `sub`; a body's customerId is refused, and GET
                  answers only the order's own customer
"""

from __future__ import annotations

import json
import os
from decimal import Decimal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from ..contract import CUSTOMER_FROM_BODY, CUSTOMER_FROM_TOKEN, CUSTOMER_IDENTITY_VARIABLE
from ..domain.order import Order
from ..domain.reasons import public_reason

CUSTOMER_IDENTITIES = (CUSTOMER_FROM_BODY, CUSTOMER_FROM_TOKEN)
SUBJECT_CLAIM = "sub"


class Unauthenticated(Exception):
    """A signed-in caller was expected and the request carries none: API Gateway's authorizer
    lets no such request through, so this is a misrouted request, answered 401 all the same."""


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def json_response(status: int, body: dict) -> Response:
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body, default=_default))


def customer_identity() -> str:
    """Where the customer comes from, as the stack set it; a missing or unknown setting stops the
    handler (fails closed) rather than opening the API."""
    found = os.environ.get(CUSTOMER_IDENTITY_VARIABLE)
    if found not in CUSTOMER_IDENTITIES:
        raise RuntimeError(
            f"{CUSTOMER_IDENTITY_VARIABLE} is {found!r}: the stack sets {' or '.join(CUSTOMER_IDENTITIES)}"
        )
    return found


def signed_in_customer(event: APIGatewayProxyEvent) -> str | None:
    """The caller as the customer (the token's `sub`), or None when the API is open and the body
    names the customer. Raises Unauthenticated if a signed-in caller is expected and missing."""
    if customer_identity() == CUSTOMER_FROM_BODY:
        return None
    subject = event.request_context.authorizer.claims.get(SUBJECT_CLAIM)
    if not isinstance(subject, str) or not subject.strip():
        raise Unauthenticated()
    return subject


def unauthenticated() -> Response:
    return json_response(401, {"message": "sign in: send the ID token of the API's user pool in Authorization"})


def order_view(order: Order) -> dict:
    """The order as the API shows it: its record, with the failure reason as one of the fixed
    public reasons (shared.domain.reasons) instead of the stored text, which is for operators."""
    record = order.as_record()
    record.pop("failureReason", None)
    reason = public_reason(order)
    if reason is not None:
        record["failureReason"] = reason
    return record
