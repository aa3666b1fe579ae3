"""Published AWS list prices the cost estimate uses: the one place to update them.

Source: the AWS pricing pages, us-east-1, on-demand, free tiers ignored:
  https://aws.amazon.com/step-functions/pricing/
  https://aws.amazon.com/eventbridge/pricing/
  https://aws.amazon.com/lambda/pricing/
Recorded 2026-11-27. Prices change: check the pages before quoting a number.

What is left out, because it is the same for both styles or not what differs between them:
Lambda duration (the same handlers run in both), DynamoDB (its stream included: a Lambda trigger
reads it for free, and both styles start the saga from it), API Gateway, CloudWatch Logs, the
event tap (instrumentation, not the saga), and data transfer. Lambda requests include create_order
and start_saga, the same two in both styles.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from shared.contract import CHOREOGRAPHY
from tools.analysis.compare.model import Trace

PRICES_RECORDED = "2026-11-27"
PRICES_SOURCE = "aws.amazon.com/{step-functions,eventbridge,lambda}/pricing, us-east-1, on-demand"

STANDARD_PER_TRANSITION = Decimal("0.025") / 1000  # $0.025 per 1,000 state transitions
EXPRESS_PER_REQUEST = Decimal("1.00") / 1_000_000  # $1.00 per million executions...
EXPRESS_PER_GB_SECOND = Decimal("0.00001667")  # ...plus duration: first 1,000 GB-hours a month,
EXPRESS_MIN_MEMORY_GB = Decimal(64) / 1024  # billed in 64 MB chunks (64 MB covers these payloads)
EXPRESS_BILLING_MS = 100  # and rounded up to 100 ms
EVENTBRIDGE_PER_EVENT = Decimal("1.00") / 1_000_000  # $1.00 per million custom events (64 KB chunks)
LAMBDA_PER_REQUEST = Decimal("0.20") / 1_000_000  # $0.20 per million requests

MILLION = 1_000_000

PRICE_TABLE = (
    ("Step Functions Standard", "$0.025 per 1,000 state transitions (retries included)"),
    ("Step Functions Express", "$1.00 per million requests + $0.00001667 per GB-second (64 MB, 100 ms steps)"),
    ("EventBridge custom events", "$1.00 per million events published"),
    ("Lambda requests", "$0.20 per million requests (duration left out: the same handlers on both sides)"),
)


class Cost(BaseModel):
    """Dollars per million orders like this one, by what is billed."""

    lambda_requests: Decimal
    workflow: Decimal  # Step Functions Standard and/or EventBridge events (the hybrid: both)
    express: Decimal | None = None  # the same state machine as an Express workflow (its events included)

    @property
    def total(self) -> Decimal:
        return self.lambda_requests + self.workflow


def per_million(trace: Trace) -> Cost:
    counts = trace.counts
    lambdas = counts.invocations * LAMBDA_PER_REQUEST * MILLION
    events = counts.events * EVENTBRIDGE_PER_EVENT * MILLION
    if trace.style == CHOREOGRAPHY:
        return Cost(lambda_requests=lambdas, workflow=events)
    return Cost(
        lambda_requests=lambdas,
        workflow=counts.transitions * STANDARD_PER_TRANSITION * MILLION + events,
        express=express_per_execution(_execution_ms(trace)) * MILLION + events,
    )


def express_per_execution(duration_ms: float) -> Decimal:
    billed_ms = -(-int(duration_ms) // EXPRESS_BILLING_MS) * EXPRESS_BILLING_MS or EXPRESS_BILLING_MS
    gb_seconds = EXPRESS_MIN_MEMORY_GB * Decimal(billed_ms) / 1000
    return EXPRESS_PER_REQUEST + gb_seconds * EXPRESS_PER_GB_SECOND


def _execution_ms(trace: Trace) -> float:
    # The execution's duration: from its first state entered to its last state's end.
    states = [s for s in trace.spans if s.kind == "state"]
    if not states:
        return 0.0
    return (max(s.end for s in states) - min(s.start for s in states)).total_seconds() * 1000
