"""DynamoDB tables of the saga: orders (pk orderId) and inventory (pk sku)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct


class SagaTables(Construct):
    """The orders and inventory tables: on-demand, destroyed with the stack (demo data only),
    with point-in-time recovery so a bad write can be undone while the stack lives."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.orders = self._table("Orders", "orderId")
        self.inventory = self._table("Inventory", "sku")

    def _table(self, construct_id: str, partition_key: str) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
