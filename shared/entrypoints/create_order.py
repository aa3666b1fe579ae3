"""`POST /orders`, the same in every style: validate and store the order. Storing it is all the
API does: the stored order starts its own saga (shared.entrypoints.start_saga, fed by the orders
table's stream), so no crash between two writes can leave an order without its saga.

The customer is the body's `customerId` on an open API, the signed-in caller on one with an
authorizer, where a body that names a customer is refused (400 naming `customerId`): an order
is never placed for someone else (shared.entrypoints.http says how the stack tells which).
"""

from __future__ import annotations

import json
import re

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .. import steps
from ..contract import ORDER_CREATED, ORDER_REFUSED, ORDER_REPLAYED
from ..domain.errors import IdempotencyConflict
from ..events import OrderRequest
from .http import Unauthenticated, json_response, order_view, signed_in_customer, unauthenticated
from .runtime import logger, saga_store

# Orders are a few fields; anything bigger is a mistake or abuse, refused before parsing.
MAX_BODY_BYTES = 4096
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
# The body is read as JSON only: a request that declares anything else (a form, text) is refused
# with 415 before its body is read. One that declares nothing is read as JSON all the same, so a
# hand-made request (curl, a bare HTTP client) works without the header. But `curl -d` does
# declare one, application/x-www-form-urlencoded, and gets the 415: use `curl --json` instead.
CONTENT_TYPE_HEADER = "Content-Type"
JSON_MEDIA_TYPE = "application/json"
CUSTOMER_FIELD = "customerId"


class InvalidOrder(Exception):
    status = 400

    def __init__(self, errors: list[dict], message: str = "") -> None:
        super().__init__(errors)
        self.errors = errors
        self.message = message or "invalid order: " + ", ".join(e["field"] for e in errors)


class UnsupportedMediaType(InvalidOrder):
    status = 415

    def __init__(self) -> None:
        wanted = f"{JSON_MEDIA_TYPE}, optionally with charset=utf-8"
        super().__init__(
            [{"field": CONTENT_TYPE_HEADER, "message": f"must be {wanted}"}],
            f"unsupported {CONTENT_TYPE_HEADER}: send {wanted}",
        )


def require_json(headers: dict | None) -> None:
    """Nothing if the request declares a JSON body, or none; else UnsupportedMediaType."""
    found = {k.lower(): v for k, v in (headers or {}).items()}.get(CONTENT_TYPE_HEADER.lower())
    if found is None:
        return
    media_type, *parameters = (part.strip().lower() for part in found.split(";"))
    charsets = {value.strip('"') for name, _, value in (p.partition("=") for p in parameters) if name == "charset"}
    if media_type != JSON_MEDIA_TYPE or not charsets <= {"utf-8", "utf8"}:
        raise UnsupportedMediaType()


def parse_order_request(body: str | None, customer_id: str | None = None) -> OrderRequest:
    """The request as an OrderRequest, or InvalidOrder naming each bad field. With `customer_id`
    (the signed-in caller), the order is that customer's and a body naming one is refused."""
    if not body:
        raise InvalidOrder([{"field": "body", "message": "a JSON object is required"}])
    if len(body.encode()) > MAX_BODY_BYTES:
        raise InvalidOrder([{"field": "body", "message": f"larger than {MAX_BODY_BYTES} bytes"}])
    if customer_id is None:
        try:
            return OrderRequest.model_validate_json(body)
        except ValidationError as error:
            raise InvalidOrder([_field_error(e) for e in error.errors()]) from None
    fields = _json_object(body)
    errors = []
    if CUSTOMER_FIELD in fields:
        errors.append({"field": CUSTOMER_FIELD, "message": "not accepted: the customer is the signed-in caller"})
    try:
        request = OrderRequest.model_validate({**fields, CUSTOMER_FIELD: customer_id})
    except ValidationError as error:
        errors += [_field_error(e) for e in error.errors()]
    if errors:
        raise InvalidOrder(errors)
    return request


def _json_object(body: str) -> dict:
    """The body as a JSON object (NaN and Infinity are not JSON numbers), or InvalidOrder."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not a number")

    try:
        fields = json.loads(body, parse_constant=refuse)
    except ValueError as error:  # JSONDecodeError included
        raise InvalidOrder([{"field": "body", "message": f"invalid JSON: {error}"}]) from None
    if not isinstance(fields, dict):
        raise InvalidOrder([{"field": "body", "message": "a JSON object is required"}])
    return fields


def idempotency_key(headers: dict | None) -> str:
    """The client's optional Idempotency-Key: a retried POST with it names the same order."""
    found = {k.lower(): v for k, v in (headers or {}).items()}.get(IDEMPOTENCY_HEADER.lower(), "")
    if found and not IDEMPOTENCY_KEY.fullmatch(found):
        raise InvalidOrder([{"field": IDEMPOTENCY_HEADER, "message": "1 to 64 of A-Z a-z 0-9 _ -"}])
    return found


def _field_error(error: ErrorDetails) -> dict[str, str]:
    field = ".".join(str(part) for part in error["loc"]) or "body"
    message = "unknown field" if error["type"] == "extra_forbidden" else error["msg"]
    return {"field": field, "message": message}


app = APIGatewayRestResolver()


@app.post("/orders")
def create_order():
    require_json(app.current_event.headers)
    request = parse_order_request(app.current_event.body, signed_in_customer(app.current_event))
    key = idempotency_key(app.current_event.headers)
    order, placed = steps.create_order(request, saga_store(), key)
    logger.append_keys(orderId=order.order_id)
    logger.info(ORDER_CREATED if placed else ORDER_REPLAYED, extra={"order": order.as_record()})
    return json_response(201 if placed else 200, order_view(order))


@app.exception_handler(Unauthenticated)
def no_caller(_error: Unauthenticated):
    return unauthenticated()


@app.exception_handler(IdempotencyConflict)
def conflict(error: IdempotencyConflict):
    field = {"field": IDEMPOTENCY_HEADER, "message": "already used for a different order"}
    return json_response(409, {"message": str(error), "errors": [field]})


@app.exception_handler(InvalidOrder)
def invalid_order(error: InvalidOrder):
    logger.info(ORDER_REFUSED, extra={"errors": error.errors})
    return json_response(error.status, {"message": error.message, "errors": error.errors})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict, context) -> dict:
    return app.resolve(event, context)
