"""Randomized resilience run on the deployed stacks: many orders against low stock, with faults
injected into every step (the outbox relay and the compensations included), duplicate
deliveries, and sagas killed mid-way, then every guarantee checked on the orders, the stock and
the payment ledger.

    python -m tools.analysis.chaos [--orders 40] [--seed 7] [--fault-rate 0.2] [--duplicates 0.25] [--kill 0.1]
                                   [--in-flight 32] [--style STYLE ...]

The styles run at the same time, each with `--in-flight` orders at work at once. Faults, dropped
outcomes and killed sagas are in force while the orders are placed; then they are lifted (the
storm ends, as a Jepsen nemesis heals before the final checks) and the run waits for every order
to reach an end, the reconciler finishing those the storm left stuck. With the faults kept on
that long, a choreographed order could lose an outcome again after each recovery, and the run's
end waited for the longest such chain (several reconciler rounds of 2-3 minutes each). An order drawn
to be delivered twice gets its saga's start delivered again as soon as it has ended (a killed one:
once the reconciler has finished it), so no phase of the run waits for the others.

Faults: each step invocation fails with about `--fault-rate`, half before its write and half
after it (a lost answer: after a charge, a refund, a start); the hybrid's notification service
too. Killed sagas (`--kill`, a share): orchestration and the hybrid stop that share of the orders'
executions as soon as they run; choreography drops that share of step outcomes on the bus (each
step's outcome, with that probability). Only the reconciler can finish those, so the run
waits up to the deployment's stuck-order deadline plus two reconciler periods for an order to end. The
hybrid's customer notifications are checked too: each order that reached an end notified once,
with its outcome, or its outcome parked in the dead-letter queue.

The seed fixes the orders (scenario mix, quantities), which are delivered twice and which
executions are stopped; the fault draws happen inside the Lambdas. Exits non-zero on any
invariant violation.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests
from botocore.exceptions import ClientError
from rich.console import Console
from rich.table import Table

from hybrid.notifications import Notification
from shared import contract
from shared.adapters.stepfunctions import execution_name
from shared.domain.order import Order, Status
from shared.events import OrderCreated
from shared.faults import TransientFault
from shared.steps import outcome_event
from tools import aws
from tools.analysis import invariants
from tools.analysis.bench.load import TerminalWatcher, ended
from tools.console import console
from tools.operator import dlq, faults, trigger
from tools.operator.scenarios import SCENARIOS

MIX = (("happy", 6), ("declined", 2), ("out-of-stock", 1), ("undeliverable", 1))
RECONCILER_PERIOD = 60
# From an order's end to its customer notification: the publish, the rule, Lambda's async retries.
NOTIFICATION_WAIT = 60
# Orders are placed `in_flight` at a time: each placing thread waits until its order has ended, or
# has stalled (started, and its status unchanged for STALL_S: a saga waiting for the reconciler
# or for a retry's backoff, no work for LocalStack), or this long, before placing the next (an
# order it had killed, not at all). The number of sagas at work stays bounded: placing faster
# than LocalStack finishes them left it with thousands of waiting executions and invocations,
# each a thread. A stalled saga frees its place at once: a choreographed saga whose outcome was
# dropped (a quarter of its orders at KILL=0.1) waits minutes for the reconciler, and holding its
# place for this long had choreography place its orders 60 % slower than the other styles.
SLOT_WAIT_S = 10.0
STALL_S = 3.0
# ... but a place is not freed while its order's saga has not even started (the order still
# CREATED: the outbox relay behind, retrying): else placing outran the relay, and in a 15,000-order
# run thousands of orders waited in CREATED, left to the reconciler's pace. Up to this long: an
# order whose start went to the relay's dead-letter queue waits for the reconciler.
START_WAIT_S = 60.0
# How often the placing threads' orders are looked up (one BatchGetItem per style). At the bench's
# 0.1 s, the lookups of 3 x 32 orders in flight were a seventh of LocalStack's CPU in a
# 15,000-order run, taken from the sagas; a place freed up to half a second late costs little.
WATCH_POLL_S = 0.5
# The final checks read every order, ledger and notification: this many requests at a time.
READERS = 8

_progress = Console(stderr=True)


@dataclass
class ChaosResult:
    style: str
    orders: int
    stock_before: int
    stock_after: int = 0
    duplicates: int = 0
    faults: int = 0
    killed: int = 0
    records: list[dict] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    notified: int | None = None  # customer notifications recorded (the hybrid only)
    seconds: float = 0.0  # from the first order placed to the last check

    @property
    def compensations(self) -> int:
        return sum(r["status"] == invariants.RELEASED for r in self.records)

    @property
    def refunds(self) -> int:
        return sum(bool(r.get("refundId")) for r in self.records)

    @property
    def recovered(self) -> int:
        return sum(bool(r.get("recoveryAttempts")) for r in self.records)


def plan(rng: random.Random, orders: int, sku: str) -> list[dict]:
    names = rng.choices([n for n, _ in MIX], weights=[w for _, w in MIX], k=orders)
    bodies = []
    for name in names:
        body = dict(SCENARIOS[name].order, quantity=rng.randint(1, 3), amount=round(rng.uniform(5, 500), 2))
        if name != "out-of-stock":
            body["sku"] = sku
        bodies.append(body)
    return bodies


def deliver_again(style: str, record: dict) -> None:
    """The saga's start delivered a second time, as at-least-once delivery may, through the
    style's own starter."""
    aws.starter(style).start(outcome_event(Order.from_record(record), OrderCreated))


