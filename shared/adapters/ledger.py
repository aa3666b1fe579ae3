"""PaymentLedger on DynamoDB: the payment provider's book, one item per entry, key (orderId,
entry). The orderId is the provider's idempotency key: each kind of entry is written at most
once per order (a conditional put), and a charge is refused once the order's payment was voided
or refunded (a condition check in the same transaction), so money is never taken twice, returned
twice, or taken after the saga gave it up."""

from __future__ import annotations

from decimal import Decimal

import boto3
from botocore.exceptions import ClientError

from ..domain.errors import PaymentVoided
from ..domain.order import now_iso
from ..domain.payment import Entry, LedgerEntry, new_payment_id, new_refund_id
from .dynamodb import item, plain


class DynamoPaymentLedger:
    def __init__(self, table: str, client=None) -> None:
        self._client = client or boto3.client("dynamodb")
        self._table = table

    def charge(self, order_id: str, amount: Decimal) -> str:
        wanted = LedgerEntry(order_id, Entry.CHARGE, new_payment_id(), amount, now_iso())
        writes = [self._put(wanted)] + [self._absent(order_id, e) for e in (Entry.VOID, Entry.REFUND)]
        codes = self._transact(writes)
        if not codes:
            return wanted.entry_id
        if codes[0] == "ConditionalCheckFailed":
            return self._entry(order_id, Entry.CHARGE).entry_id
        raise PaymentVoided(f"payment of order {order_id} was voided or refunded")

    def refund(self, order_id: str) -> str | None:
        charge = self._find(order_id, Entry.CHARGE)
        if charge is None:
            void = LedgerEntry(order_id, Entry.VOID, new_refund_id(), Decimal(0), now_iso())
            codes = self._transact([self._put(void), self._absent(order_id, Entry.CHARGE)])
            if not codes or codes[0] == "ConditionalCheckFailed":
                return None  # voided now or before
            return self.refund(order_id)  # a charge landed in between: refund it
        refund = LedgerEntry(order_id, Entry.REFUND, new_refund_id(), charge.amount, now_iso())
        if self._transact([self._put(refund)]):
            return self._entry(order_id, Entry.REFUND).entry_id
        return refund.entry_id

    def entries(self, order_id: str) -> list[LedgerEntry]:
        found = self._client.query(
            TableName=self._table,
            KeyConditionExpression="orderId = :id",
            ExpressionAttributeValues=item({":id": order_id}),
            ConsistentRead=True,
        )
        return [_entry(plain(i)) for i in found["Items"]]

    def every_entry(self) -> dict[str, list[LedgerEntry]]:
        """Every order's entries, by order id, in one scan: for checks over a whole run's orders
        (`make chaos`), where a query per order was thousands of requests."""
        out: dict[str, list[LedgerEntry]] = {}
        for page in self._client.get_paginator("scan").paginate(TableName=self._table, ConsistentRead=True):
            for record in page["Items"]:
                found = _entry(plain(record))
                out.setdefault(found.order_id, []).append(found)
        return out

    def _find(self, order_id: str, entry: Entry) -> LedgerEntry | None:
        found = self._client.get_item(
            TableName=self._table,
            Key=item({"orderId": order_id, "entry": str(entry)}),
            ConsistentRead=True,
        )
        return _entry(plain(found["Item"])) if "Item" in found else None

    def _entry(self, order_id: str, entry: Entry) -> LedgerEntry:
        found = self._find(order_id, entry)
        if found is None:
            raise RuntimeError(f"ledger {entry} of order {order_id} vanished")
        return found

    def _put(self, entry: LedgerEntry) -> dict:
        record = {
            "orderId": entry.order_id,
            "entry": str(entry.entry),
            "entryId": entry.entry_id,
            "amount": entry.amount,
            "at": entry.at,
        }
        return {
            "Put": {
                "TableName": self._table,
                "Item": item(record),
                "ConditionExpression": "attribute_not_exists(orderId)",
            }
        }

    def _absent(self, order_id: str, entry: Entry) -> dict:
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": item({"orderId": order_id, "entry": str(entry)}),
                "ConditionExpression": "attribute_not_exists(orderId)",
            }
        }

    def _transact(self, writes: list[dict]) -> list[str]:
        """[] if written; else the cancellation code of each write ("None" where it passed).
        Conflicts and throttling are raised: the step fails and is retried."""
        try:
            self._client.transact_write_items(TransactItems=writes)
            return []
        except ClientError as error:
            codes = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
            if "ConditionalCheckFailed" not in codes:
                raise
            return codes


def _entry(record: dict) -> LedgerEntry:
    return LedgerEntry(
        order_id=record["orderId"],
        entry=Entry(record["entry"]),
        entry_id=record["entryId"],
        amount=Decimal(str(record["amount"])),
        at=record.get("at", ""),
    )
