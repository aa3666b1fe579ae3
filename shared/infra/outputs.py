"""Stack outputs both styles expose (the e2e tests and scripts read them by these ids)."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from shared.infra.alarms import SagaAlarms
from shared.infra.api import OrdersApi
from shared.infra.tables import SagaTables


def add_common_outputs(
    stack: Stack,
    *,
    api: OrdersApi,
    tables: SagaTables,
    dead_letter_queue: sqs.IQueue,
    reconciler: lambda_.IFunction,
    alarms: SagaAlarms,
) -> None:
    CfnOutput(stack, "ApiUrl", value=api.url, description="Invoke URL of the orders API stage")
    CfnOutput(stack, "RestApiId", value=api.rest_api.rest_api_id, description="Id of the orders REST API")
    CfnOutput(stack, "OrdersTableName", value=tables.orders.table_name)
    CfnOutput(stack, "InventoryTableName", value=tables.inventory.table_name)
    CfnOutput(stack, "PaymentsTableName", value=tables.payments.table_name, description="The payment ledger")
    CfnOutput(
        stack,
        "IdempotencyTableName",
        value=tables.idempotency.table_name,
        description="Which order each customer's Idempotency-Key placed (records expire after a day)",
    )
    if api.customers is not None:
        CfnOutput(stack, "UserPoolId", value=api.customers.user_pool.user_pool_id, description="The customers")
        CfnOutput(
            stack,
            "UserPoolClientId",
            value=api.customers.client.user_pool_client_id,
            description="The app client customers sign in with (its ID token goes in Authorization)",
        )
    if api.api_key is not None:
        CfnOutput(
            stack,
            "ApiKeyId",
            value=api.api_key.key_id,
            description="The storefront's API key, sent as x-api-key (its value: aws apigateway get-api-key)",
        )
    CfnOutput(stack, "DeadLetterQueueUrl", value=dead_letter_queue.queue_url)
    CfnOutput(stack, "ReconcilerFunctionName", value=reconciler.function_name)
    CfnOutput(
        stack,
        "AlarmNamePrefix",
        value=alarms.name_prefix,
        description="Every alarm of the stack is named with this prefix (DescribeAlarms AlarmNamePrefix)",
    )
    if alarms.topic is not None:
        CfnOutput(
            stack,
            "AlarmTopicArn",
            value=alarms.topic.topic_arn,
            description="Every alarm notifies this SNS topic: subscribe a mailbox or a pager to it",
        )
