"""`OrdersApi`: REST API with `POST /orders` and `GET /orders/{orderId}` (Lambda proxy).

The stage logs every request (access log, JSON, in a short-lived log group of its own) and API
Gateway's own errors (execution log at ERROR level, without request or response bodies, in the
group API Gateway would otherwise create with no expiry), and is throttled so an open demo API
cannot run up a bill. Deploying to real AWS needs the account's API Gateway CloudWatch Logs role
(Settings > "CloudWatch log role ARN", once per account and region): it is an account-wide
singleton, so it is not part of these stacks (`cloud_watch_role=False`). LocalStack needs none.

The methods have no authorizer and the body is validated by the create-order handler, not by
API Gateway (its 400 names each bad field): see `shared.infra.nag` for why, and what a
production deployment adds.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from shared.contract import API_STAGE
from shared.infra.log_groups import saga_log_group

# Steady requests per second and burst, for the whole stage: far above what the demo sends.
THROTTLING_RATE_LIMIT = 50
THROTTLING_BURST_LIMIT = 100


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
        stack_name = Stack.of(self).stack_name
        self.access_logs = saga_log_group(self, "AccessLogs", f"/aws/apigateway/{stack_name}-orders")
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{stack_name}-orders",
            description="Order saga: create an order, read its status",
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=API_STAGE,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,  # IAM caller and user: always empty, the API has no IAM auth
                    user=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # never log bodies (customer ids, amounts)
                throttling_rate_limit=THROTTLING_RATE_LIMIT,
                throttling_burst_limit=THROTTLING_BURST_LIMIT,
            ),
        )
        # Created before the stage goes live, so it gets a retention and goes away with the stack.
        self.execution_logs = saga_log_group(
            self, "ExecutionLogs", f"API-Gateway-Execution-Logs_{self.rest_api.rest_api_id}/{API_STAGE}"
        )
        self.rest_api.deployment_stage.node.add_dependency(self.execution_logs)

        orders = self.rest_api.root.add_resource("orders")
        orders.add_method("POST", apigw.LambdaIntegration(create_order))
        orders.add_resource("{orderId}").add_method("GET", apigw.LambdaIntegration(get_order))

    @property
    def url(self) -> str:
        return self.rest_api.url
