"""NotificationStore on DynamoDB: one item per order (key orderId), written once."""

from __future__ import annotations

import boto3

from hybrid.notifications import Notification
from shared.adapters.dynamodb import item, plain


class DynamoNotificationStore:
    def __init__(self, table: str, client=None) -> None:
        self._client = client or boto3.client("dynamodb")
        self._table = table

    def add(self, notification: Notification) -> bool:
        # Conditional: the first delivery's record stays, a duplicate is refused by the table.
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item(notification.as_record()),
                ConditionExpression="attribute_not_exists(orderId)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, order_id: str) -> Notification | None:
        found = self._client.get_item(TableName=self._table, Key=item({"orderId": order_id}), ConsistentRead=True)
        return Notification.from_record(plain(found["Item"])) if "Item" in found else None
