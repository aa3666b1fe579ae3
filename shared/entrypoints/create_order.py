"""`POST /orders`, the same in both styles: validate and store the order. Storing it is all the
API does: the stored order starts its own saga (shared.entrypoints.start_saga, fed by the orders
table's stream), so no crash between two writes can leave an order without its saga."""

from __future__ import annotations

import re

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .. import steps
from ..domain.errors import IdempotencyConflict
from ..events import OrderRequest
from .http import json_response
from .runtime import logger, saga_store

# Orders are a few fields; anything bigger is a mistake or abuse, refused before parsing.
MAX_BODY_BYTES = 4096
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


class InvalidOrder(Exception):
    def __init__(self, errors: list[dict]) -> None:
        super().__init__(errors)
        self.errors = errors


def parse_order_request(body: str | None) -> OrderRequest:
    """The request as an OrderRequest, or InvalidOrder naming each bad field."""
    if not body:
        raise InvalidOrder([{"field": "body", "message": "a JSON object is required"}])
    if len(body.encode()) > MAX_BODY_BYTES:
        raise InvalidOrder([{"field": "body", "message": f"larger than {MAX_BODY_BYTES} bytes"}])
    try:
        return OrderRequest.model_validate_json(body)
    except ValidationError as error:
        raise InvalidOrder([_field_error(e) for e in error.errors()]) from None


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
    request = parse_order_request(app.current_event.body)
    key = idempotency_key(app.current_event.headers)
    order, placed = steps.create_order(request, saga_store(), key)
    logger.append_keys(orderId=order.order_id)
    logger.info("order created" if placed else "order replayed", extra={"order": order.as_record()})
    return json_response(201 if placed else 200, order.as_record())


@app.exception_handler(IdempotencyConflict)
def conflict(error: IdempotencyConflict):
    field = {"field": IDEMPOTENCY_HEADER, "message": "already used for a different order"}
    return json_response(409, {"message": str(error), "errors": [field]})


@app.exception_handler(InvalidOrder)
def invalid_order(error: InvalidOrder):
    logger.info("order refused", extra={"errors": error.errors})
    fields = ", ".join(e["field"] for e in error.errors)
    return json_response(400, {"message": f"invalid order: {fields}", "errors": error.errors})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict, context) -> dict:
    return app.resolve(event, context)
