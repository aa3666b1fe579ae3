"""SagaStore on DynamoDB: one table of orders (key orderId), one of stock (key sku, attribute
stock). A step's status change and its stock change go in one TransactWriteItems, so a crash
or a duplicate can never leave stock taken without the order saying so, or the other way round.
"""

from __future__ import annotations

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from ..domain.errors import InsufficientStock, OrderExists, StaleOrder
from ..domain.order import Order, Status

_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


class DynamoSagaStore:
    def __init__(self, orders_table: str, inventory_table: str | None = None, client=None) -> None:
        self._client = client or boto3.client("dynamodb")
        self._orders = orders_table
        self._inventory = inventory_table

    def add(self, order: Order) -> None:
        try:
            self._client.put_item(
                TableName=self._orders,
                Item=_item(order.as_record()),
                ConditionExpression="attribute_not_exists(orderId)",
            )
        except self._client.exceptions.ConditionalCheckFailedException as error:
            raise OrderExists(order.order_id) from error

    def get(self, order_id: str) -> Order | None:
        found = self._client.get_item(
            TableName=self._orders, Key=_item({"orderId": order_id}), ConsistentRead=True
        )
        return Order.from_record(_plain(found["Item"])) if "Item" in found else None

    def remove(self, order_id: str) -> None:
        self._client.delete_item(TableName=self._orders, Key=_item({"orderId": order_id}))

    def transition(self, order: Order, expected: Status, stock_delta: int = 0) -> None:
        writes = [self._order_write(order, expected)]
        if stock_delta:
            writes.append(self._stock_write(order.sku, stock_delta))
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            codes = [reason.get("Code") for reason in reasons]
            if codes and codes[0] == "ConditionalCheckFailed":
                raise StaleOrder(order.order_id) from error
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                raise InsufficientStock(order.sku) from error
            raise

    def stock(self, sku: str) -> int:
        found = self._client.get_item(
            TableName=self._inventory_table, Key=_item({"sku": sku}), ConsistentRead=True
        )
        return int(found["Item"]["stock"]["N"]) if "Item" in found else 0

    def set_stock(self, sku: str, units: int) -> None:
        self._client.put_item(
            TableName=self._inventory_table, Item=_item({"sku": sku, "stock": units})
        )

    @property
    def _inventory_table(self) -> str:
        if not self._inventory:
            raise RuntimeError("this store was built without an inventory table")
        return self._inventory

    def _order_write(self, order: Order, expected: Status) -> dict:
        return {
            "Put": {
                "TableName": self._orders,
                "Item": _item(order.as_record()),
                "ConditionExpression": "#status = :expected",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": _item({":expected": str(expected)}),
            }
        }

    def _stock_write(self, sku: str, delta: int) -> dict:
        update: dict = {
            "TableName": self._inventory_table,
            "Key": _item({"sku": sku}),
            "UpdateExpression": "ADD stock :delta",
            "ExpressionAttributeValues": _item({":delta": delta}),
        }
        if delta < 0:
            # Taking stock: only from an existing item holding enough units, never below zero.
            update["ConditionExpression"] = "stock >= :units"
            update["ExpressionAttributeValues"].update(_item({":units": -delta}))
        return {"Update": update}


def _item(values: dict) -> dict:
    return {key: _serialize(value) for key, value in values.items()}


def _plain(item: dict) -> dict:
    return {key: _deserialize(value) for key, value in item.items()}
