"""The outbox relay, for both styles: the orders table's stream feeds this function, and each
newly stored CREATED order gets its saga started. Storing the order is thus the only write the
API makes; a crash anywhere after it is retried by the stream (and, failing that, finished by
the reconciler), never lost. Each style's start_saga handler is this, given its own starter.

The records of a batch are started concurrently: each start is one request (StartExecution or
PutEvents) of tens of milliseconds, and one at a time they made this function, which a shard's
batches go through one after another, what bounded how many sagas a second could start. They are
different orders, so their order does not matter; each record still fails or succeeds alone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from .. import faults, steps
from ..contract import SAGA_STARTED, START_SAGA
from ..domain.order import Order
from ..ports import SagaStarter
from .runtime import logger

STEP = START_SAGA


def start_saga_handler(starter: Callable[[], SagaStarter]):
    processor = AsyncBatchProcessor(event_type=EventType.DynamoDBStreams)

    def start(record: DynamoDBRecord, saga_starter: SagaStarter) -> None:
        image = record.dynamodb.new_image if record.dynamodb else None
        if record.event_name is not DynamoDBRecordEventName.INSERT or not image:
            return
        order = Order.from_record(image)
        # This thread's own key: the batch's other records are logged from other threads.
        logger.thread_safe_append_keys(orderId=order.order_id)
        faults.maybe_fail(STEP, faults.BEFORE)
        if steps.start_saga(order, saga_starter):
            logger.info(SAGA_STARTED, extra={"step": STEP})
        faults.maybe_fail(STEP, faults.AFTER)

    @logger.inject_lambda_context
    def handler(event: dict, context) -> PartialItemFailureResponse:
        saga_starter = starter()  # built here, once: creating boto3 clients is not thread-safe

        async def start_in_thread(record: DynamoDBRecord) -> None:
            await asyncio.to_thread(start, record, saga_starter)

        # A failed record is retried on its own (ReportBatchItemFailures), the rest go through.
        return async_process_partial_response(event, start_in_thread, processor, context)

    return handler
