"""`GET /orders/{orderId}`: the order record as the saga left it, the same in both styles."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths

from .http import json_response
from .runtime import logger, saga_store

app = APIGatewayRestResolver()


@app.get("/orders/<order_id>")
def get_order(order_id: str):
    order = saga_store().get(order_id)
    if order is None:
        return json_response(404, {"message": f"order {order_id} not found"})
    return json_response(200, order.as_record())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict, context) -> dict:
    return app.resolve(event, context)
