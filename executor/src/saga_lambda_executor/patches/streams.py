"""LocalStack's DynamoDB stream poller, reading and filtering as Lambda's does on AWS.

It reads at most BatchSize records per poll (a TODO in its code says so), before the event filter.
The orders table's stream carries every step's update, and only the inserts reach the outbox
relay: 10 records per 0.25 s poll capped the whole runtime at about 7 sagas a second, and a batch
of 10 records held about 2 inserts. Lambda's poller on AWS reads what the shard has (GetRecords
returns up to 1000 records) and drops what the filter does not match before it makes batches of
BatchSize; here it does the same.
"""

from __future__ import annotations

import copy
import functools

GET_RECORDS_LIMIT = 1000  # DynamoDB Streams' own maximum per GetRecords


class _WholeShardReads:
    """A poller's stream client whose GetRecords reads up to GET_RECORDS_LIMIT records."""

    def __init__(self, client) -> None:
        self._client = client

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    def get_records(self, **kwargs):
        return self._client.get_records(**{**kwargs, "Limit": GET_RECORDS_LIMIT})


def _reading_whole_shards(init):
    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.source_client = _WholeShardReads(self.source_client)

    __init__.patched = True
    return __init__


def _filtering_before_batching(get_records):
    """StreamPoller.get_records keeping only the records the mapping's filter lets through, so
    batches are made of those, as on AWS. The check runs on a copy: making an event of a record
    changes the record."""

    @functools.wraps(get_records)
    def filtered(self, shard_iterator: str) -> dict:
        response = get_records(self, shard_iterator)
        if self.filter_patterns:
            response["Records"] = [r for r in response.get("Records", []) if _lets_through(self, r)]
        return response

    filtered.patched = True
    return filtered


def _lets_through(poller, record: dict) -> bool:
    events = poller.pre_filter(poller.transform_into_events([copy.deepcopy(record)], shard_id=None))
    return bool(poller.filter_events(events))


def apply() -> None:
    from localstack.services.lambda_.event_source_mapping.pollers.dynamodb_poller import DynamoDBPoller

    if not hasattr(DynamoDBPoller.__init__, "patched"):
        DynamoDBPoller.__init__ = _reading_whole_shards(DynamoDBPoller.__init__)
    if not hasattr(DynamoDBPoller.get_records, "patched"):
        DynamoDBPoller.get_records = _filtering_before_batching(DynamoDBPoller.get_records)
