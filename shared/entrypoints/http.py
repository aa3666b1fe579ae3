"""JSON responses for the orders API."""

from __future__ import annotations

import json
from decimal import Decimal

from aws_lambda_powertools.event_handler import Response, content_types


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def json_response(status: int, body: dict) -> Response:
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body, default=_default))
