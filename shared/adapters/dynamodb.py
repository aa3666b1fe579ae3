"""SagaStore on DynamoDB: one table of orders (key orderId), one of stock (key sku, attribute
stock). A step's status change and its stock change go in one TransactWriteItems, so a crash
or a duplicate can never leave stock taken without the order saying so, or the other way round.
A new order placed with a client's idempotency key goes in one TransactWriteItems with the key's
record, in a table of its own (`shared.adapters.idempotency`).

Every order that is not finished carries `watch = "open"`, a parked one `watch = "attention"`,
a finished one no `watch` at all: the sparse index WATCH_INDEX (watch, updatedAt) holds only
the orders somebody may have to look at, so the reconciler and `make stuck` query it instead of
scanning the table. Every write sets it from the status it writes, so it follows the status.

A step acting on the order its event reports (`transition` with `seen`) writes an update of what
it changed, conditional on every field the event carries; a refused write returns the stored
item with the refusal (ReturnValuesOnConditionCheckFailure), so no step reads the order first
to find out whether it still may act, nor afterwards to find out what happened instead.
"""

from __future__ import annotations

import time

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from ..domain.errors import InsufficientStock, OrderExists, StaleOrder
from ..domain.idempotency import IdempotencyKeyHeld, IdempotencyRecord
from ..domain.order import Order, Status, camel
from . import idempotency as idempotency_items

WATCH_INDEX = "WatchList"
WATCH_ATTRIBUTE = "watch"
OPEN, ATTENTION = "open", "attention"
# Fields the store keeps for itself and an event does not carry: never part of `seen`'s check.
UNSEEN = frozenset({"orderId", "createdAt", "updatedAt", "recoveryAttempts", "lastRecovery"})
NEW_ORDER = "attribute_not_exists(orderId)"
# A record written by two requests at once: the loser's transaction is cancelled with
# TransactionConflict; it tries again (the winner's record then answers it).
CLAIM_ATTEMPTS = 3

_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


