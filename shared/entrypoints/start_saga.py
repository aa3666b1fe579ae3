"""The outbox relay, for both styles: the orders table's stream feeds this function, and each
newly stored CREATED order gets its saga started. Storing the order is thus the only write the
API makes; a crash anywhere after it is retried by the stream (and, failing that, finished by
the reconciler), never lost. Each style's start_saga handler is this, given its own starter."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
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
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

    def start(record: DynamoDBRecord) -> None:
        image = record.dynamodb.new_image if record.dynamodb else None
        if record.event_name is not DynamoDBRecordEventName.INSERT or not image:
            return
        order = Order.from_record(image)
        logger.append_keys(orderId=order.order_id)
        faults.maybe_fail(STEP, faults.BEFORE)
        if steps.start_saga(order, starter()):
            logger.info(SAGA_STARTED, extra={"step": STEP})
        faults.maybe_fail(STEP, faults.AFTER)

    @logger.inject_lambda_context
    def handler(event: dict, context) -> PartialItemFailureResponse:
        # A failed record is retried on its own (ReportBatchItemFailures), the rest go through.
        return process_partial_response(event, start, processor, context)

    return handler
