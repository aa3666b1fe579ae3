"""The reconciler: finds orders whose saga stopped moving and drives each one to an end.

Plain rules over two ports: the store's index of open orders, and a `SagaDriver` per style
(orchestration looks at the order's execution and starts a new one; choreography re-publishes
the event the order waits on). Both rely on the steps being idempotent and re-entrant
(shared.steps): setting the saga going again replays what was done and goes on from there.

An order is looked at once it has not moved for `stuck_after`. Each time the reconciler acts it
notes it on the order (attempt count, what it did, a new last update), so it looks again only
after another `stuck_after`. After `max_attempts` it parks the order as NEEDS_ATTENTION, with the
reason, for a person: never silently.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from .domain.errors import StaleOrder
from .domain.order import Order, Status
from .events import (
    InventoryReserved,
    Message,
    OrderCreated,
    PaymentCharged,
    PaymentFailed,
    PaymentRefunded,
    ShippingFailed,
)
from .ports import SagaStore
from .steps import outcome_event

DEFAULT_STUCK_AFTER = timedelta(minutes=2)
DEFAULT_MAX_ATTEMPTS = 5
# Orders recovered at once. A recovery is a few requests that mostly wait (a claim, a look at the
# saga, a start or a publish): one after another, a backlog of hundreds of stuck orders — a burst
# of lost events — took the reconciler many rounds to clear.
RECOVERY_WORKERS = 8

# The event that starts the step an order in each open status waits for.
WAITING_ON: dict[Status, type[Message]] = {
    Status.CREATED: OrderCreated,
    Status.INVENTORY_RESERVED: InventoryReserved,
    Status.PAYMENT_CHARGED: PaymentCharged,
    Status.SHIPPING_FAILED: ShippingFailed,
    Status.PAYMENT_FAILED: PaymentFailed,
    Status.PAYMENT_REFUNDED: PaymentRefunded,
}


class SagaState(StrEnum):
    RUNNING = "running"  # something is driving the order now: leave it
    STOPPED = "stopped"  # nothing is: set it going again
    INTERRUPTED = "interrupted"  # stopped too: its last run ended before an end of the saga
    UNKNOWN = "unknown"  # the style cannot tell (choreography): act as if stopped


class Action(StrEnum):
    LEFT = "left running"
    RESUMED = "resumed"
    PARKED = "parked for a person"
    FAILED = "failed"  # the attempt raised: tried again next round (the claim counts as one attempt)


class SagaDriver(Protocol):
    def state(self, order: Order) -> SagaState: ...

    def interrupted(self, since: datetime) -> list[str]:
        """Orders whose latest run ended without reaching an end of the saga since `since`
        (an execution stopped, failed or timed out); [] where a style has no runs to look at."""

    def resume(self, order: Order) -> str:
        """Set the saga of `order` going again (`order.recovery_attempts` counts this attempt);
        returns what was done, in a few words."""


@dataclass(frozen=True)
class Recovery:
    order_id: str
    status: Status
    action: Action
    detail: str = ""


@dataclass(frozen=True)
class Round:
    recoveries: list[Recovery]
    oldest_open_seconds: float  # since the oldest open order was placed (0: none open)
    needing_attention: int  # orders parked for a person

    @property
    def failures(self) -> list[Recovery]:
        return [r for r in self.recoveries if r.action is Action.FAILED]


def waiting_on(order: Order) -> Message:
    return outcome_event(order, WAITING_ON[order.status])


def decide(order: Order, saga: SagaState, max_attempts: int) -> Action:
    if saga is SagaState.RUNNING:
        return Action.LEFT
    if (order.recovery_attempts or 0) >= max_attempts:
        return Action.PARKED
    return Action.RESUMED


def reconcile(
    store: SagaStore,
    driver: SagaDriver,
    now: datetime,
    stuck_after: timedelta = DEFAULT_STUCK_AFTER,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Round:
    open_orders = store.open_orders(updated_before=now.isoformat(timespec="milliseconds"))
    cutoff = (now - stuck_after).isoformat(timespec="milliseconds")
    stuck = [o for o in open_orders if o.updated_at < cutoff]
    recoveries = _each(stuck, lambda order: _recover(store, driver, order, max_attempts))
    recoveries += _finish_interrupted(store, driver, now - 2 * stuck_after, max_attempts)
    # Age since the order was placed, not since it last moved: every recovery attempt counts as a
    # move, so an order the reconciler keeps resuming would never look old.
    oldest = min((o.created_at for o in open_orders), default=None)
    age = (now - datetime.fromisoformat(oldest)).total_seconds() if oldest else 0.0
    return Round(recoveries, max(age, 0.0), store.count_needing_attention())


def _each(orders: list[Order], act: Callable[[Order], Recovery | None]) -> list[Recovery]:
    """`act` on every order, `RECOVERY_WORKERS` at a time (each order's claim is its own
    conditional write, so two orders never wait on each other); one order's failure must not stop
    the others' recovery. The recoveries come back in the orders' order."""
    with ThreadPoolExecutor(max_workers=RECOVERY_WORKERS) as pool:
        return [r for r in pool.map(lambda order: _attempt(act, order), orders) if r is not None]


def _attempt(act: Callable[[Order], Recovery | None], order: Order) -> Recovery | None:
    try:
        return act(order)
    except StaleOrder:
        return None  # it moved while we looked: not stuck
    except Exception as error:
        return Recovery(order.order_id, order.status, Action.FAILED, f"{type(error).__name__}: {error}")


def _finish_interrupted(store: SagaStore, driver: SagaDriver, since: datetime, max_attempts: int) -> list[Recovery]:
    """A finished order whose execution was stopped after its last step stored the end, and before
    the execution did what follows that end (the hybrid publishes the outcome there): the order is
    not open, so the first pass never sees it. Running the saga again replays to the same end and
    does the rest; a few attempts at most, as for open orders."""
    found = (store.get(order_id) for order_id in driver.interrupted(since))
    finished = [o for o in found if o is not None and o.is_terminal and (o.recovery_attempts or 0) < max_attempts]

    def run_again(order: Order) -> Recovery | None:
        if driver.state(order) is not SagaState.INTERRUPTED:
            return None  # a later run finished the saga
        return _resume(store, driver, order, f"re-ran the end of an interrupted run ({order.status})")

    return _each(finished, run_again)


def _resume(store: SagaStore, driver: SagaDriver, order: Order, why: str) -> Recovery:
    attempt = order.noted(why)
    store.note(attempt, seen=order)  # claim the attempt before acting: at most one per round
    return Recovery(order.order_id, order.status, Action.RESUMED, driver.resume(attempt))


def _recover(store: SagaStore, driver: SagaDriver, order: Order, max_attempts: int) -> Recovery:
    action = decide(order, driver.state(order), max_attempts)
    if action is Action.LEFT:
        return Recovery(order.order_id, order.status, action)
    if action is Action.PARKED:
        reason = f"stuck in {order.status} after {order.recovery_attempts} recovery attempts"
        if order.failure_reason:
            reason += f" ({order.failure_reason})"
        store.note(order.advance(Status.NEEDS_ATTENTION, failure_reason=reason), seen=order)
        return Recovery(order.order_id, order.status, action, reason)
    return _resume(store, driver, order, f"resumed from {order.status}")