class DynamoSagaStore:
    def __init__(
        self,
        orders_table: str,
        inventory_table: str | None = None,
        client=None,
        idempotency_table: str | None = None,
    ) -> None:
        self._client = client or boto3.client("dynamodb")
        self._orders = orders_table
        self._inventory = inventory_table
        self._idempotency = idempotency_table

    def add(self, order: Order, idempotency: IdempotencyRecord | None = None) -> None:
        if idempotency is not None:
            return self._add_with_record(order, idempotency)
        try:
            self._client.put_item(
                TableName=self._orders,
                Item=_stored(order),
                ConditionExpression=NEW_ORDER,
            )
        except self._client.exceptions.ConditionalCheckFailedException as error:
            raise OrderExists(order.order_id) from error

    def _add_with_record(self, order: Order, record: IdempotencyRecord) -> None:
        """The order and its idempotency record in one TransactWriteItems: both or neither. Two
        requests with one key at once conflict on the record: the loser tries again, and then
        finds the winner's record (IdempotencyKeyHeld)."""
        if not self._idempotency:
            raise RuntimeError("this store was built without an idempotency table")
        writes = [
            idempotency_items.claim(self._idempotency, record),
            {"Put": {"TableName": self._orders, "Item": _stored(order), "ConditionExpression": NEW_ORDER}},
        ]
        for attempt in range(1, CLAIM_ATTEMPTS + 1):
            try:
                self._client.transact_write_items(TransactItems=writes)
                return
            except ClientError as error:
                codes = [reason.get("Code") for reason in error.response.get("CancellationReasons") or []]
                if codes[:1] == ["ConditionalCheckFailed"]:
                    held = self._record(record.customer_id, record.key)
                    if held is not None:
                        raise IdempotencyKeyHeld(held) from error
                elif len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                    raise OrderExists(order.order_id) from error
                elif "TransactionConflict" not in codes or attempt == CLAIM_ATTEMPTS:
                    raise
            time.sleep(0.05 * attempt)
        raise RuntimeError(f"idempotency key of order {order.order_id}: no answer after {CLAIM_ATTEMPTS} attempts")

    def _record(self, customer_id: str, key: str) -> IdempotencyRecord | None:
        found = self._client.get_item(
            TableName=self._idempotency, Key=idempotency_items.key_of(customer_id, key), ConsistentRead=True
        )
        return idempotency_items.from_item(found["Item"]) if "Item" in found else None

    def get(self, order_id: str) -> Order | None:
        found = self._client.get_item(TableName=self._orders, Key=item({"orderId": order_id}), ConsistentRead=True)
        return Order.from_record(plain(found["Item"])) if "Item" in found else None

    def transition(self, order: Order, expected: Status, stock_delta: int = 0, seen: Order | None = None) -> None:
        writes = [self._order_update(order, seen) if seen else self._order_write(order, expected)]
        if stock_delta:
            writes.append(self._stock_write(order.sku, stock_delta))
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            codes = [reason.get("Code") for reason in reasons]
            if codes and codes[0] == "ConditionalCheckFailed":
                found = reasons[0].get("Item")
                current = Order.from_record(plain(found)) if found else None
                raise StaleOrder(order.order_id, current) from error
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                raise InsufficientStock(order.sku) from error
            raise

    def note(self, order: Order, seen: Order) -> None:
        try:
            self._client.put_item(
                TableName=self._orders,
                Item=_stored(order),
                ConditionExpression="#status = :status AND updatedAt = :updated",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=item({":status": str(seen.status), ":updated": seen.updated_at}),
            )
        except self._client.exceptions.ConditionalCheckFailedException as error:
            raise StaleOrder(order.order_id) from error

    def open_orders(self, updated_before: str) -> list[Order]:
        return self._watched(OPEN, updated_before)

    def orders_needing_attention(self) -> list[Order]:
        return self._watched(ATTENTION)

    def count_needing_attention(self) -> int:
        """How many orders are parked, without reading them (the reconciler's metric, every minute)."""
        pages = self._client.get_paginator("query").paginate(
            TableName=self._orders,
            IndexName=WATCH_INDEX,
            KeyConditionExpression="#watch = :watch",
            ExpressionAttributeNames={"#watch": WATCH_ATTRIBUTE},
            ExpressionAttributeValues=item({":watch": ATTENTION}),
            Select="COUNT",
        )
        return sum(page["Count"] for page in pages)

    def _watched(self, watch: str, updated_before: str | None = None) -> list[Order]:
        condition = "#watch = :watch" + (" AND updatedAt < :before" if updated_before else "")
        values = {":watch": watch, **({":before": updated_before} if updated_before else {})}
        pages = self._client.get_paginator("query").paginate(
            TableName=self._orders,
            IndexName=WATCH_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#watch": WATCH_ATTRIBUTE},
            ExpressionAttributeValues=item(values),
        )
        # The index projects whole orders; a copy a moment old is fine, since whoever acts on
        # it writes conditionally on the status and last update it saw.
        return [Order.from_record(plain(i)) for page in pages for i in page["Items"]]

    def stock(self, sku: str) -> int:
        found = self._client.get_item(TableName=self._inventory_table, Key=item({"sku": sku}), ConsistentRead=True)
        return int(found["Item"]["stock"]["N"]) if "Item" in found else 0

    def set_stock(self, sku: str, units: int) -> None:
        self._client.put_item(TableName=self._inventory_table, Item=item({"sku": sku, "stock": units}))

    @property
    def _inventory_table(self) -> str:
        if not self._inventory:
            raise RuntimeError("this store was built without an inventory table")
        return self._inventory

    def _order_write(self, order: Order, expected: Status) -> dict:
        return {
            "Put": {
                "TableName": self._orders,
                "Item": _stored(order),
                "ConditionExpression": "#status = :expected",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": item({":expected": str(expected)}),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _order_update(self, order: Order, seen: Order) -> dict:
        """`order` written as an update of `seen`: the fields it changed (and the watch), only if
        the stored order has each field `seen` has, with the same value, and none it has not."""
        before, after = seen.as_record(), order.as_record()
        names: dict[str, str] = {}
        values: dict[str, object] = {}

        def name(field: str) -> str:
            names[f"#{field}"] = field
            return f"#{field}"

        def value(key: str, v: object) -> str:
            values[key] = v
            return key

        checks = [
            f"{name(f)} = {value(f':was_{f}', before[f])}" if f in before else f"attribute_not_exists({name(f)})"
            for f in map(camel, Order.__dataclass_fields__)
            if f not in UNSEEN
        ]
        sets = [f"{name(f)} = {value(f':new_{f}', v)}" for f, v in after.items() if before.get(f) != v]
        removes = [name(f) for f in before if f not in after and f not in UNSEEN]
        watch = _watch(order)
        if watch:
            sets.append(f"{name(WATCH_ATTRIBUTE)} = {value(':watch', watch)}")
        else:
            removes.append(name(WATCH_ATTRIBUTE))
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return {
            "Update": {
                "TableName": self._orders,
                "Key": item({"orderId": order.order_id}),
                "UpdateExpression": update,
                "ConditionExpression": " AND ".join(checks),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": item(values),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _stock_write(self, sku: str, delta: int) -> dict:
        update: dict = {
            "TableName": self._inventory_table,
            "Key": item({"sku": sku}),
            "UpdateExpression": "ADD stock :delta",
            "ExpressionAttributeValues": item({":delta": delta}),
        }
        if delta < 0:
            # Taking stock: only from an existing item holding enough units, never below zero.
            update["ConditionExpression"] = "stock >= :units"
            update["ExpressionAttributeValues"].update(item({":units": -delta}))
        return {"Update": update}


def _stored(order: Order) -> dict:
    record = order.as_record()
    watch = _watch(order)
    if watch:
        record[WATCH_ATTRIBUTE] = watch
    return item(record)


def _watch(order: Order) -> str | None:
    if order.status is Status.NEEDS_ATTENTION:
        return ATTENTION
    return None if order.is_terminal else OPEN


def item(values: dict) -> dict:
    return {key: _serialize(value) for key, value in values.items()}


def plain(item: dict) -> dict:
    return {key: _deserialize(value) for key, value in item.items()}
