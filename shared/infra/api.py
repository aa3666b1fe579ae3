"""`OrdersApi`: REST API with `POST /orders` and `GET /orders/{orderId}` (Lambda proxy)."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

STAGE_NAME = "prod"


class OrdersApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        create_order: lambda_.IFunction,
        get_order: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{Stack.of(self).stack_name}-orders",
            description="Order saga: create an order, read its status",
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(stage_name=STAGE_NAME),
        )
        orders = self.rest_api.root.add_resource("orders")
        orders.add_method("POST", apigw.LambdaIntegration(create_order))
        orders.add_resource("{orderId}").add_method("GET", apigw.LambdaIntegration(get_order))

    @property
    def url(self) -> str:
        return self.rest_api.url