def recovery_wait(style: str) -> float:
    """The deployment's stuck-order deadline plus two reconciler periods (and some slack)."""
    name = aws.outputs(style)["ReconcilerFunctionName"]
    config = aws.client("lambda").get_function_configuration(FunctionName=name)
    stuck_after = float(config["Environment"]["Variables"][contract.STUCK_AFTER_VARIABLE])
    return stuck_after + 2 * RECONCILER_PERIOD + 30


class Killer:
    """Stops the executions of the orders it is given as soon as they run (orchestration, the
    hybrid), on a thread of its own: placing orders never waits for a saga to start. One
    ListExecutions of the running executions per poll serves every order waiting to be killed.
    An order is given up `within` s after it was handed over (with faults in the outbox relay, the
    stream's retries can hold a saga's start back that long), or once its execution has ended."""

    # A saga under chaos runs for seconds: four looks a second still stop it mid-way, and each look
    # is a ListExecutions that walks every execution LocalStack holds (ten a second per style were
    # a twentieth of its requests in a 4,500-order run).
    POLL_S = 0.25
    ENDED_CHECK_EVERY = 20  # polls between checks of whether a waiting order's execution has ended

    def __init__(self, style: str, within: float = 60.0) -> None:
        self._machine, self._sfn = aws.state_machine(style), aws.client("stepfunctions")
        self._arn, self._within = aws.outputs(style)["StateMachineArn"], within
        self._waiting: dict[str, float] = {}  # order id -> when to give up
        self._lock, self._closing = threading.Lock(), threading.Event()
        self.killed = 0
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name=f"killer-{style}", daemon=True)
        self._thread.start()

    def kill(self, order_id: str) -> None:
        with self._lock:
            self._waiting[order_id] = time.monotonic() + self._within

    def close(self) -> int:
        """Wait until every order handed over was killed or given up; the number killed."""
        self._closing.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.killed

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as error:  # raised again by close(), on the caller's thread
            self._error = error

    def _loop(self) -> None:
        polls = 0
        while True:
            with self._lock:
                waiting = dict(self._waiting)
            if not waiting and self._closing.is_set():
                return
            if waiting:
                self._stop_running(waiting)
                polls += 1
                if polls % self.ENDED_CHECK_EVERY == 0:
                    self._forget_ended(waiting)
            time.sleep(self.POLL_S)

    def _stop_running(self, waiting: dict[str, float]) -> None:
        pages = self._sfn.get_paginator("list_executions").paginate(stateMachineArn=self._arn, statusFilter="RUNNING")
        try:
            running = {e["name"]: e["executionArn"] for page in pages for e in page["executions"]}
        except ClientError as error:
            # LocalStack's ListExecutions fails now and then while executions are being added
            # ("OrderedDict mutated during iteration"): the next poll lists them again.
            if error.response["Error"]["Code"] != "InternalError":
                raise
            return
        for order_id, give_up in waiting.items():
            arn = running.get(execution_name(order_id))
            if arn is not None and self._stop(arn):
                self.killed += 1
                self._forget(order_id)
            elif time.monotonic() > give_up:
                self._forget(order_id)

    def _stop(self, arn: str) -> bool:
        try:
            self._sfn.stop_execution(executionArn=arn, cause="chaos: killed mid-way")
            return True
        except ClientError as error:
            # LocalStack answers InternalError to a stop that comes before the execution's worker
            # is set up, and the execution may have ended since it was listed: try the next poll.
            if error.response["Error"]["Code"] not in ("InternalError", "ExecutionDoesNotExist"):
                raise
            return False

    def _forget_ended(self, waiting: dict[str, float]) -> None:
        for order_id in waiting:
            if self._machine.execution_status(execution_name(order_id)) not in (None, "RUNNING"):
                self._forget(order_id)  # it ended before it could be stopped

    def _forget(self, order_id: str) -> None:
        with self._lock:
            self._waiting.pop(order_id, None)


