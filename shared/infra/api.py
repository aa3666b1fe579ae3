"""`OrdersApi`: REST API with `POST /orders` and `GET /orders/{orderId}` (Lambda proxy).

The stage logs every request (access log, JSON, in a short-lived log group of its own) and API
Gateway's own errors (execution log at ERROR level, without request or response bodies, in the
group API Gateway would otherwise create with no expiry), and is throttled so an open demo API
cannot run up a bill. Deploying to real AWS needs the account's API Gateway CloudWatch Logs role
(Settings > "CloudWatch log role ARN", once per account and region): it is an account-wide
singleton, so it is not part of these stacks (`cloud_watch_role=False`). LocalStack needs none.

Who may call it is the target's (`shared.infra.target`), and the handlers are told through
`CUSTOMER_IDENTITY` (shared.entrypoints.http), never left to guess:

- local (LocalStack): no authorizer, the body names the customer (`body`), GET answers anyone.
- aws: both methods behind a Cognito user pool authorizer (`shared.infra.customers`): a request
  needs the ID token of a customer in `Authorization`, and the customer is the token's `sub`
  (`cognito-sub`). Both methods also require an API key, the client application's: its usage
  plan throttles each key and caps its requests a day, under the stage's throttle for everyone.

The body is validated by the create-order handler, not by API Gateway (its 400 names each bad
field): see `shared.infra.nag` for why, and what a production deployment adds (a WAF web ACL).
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from shared.contract import API_STAGE, CUSTOMER_FROM_BODY, CUSTOMER_FROM_TOKEN, CUSTOMER_IDENTITY_VARIABLE
from shared.infra.customers import Customers
from shared.infra.log_groups import saga_log_group
from shared.infra.target import Target

# Steady requests per second and burst, for the whole stage: far above what the demo sends.
THROTTLING_RATE_LIMIT = 50
THROTTLING_BURST_LIMIT = 100
# Per API key (one client application), aws target: a share of the stage's, and a day's cap on
# what one key can spend (100,000 requests: at most ~$14 of orchestrated orders, docs/aws.md).
KEY_RATE_LIMIT = 25
KEY_BURST_LIMIT = 50
KEY_REQUESTS_PER_DAY = 100_000


class OrdersApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        create_order: lambda_.Function,
        get_order: lambda_.Function,
    ) -> None:
        super().__init__(scope, construct_id)
        target = Target.of(self)
        stack_name = Stack.of(self).stack_name
        identity = CUSTOMER_FROM_TOKEN if target.api_authorizer else CUSTOMER_FROM_BODY
        for function in (create_order, get_order):
            function.add_environment(CUSTOMER_IDENTITY_VARIABLE, identity)
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
                    # IAM caller and user: always empty (no IAM auth); the Cognito caller is a
                    # customer id, which stays out of the logs.
                    caller=False,
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

        self.customers = Customers(self, "Customers") if target.api_authorizer else None
        access = self._access(self.customers, api_key_required=target.api_usage_plan)
        orders = self.rest_api.root.add_resource("orders")
        orders.add_method("POST", apigw.LambdaIntegration(create_order), **access)
        orders.add_resource("{orderId}").add_method("GET", apigw.LambdaIntegration(get_order), **access)
        self.api_key = self._usage_plan(stack_name) if target.api_usage_plan else None

    def _access(self, customers: Customers | None, *, api_key_required: bool) -> dict:
        """Method options: the customers' authorizer if there is one, the API key if required."""
        access: dict = {"api_key_required": True} if api_key_required else {}
        if customers is not None:
            access["authorizer"] = apigw.CognitoUserPoolsAuthorizer(
                self,
                "Authorizer",
                cognito_user_pools=[customers.user_pool],
                authorizer_name=f"{Stack.of(self).stack_name}-customers",
            )
            access["authorization_type"] = apigw.AuthorizationType.COGNITO
        return access

    def _usage_plan(self, stack_name: str) -> apigw.IApiKey:
        """The client application's API key, throttled and capped by its usage plan."""
        plan = self.rest_api.add_usage_plan(
            "UsagePlan",
            name=f"{stack_name}-orders",
            description="Per client application (API key): throttle and daily cap",
            throttle=apigw.ThrottleSettings(rate_limit=KEY_RATE_LIMIT, burst_limit=KEY_BURST_LIMIT),
            quota=apigw.QuotaSettings(limit=KEY_REQUESTS_PER_DAY, period=apigw.Period.DAY),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.rest_api, stage=self.rest_api.deployment_stage)],
        )
        key = apigw.ApiKey(
            self,
            "StorefrontKey",
            api_key_name=f"{stack_name}-storefront",
            description="The storefront's API key (its value: aws apigateway get-api-key --include-value)",
        )
        plan.add_api_key(key)
        return key

    @property
    def url(self) -> str:
        return self.rest_api.url
