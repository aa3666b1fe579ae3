"""Published per-hop latencies the cloud projection uses: the one place to update them.

Source: "Serverless Messaging: Latency Compared", Bite-Sized Serverless,
  https://bitesizedserverless.com/bite/serverless-messaging-latency-compared/
A producer Lambda sends a message stamped with its send time, 1,024 times in a row; a consumer
Lambda on the other side records when it receives it. eu-west-1, measured 2022-09-04/05, except
EventBridge, measured again after its event buses' performance upgrade of 2023-02-17 (the figures
below are that second run). Recorded here 2026-11-28. Latencies change with AWS's releases:
check the page before quoting a number.

Each figure is what the wiring adds from the producer's call to the consumer Lambda running,
warm (1,024 sequential calls: cold starts are in none of the percentiles here that matter). Where
a hop of this saga was not measured as such, the closest measurement stands for it (see HOPS).

Left out, because it is the same in every style or outside the traced saga: API Gateway (before
the order is stored, where the trace starts), the client's network, Lambda cold starts.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

LATENCY_RECORDED = "2026-11-28"
LATENCY_SOURCE = "bitesizedserverless.com/bite/serverless-messaging-latency-compared, eu-west-1"

# The keys the projection uses for each kind of hand-off.
STREAM = "dynamodb-stream"
STANDARD = "standard"
EXPRESS = "express"
EVENTBRIDGE = "eventbridge"


class Hop(BaseModel):
    """One published producer -> consumer Lambda latency distribution."""

    model_config = ConfigDict(frozen=True)

    name: str
    p50_ms: float
    p99_ms: float
    measured: str  # when the source measured it
    stands_for: str  # which hand-off of this saga it is taken for


HOPS: dict[str, Hop] = {
    STREAM: Hop(
        name="DynamoDB stream -> Lambda",
        p50_ms=213,
        p99_ms=552,
        measured="2022-09-04/05",
        stands_for="create_order's write -> the orders table's stream -> start_saga (the outbox relay)",
    ),
    # The "sync" rows: a Task state invoking the Lambda and waiting for its answer, as ours do.
    # Measured from StartExecution to the first task's Lambda running; it stands for every step's
    # hand-off: the previous task's answer back, the next state, its invoke. No published figure
    # splits a running execution's transition from its start, so later steps may be pessimistic.
    STANDARD: Hop(
        name="Step Functions Standard -> Lambda task",
        p50_ms=99.1,
        p99_ms=250,
        measured="2022-09-04/05",
        stands_for="start_saga -> the first step, then each step -> the next (Standard workflow)",
    ),
    EXPRESS: Hop(
        name="Step Functions Express -> Lambda task",
        p50_ms=77.3,
        p99_ms=241,
        measured="2022-09-04/05",
        stands_for="the same hand-offs, the state machine run as an Express workflow",
    ),
    # Measured from PutEvents to the subscriber running: exactly a step's outcome event reaching
    # the next step (the put itself also lies in the publishing handler's measured time).
    EVENTBRIDGE: Hop(
        name="EventBridge -> Lambda",
        p50_ms=148,
        p99_ms=387,
        measured="2023-02, after the 2023-02-17 upgrade",
        stands_for="start_saga's OrderCreated -> the first step, then each outcome event -> the next step",
    ),
}

LATENCY_TABLE = tuple(
    (hop.name, f"p50 {hop.p50_ms:g} ms, p99 {hop.p99_ms:g} ms (measured {hop.measured})") for hop in HOPS.values()
)
