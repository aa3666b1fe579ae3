"""Idempotency records on DynamoDB (shared.domain.idempotency): one table, key (customerId,
idempotencyKey), attributes orderId, requestHash, placedAt and expiresAt (epoch seconds, the
table's TTL attribute). DynamoSagaStore writes a record in the same TransactWriteItems as its
order; this module says what the record's item and its conditional Put look like.

DynamoDB's TTL deletes an expired item some time after it expired (within days), so the Put's
condition treats an expired record still in the table as absent: the key is free once expired.
"""

from __future__ import annotations

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ..domain.idempotency import IdempotencyRecord

CUSTOMER_ATTRIBUTE = "customerId"  # partition key
KEY_ATTRIBUTE = "idempotencyKey"  # sort key
EXPIRES_ATTRIBUTE = "expiresAt"  # the table's TTL attribute

_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


def key_of(customer_id: str, key: str) -> dict:
    return {CUSTOMER_ATTRIBUTE: _serialize(customer_id), KEY_ATTRIBUTE: _serialize(key)}


def claim(table: str, record: IdempotencyRecord) -> dict:
    """The transaction item that stores `record` unless an unexpired record holds its key."""
    values = {
        CUSTOMER_ATTRIBUTE: record.customer_id,
        KEY_ATTRIBUTE: record.key,
        "orderId": record.order_id,
        "requestHash": record.request_hash,
        "placedAt": record.placed_at,
        EXPIRES_ATTRIBUTE: record.expires_at,
    }
    return {
        "Put": {
            "TableName": table,
            "Item": {name: _serialize(value) for name, value in values.items()},
            "ConditionExpression": "attribute_not_exists(#key) OR #expires < :now",
            "ExpressionAttributeNames": {"#key": KEY_ATTRIBUTE, "#expires": EXPIRES_ATTRIBUTE},
            "ExpressionAttributeValues": {":now": _serialize(record.placed_at)},
        }
    }


def from_item(item: dict) -> IdempotencyRecord:
    values = {name: _deserialize(value) for name, value in item.items()}
    return IdempotencyRecord(
        customer_id=values[CUSTOMER_ATTRIBUTE],
        key=values[KEY_ATTRIBUTE],
        order_id=values["orderId"],
        request_hash=values["requestHash"],
        placed_at=int(values["placedAt"]),
        expires_at=int(values[EXPIRES_ATTRIBUTE]),
    )