def saga_started(record: dict) -> bool:
    return record.get("status") != Status.CREATED


def ended_or_stalled(stall_s: float = STALL_S, clock: Callable[[], float] = time.monotonic) -> Callable[[dict], bool]:
    """A watcher condition (it sees the order's record at each poll) that holds once the order has
    ended, or once its saga has started and its status has not changed for `stall_s` s."""
    seen = {"status": None, "since": clock()}

    def holds(record: dict) -> bool:
        now, status = clock(), record.get("status")
        if status != seen["status"]:
            seen.update(status=status, since=now)
        return ended(record) or (saga_started(record) and now - seen["since"] >= stall_s)

    return holds


def count_faults(style: str, since_ms: int) -> tuple[int, int]:
    """(faults injected, outcome events dropped) in the style's functions since `since_ms`: only
    the lines that say so are read (a 15,000-order run's logs are hundreds of thousands of lines)."""
    injected = f"{TransientFault.__name__}: {contract.INJECTED_FAULT}"
    reads = [(step, marker) for step in faults.steps_of(style) for marker in (injected, contract.OUTCOME_DROPPED)]

    def count(read: tuple[str, str]) -> int:
        step, marker = read
        return len(aws.log_events(aws.log_group(style, step), since_ms=since_ms, containing=marker))

    totals: Counter[str] = Counter()
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        for (_, marker), n in zip(reads, pool.map(count, reads), strict=True):
            totals[marker] += n
    return totals[injected], totals[contract.OUTCOME_DROPPED]


