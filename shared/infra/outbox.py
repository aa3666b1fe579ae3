"""`OutboxRelay`: the orders table's stream feeds the `start_saga` function, which starts the saga
of each newly stored order (`shared.entrypoints.start_saga`).

Only INSERT records reach the function (an event filter: updates and deletes never start a saga,
and are not even billed as invocations). A failed record is retried on its own: the function
reports batch item failures, and a failing batch is split in two until the bad record is alone.
After `RETRY_ATTEMPTS` retries the record's stream coordinates go to the dead-letter queue (the
order itself stays in the table, where the reconciler finds it): the shard moves on, so one bad
record never holds back the orders behind it. And a failing record holds back only the orders of
its lane: up to `PARALLELIZATION_FACTOR` batches of the shard are processed at once, each order's
records always in the same lane (the stream's order is kept per key, and an order has one insert).
"""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

BATCH_SIZE = 10
RETRY_ATTEMPTS = 10
PARALLELIZATION_FACTOR = 10  # Lambda's maximum for a stream shard
# Only new orders start a saga.
INSERT_ONLY = lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.is_equal("INSERT")})


class OutboxRelay(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        function: lambda_.Function,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = function
        self.source = sources.DynamoEventSource(
            table,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=BATCH_SIZE,
            filters=[INSERT_ONLY],
            report_batch_item_failures=True,
            bisect_batch_on_error=True,
            retry_attempts=RETRY_ATTEMPTS,
            parallelization_factor=PARALLELIZATION_FACTOR,
            on_failure=sources.SqsDlq(dead_letter_queue),
        )
        function.add_event_source(self.source)
