"""The invariant suite: faults injected into every step, duplicate deliveries and concurrent
orders against low stock, on each deployed style; every guarantee checked on the final tables."""

import json
import time

import pytest

from tools import aws
from tools.analysis import chaos
from tools.operator import dlq, trigger


def test_a_malformed_event_is_parked_in_the_dlq_and_changes_nothing(deployed):
    style = "choreography"
    order_id = trigger.place_order(
        style, {"customerId": "CUST-1", "sku": "DEMO-SKU", "quantity": 1, "amount": 5}
    ).json()["orderId"]
    record = trigger.wait_for_terminal(style, order_id, timeout=60)
    aws.client("events").put_events(
        Entries=[
            {
                "EventBusName": aws.outputs(style)["EventBusName"],
                "Source": "saga.payment",
                "DetailType": "PaymentFailed",
                "Detail": json.dumps({"orderId": order_id, "reason": "?"}),
            }
        ]
    )
    queue = aws.outputs(style)["DeadLetterQueueUrl"]
    deadline, parked = time.monotonic() + 60, []
    while time.monotonic() < deadline and not parked:
        found = dlq.receive_all(queue)
        parked = [p for p in found if p.order_id == order_id]
        dlq.release(queue, [p for p in found if p not in parked])
        time.sleep(0.5)
    assert parked, "the malformed event never reached the dead-letter queue"
    assert "ValidationError" in parked[0].error
    assert parked[0].target_name == f"{aws.STACKS[style]}-release-inventory"
    aws.client("sqs").delete_message(QueueUrl=queue, ReceiptHandle=parked[0].receipt)
    assert trigger.wait_for_terminal(style, order_id, timeout=5) == record


@pytest.mark.reconfigures_functions
@pytest.mark.parametrize("style", aws.STYLES)
def test_guarantees_hold_under_faults_duplicates_and_concurrency(deployed, style):
    result = chaos.run(style, orders=10, seed=11, fault_rate=0.3, duplicate_share=0.3)
    assert result.violations == []
    assert len(result.records) == 10 and result.duplicates == 3
    assert result.faults > 0  # the faults really fired, so the retries really ran