def run(
    style: str,
    orders: int,
    seed: int,
    fault_rate: float,
    duplicate_share: float,
    kill_share: float = 0.0,
    timeout: float = 120,
    in_flight: int = 32,
) -> ChaosResult:
    rng = random.Random(f"{seed}-{style}")
    started = time.monotonic()
    result = ChaosResult(style, orders, stock_before=max(1, orders // 2))
    sku = trigger.stocked_sku(style, result.stock_before, prefix="CHAOS")
    bodies = plan(rng, orders, sku)
    since_ms = int(time.time() * 1000) - 1000
    drop = kill_share if style not in contract.ORCHESTRATED else 0
    faults.set_rate(style, fault_rate)
    faults.set_rate(style, drop, variable=faults.DROP_RATE)
    try:
        doomed = set(rng.sample(range(orders), k=int(orders * kill_share))) if not drop else set()
        twice = set(rng.sample(range(orders), k=int(orders * duplicate_share)))
        killer = Killer(style) if doomed else None
        with TerminalWatcher(style, WATCH_POLL_S) as watcher, ThreadPoolExecutor(max_workers=in_flight) as pool:

            def place(numbered: tuple[int, dict]) -> requests.Response:
                index, body = numbered
                answer = trigger.place_order(style, body)
                if answer.status_code == 201 and index not in doomed:
                    order_id = answer.json()["orderId"]
                    seen = watcher.wait(order_id, SLOT_WAIT_S, until=ended_or_stalled())
                    if not seen:
                        seen = watcher.wait(order_id, START_WAIT_S, until=saga_started)
                    if index in twice:
                        deliver_again(style, seen if ended(seen) else aws.read_order(style, order_id))
                elif answer.status_code == 201 and killer is not None:
                    killer.kill(answer.json()["orderId"])
                return answer

            answers = list(pool.map(place, enumerate(bodies)))
        progress(style, f"{orders} orders placed after {time.monotonic() - started:.0f} s")
        order_ids = [a.json()["orderId"] for a in answers if a.status_code == 201]
        refused = [f"{a.status_code} {a.text[:120]}" for a in answers if a.status_code != 201]
        result.killed = killer.close() if killer is not None else 0
        lift_faults(style)
        # With faults, some sagas need the reconciler even when none was killed: a step whose
        # every attempt failed (3 at 0.2 is 1 in 125) parks its event in the dead-letter queue and
        # leaves the order where it stopped. Settling waits long enough for it, as for the killed.
        result.records = settle(style, order_ids, timeout + recovery_wait(style))
        # The killed orders drawn to be delivered twice: once they have ended, so that the second
        # delivery meets a saga the reconciler finished.
        late_indices = doomed & twice
        late = {a.json()["orderId"] for i, a in enumerate(answers) if i in late_indices and a.status_code == 201}
        for record in [r for r in result.records if r["orderId"] in late]:
            deliver_again(style, record)
        again = {r["orderId"]: r for r in settle(style, sorted(late), timeout)}
        result.records = [again.get(r["orderId"], r) for r in result.records]
        result.duplicates = len(twice & {i for i, a in enumerate(answers) if a.status_code == 201})
        progress(style, f"every order settled after {time.monotonic() - started:.0f} s")
    finally:
        lift_faults(style)
    result.stock_after = trigger.stock(style, sku)
    injected, dropped = count_faults(style, since_ms)
    result.faults, result.killed = injected, result.killed + dropped
    every_entry = aws.ledger(style).every_entry()
    entries = {oid: every_entry.get(oid, []) for oid in order_ids}
    result.violations = invariants.violations(result.records, result.stock_before, result.stock_after, entries)
    if contract.NOTIFY_CUSTOMER in contract.EXTRA_FUNCTIONS.get(style, ()):
        notified, dead_letters = notifications(style, result.records)
        result.notified = sum(n is not None for n in notified.values())
        result.violations += invariants.notification_violations(result.records, notified, dead_letters)
    if refused:
        result.violations.append(f"{len(refused)} orders refused by the API: {'; '.join(refused)}")
    result.seconds = time.monotonic() - started
    return result


def lift_faults(style: str) -> None:
    faults.set_rate(style, 0)
    faults.set_rate(style, 0, variable=faults.DROP_RATE)


def progress(style: str, message: str) -> None:
    _progress.print(f"[dim]chaos:[/] {style}: {message}", soft_wrap=True)


def settle(style: str, order_ids: list[str], patience: float) -> list[dict]:
    """Each order's record once terminal, read through the API `READERS` at a time (one after
    another, 15,000 reads took minutes). The wait is as long as orders keep ending: the rest are
    taken as they stand once none has for `patience` s (a large run's backlog drains for minutes)."""
    last_ended, lock = [time.monotonic()], threading.Lock()

    def read(oid: str) -> dict:
        while True:  # the deadline moves on while other orders end
            left = last_ended[0] + patience - time.monotonic()
            try:
                record = trigger.wait_for_terminal(style, oid, max(1.0, min(left, patience / 10)))
            except trigger.TriggerFailed:
                if last_ended[0] + patience > time.monotonic():
                    continue
                return aws.read_order(style, oid)
            with lock:
                last_ended[0] = max(last_ended[0], time.monotonic())
            return record

    with ThreadPoolExecutor(max_workers=READERS) as pool:
        return list(pool.map(read, order_ids))


def notifications(
    style: str, records: list[dict], timeout: float = NOTIFICATION_WAIT
) -> tuple[dict[str, Notification | None], set[str]]:
    """Each order's customer notification (None: none) and the orders whose outcome the
    dead-letter queue holds, once every order that reached an end has one or the other, or when
    `timeout` s have passed."""
    store, queue = aws.notifications(style), aws.outputs(style)["DeadLetterQueueUrl"]
    announced = {r["orderId"] for r in records if r["status"] in invariants.ANNOUNCED}
    found: dict[str, Notification | None] = {r["orderId"]: None for r in records}
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        while True:
            missing = [oid for oid, n in found.items() if n is None]
            found.update(zip(missing, pool.map(store.get, missing), strict=True))
            parked = dlq.receive_all(queue)
            dlq.release(queue, parked)
            dead_letters = {p.order_id for p in parked}
            waiting = {oid for oid in announced if found[oid] is None} - dead_letters
            if not waiting or time.monotonic() >= deadline:
                return found, dead_letters
            time.sleep(0.5)


def report(results: list[ChaosResult]) -> None:
    table = Table(title="chaos: invariants under faults, duplicates, killed sagas and concurrency")
    columns = (
        "style",
        "orders",
        "faults injected",
        "sagas killed",
        "duplicates",
        "recovered by reconciler",
        "refunds",
        "compensations",
        "stock before → after",
        "customers notified",
        "violations",
        "time (s)",
    )
    for column in columns:
        table.add_column(column)
    for r in results:
        table.add_row(
            r.style,
            str(r.orders),
            str(r.faults),
            str(r.killed),
            str(r.duplicates),
            str(r.recovered),
            str(r.refunds),
            str(r.compensations),
            f"{r.stock_before} → {r.stock_after}",
            "—" if r.notified is None else str(r.notified),
            f"[{'red' if r.violations else 'green'}]{len(r.violations)}",
            f"{r.seconds:.0f}",
        )
    out = console()
    out.print(table)
    for r in results:
        for violation in r.violations:
            out.print(f"[red]{r.style}: {violation}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--duplicates", type=float, default=0.25, help="share of orders delivered twice")
    parser.add_argument("--kill", type=float, default=0.0, help="share of sagas killed mid-way")
    parser.add_argument("--in-flight", type=int, default=32, help="orders placed and not yet ended, per style")
    parser.add_argument("--style", choices=aws.STYLES, action="append")
    args = parser.parse_args()
    for name, value in (("--fault-rate", args.fault_rate), ("--duplicates", args.duplicates), ("--kill", args.kill)):
        if not 0 <= value <= 1:
            parser.error(f"{name} must be between 0 and 1")
    if args.orders < 1:
        parser.error("--orders must be at least 1")
    if args.in_flight < 1:
        parser.error("--in-flight must be at least 1")
    started, styles = time.monotonic(), args.style or aws.STYLES

    def run_style(style: str) -> ChaosResult:
        return run(style, args.orders, args.seed, args.fault_rate, args.duplicates, args.kill, in_flight=args.in_flight)

    # The styles run at the same time: each has its own stacks, and their waits (the outbox
    # relays' retries, the reconcilers) overlap instead of adding up.
    with ThreadPoolExecutor(max_workers=len(styles)) as pool:
        results = list(pool.map(run_style, styles))
    report(results)
    minutes = (time.monotonic() - started) / 60
    console().print(f"{args.orders} orders per style, {len(results)} styles at once: {minutes:.1f} minutes")
    sys.exit(1 if any(r.violations for r in results) else 0)


if __name__ == "__main__":
    main()
