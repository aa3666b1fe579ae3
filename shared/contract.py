"""The contract between the deployed saga and the tools that drive and read it: what the stacks
name things, what the handlers log, which statuses end an order. The stacks (shared.infra), the
handlers and every tool take these names from here; none spells them out again.

Plain Python, no CDK and no boto3: the Lambda bundle, the CDK app and the tools all import it.
"""

from __future__ import annotations

from typing import Final

# The domain's converters between Python and record names are the contract's too.
from shared.domain.order import TERMINAL, snake
from shared.domain.order import camel as camel

# --- styles and their stacks (app.py) -------------------------------------------------------
ORCHESTRATION: Final = "orchestration"
CHOREOGRAPHY: Final = "choreography"
# Orchestration for the order, choreography for what follows: orchestration's state machine,
# which publishes the saga's outcome to a bus where a notification service reacts.
HYBRID: Final = "hybrid"
STACKS: Final = {ORCHESTRATION: "SagaOrchestration", CHOREOGRAPHY: "SagaChoreography", HYBRID: "SagaHybrid"}
STYLES: Final = tuple(STACKS)
# The styles whose order saga is a state machine's execution (started, stopped and restarted as
# one); choreography's is the events on its bus.
ORCHESTRATED: Final = frozenset({ORCHESTRATION, HYBRID})

# --- functions ------------------------------------------------------------------------------
# The saga steps: the forward ones in the order they run, then the compensations in theirs (the
# charge is refunded, then the reservation given back).
FORWARD_STEPS: Final = ("reserve_inventory", "charge_payment", "notify_shipping")
COMPENSATION_STEPS: Final = ("refund_payment", "release_inventory")
STEPS: Final = FORWARD_STEPS + COMPENSATION_STEPS
# The other functions: the orders API, the outbox relay and the reconciler.
CREATE_ORDER: Final = "create_order"
GET_ORDER: Final = "get_order"
START_SAGA: Final = "start_saga"
RECONCILE: Final = "reconcile"
# The hybrid's notification service: records a customer notification for each outcome published.
NOTIFY_CUSTOMER: Final = "notify_customer"
# The functions a style has besides the saga's (the steps, the API, the relay, the reconciler).
EXTRA_FUNCTIONS: Final[dict[str, tuple[str, ...]]] = {HYBRID: (NOTIFY_CUSTOMER,)}

# --- the orders API ---------------------------------------------------------------------------
API_STAGE: Final = "prod"
# Who the caller of the API handlers is, as the stack tells them from its target (shared.infra.api):
# `body`: the API is open and the body's customerId names the customer (LocalStack); `cognito-sub`:
# the caller signed in to the stack's Cognito user pool and is the customer (the ID token's `sub`).
CUSTOMER_IDENTITY_VARIABLE: Final = "CUSTOMER_IDENTITY"
CUSTOMER_FROM_BODY: Final = "body"
CUSTOMER_FROM_TOKEN: Final = "cognito-sub"

# --- log messages: what the handlers log and the tools look for --------------------------------
STEP_STARTED: Final = "step started"  # a step's handler, before the step runs (`step`)
STEP_DONE: Final = "step done"  # ... after it (`step`, `outcome`)
STEP_SKIPPED: Final = "step skipped"  # choreography: a late delivery to a finished order (`reason`);
# notify_customer: an outcome already notified (a duplicate delivery)
ORDER_CREATED: Final = "order created"  # create_order, once the order is stored (`orderId`)
ORDER_REPLAYED: Final = "order replayed"  # create_order, a POST retried with its idempotency key
ORDER_REFUSED: Final = "order refused"  # create_order, an invalid request (`errors`)
SAGA_STARTED: Final = "saga started"  # start_saga, once it has started the saga (`orderId`)
ORDER_RECOVERED: Final = "order recovered"  # reconcile, each time it acts on an order (`orderId`)
OUTCOME_DROPPED: Final = "outcome dropped (injected)"  # shared.faults: an outcome event lost on purpose
INJECTED_FAULT: Final = "injected fault"  # shared.faults: how an injected failure's message starts

# --- environment the tools set or read on deployed functions ----------------------------------
FAULT_RATE_VARIABLE: Final = "SAGA_FAULT_RATE"
DROP_RATE_VARIABLE: Final = "SAGA_DROP_RATE"
STUCK_AFTER_VARIABLE: Final = "STUCK_AFTER_SECONDS"

# --- statuses -----------------------------------------------------------------------------------
# The order statuses a saga ends in, as the API and the tables show them.
TERMINAL_STATUSES: Final = frozenset(str(status) for status in TERMINAL)


# --- names ----------------------------------------------------------------------------------------
# The one set of name converters: `camel` and `snake` (record keys, from shared.domain.order), and
# the names of functions, constructs, states and events below.


def kebab(name: str) -> str:
    """`reserve_inventory` -> `reserve-inventory`."""
    return name.replace("_", "-")


def pascal(name: str) -> str:
    """`reserve_inventory` -> `ReserveInventory`, `SHIPPING_SCHEDULED` -> `ShippingScheduled`: a
    construct id, a state name, an event's detail-type."""
    return "".join(part.capitalize() for part in name.split("_"))


def unpascal(name: str) -> str:
    """`ReserveInventory` -> `reserve_inventory`."""
    return snake(name[:1].lower() + name[1:])


def function_name(stack: str, name: str) -> str:
    """The deployed name of one of a stack's functions: `reserve_inventory` in SagaOrchestration
    -> `SagaOrchestration-reserve-inventory`."""
    return f"{stack}-{kebab(name)}"


def log_group(function: str) -> str:
    """The log group of a deployed function, where Lambda writes by default."""
    return f"/aws/lambda/{function}"
