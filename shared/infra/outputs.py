"""Stack outputs both styles expose (the e2e tests and scripts read them by these ids)."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack

from shared.infra.api import OrdersApi
from shared.infra.tables import SagaTables


def add_common_outputs(stack: Stack, *, api: OrdersApi, tables: SagaTables) -> None:
    CfnOutput(stack, "ApiUrl", value=api.url, description="Invoke URL of the orders API stage")
    CfnOutput(stack, "RestApiId", value=api.rest_api.rest_api_id, description="Id of the orders REST API")
    CfnOutput(stack, "OrdersTableName", value=tables.orders.table_name)
    CfnOutput(stack, "InventoryTableName", value=tables.inventory.table_name)
