"""`GET /orders/{orderId}`: the order record as the saga left it, the same in every style, with
its failure reason as one of the fixed public reasons (shared.entrypoints.http.order_view).

Behind an authorizer it answers only the order's own customer: anyone else gets the 404 of an
unknown order, not a 403, so an answer never tells whether an id exists.

The id is checked before the table is asked: an id the saga cannot have made (too long, or with
characters other than A-Z a-z 0-9 -) is a 400 naming `orderId`. Unchecked, an id over 2 KB made
DynamoDB's GetItem fail (its key limit) and the API answer 502. API Gateway does not stop such an
id: a path parameter has no limit of its own, only the whole URL (8 KB edge-optimized, 10 KB
regional; LocalStack: 16 KB of request line and headers), and LocalStack passes the segment on as
it came, still URL-encoded (`a%20b`). A path the route does not match at all (`/orders/a/b`) is
the resolver's own 404.
"""

import re

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths

from ..events import MAX_ID_LENGTH, ORDER_ID_PATTERN
from .http import Unauthenticated, json_response, order_view, signed_in_customer, unauthenticated
from .runtime import logger, saga_store

ORDER_ID = re.compile(ORDER_ID_PATTERN)

app = APIGatewayRestResolver()


@app.get("/orders/<order_id>")
def get_order(order_id: str):
    if not ORDER_ID.fullmatch(order_id):
        error = {"field": "orderId", "message": f"1 to {MAX_ID_LENGTH} of A-Z a-z 0-9 -"}
        return json_response(400, {"message": "invalid orderId", "errors": [error]})
    customer = signed_in_customer(app.current_event)
    order = saga_store().get(order_id)
    if order is None or (customer is not None and order.customer_id != customer):
        return json_response(404, {"message": f"order {order_id} not found"})
    return json_response(200, order_view(order))


@app.exception_handler(Unauthenticated)
def no_caller(_error: Unauthenticated):
    return unauthenticated()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict, context) -> dict:
    return app.resolve(event, context)
