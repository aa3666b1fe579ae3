"""DynamoDB tables of the saga: orders (pk orderId), inventory (pk sku), the payment ledger
(pk orderId, sk entry) and the API's idempotency records (pk customerId, sk idempotencyKey).

The orders table is also the saga's outbox: its stream (new images) feeds the `start_saga`
relay (`shared.infra.outbox`), so storing an order is the one write that starts its saga. Its
sparse index WatchList (watch, updatedAt) holds only the orders that are not finished or wait
for a person (`shared.adapters.dynamodb`), so the reconciler queries it instead of scanning.

The idempotency records (`shared.adapters.idempotency`) expire after a day: DynamoDB's TTL on
`expiresAt` deletes them. They go with the stack on both targets: they only matter while the
API that reads them exists.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from shared.adapters import idempotency
from shared.adapters.dynamodb import WATCH_ATTRIBUTE, WATCH_INDEX
from shared.infra.target import Target

STRING = dynamodb.AttributeType.STRING


class SagaTables(Construct):
    """The orders, inventory and payment ledger tables: on-demand, with point-in-time recovery so
    a bad write can be undone. On LocalStack they go with the stack (demo data only); on AWS
    (`shared.infra.target`) they are retained when the stack is removed, and deletion protection
    refuses to delete them until it is switched off on purpose (README: removing it). The
    idempotency table is on-demand with point-in-time recovery too, and always goes with the stack."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.target = Target.of(self)
        self.orders = self._table("Orders", "orderId", stream=dynamodb.StreamViewType.NEW_IMAGE)
        self.orders.add_global_secondary_index(
            index_name=WATCH_INDEX,
            partition_key=dynamodb.Attribute(name=WATCH_ATTRIBUTE, type=STRING),
            sort_key=dynamodb.Attribute(name="updatedAt", type=STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        self.inventory = self._table("Inventory", "sku")
        self.payments = self._table("Payments", "orderId", sort_key="entry")
        self.idempotency = self._table(
            "Idempotency",
            idempotency.CUSTOMER_ATTRIBUTE,
            sort_key=idempotency.KEY_ATTRIBUTE,
            time_to_live=idempotency.EXPIRES_ATTRIBUTE,
            removal_policy=RemovalPolicy.DESTROY,
        )

    @property
    def watch_index_arn(self) -> str:
        """The ARN of the WatchList index alone (a grant on it names no other index)."""
        return f"{self.orders.table_arn}/index/{WATCH_INDEX}"

    def _table(
        self,
        construct_id: str,
        partition_key: str,
        *,
        sort_key: str | None = None,
        stream: dynamodb.StreamViewType | None = None,
        time_to_live: str | None = None,
        removal_policy: RemovalPolicy | None = None,
    ) -> dynamodb.Table:
        retained = removal_policy is None and self.target.table_deletion_protection
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=partition_key, type=STRING),
            sort_key=dynamodb.Attribute(name=sort_key, type=STRING) if sort_key else None,
            stream=stream,
            time_to_live_attribute=time_to_live,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=removal_policy or self.target.table_removal_policy,
            # None leaves the property out (off).
            deletion_protection=True if retained else None,
        )
