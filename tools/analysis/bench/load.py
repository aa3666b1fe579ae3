"""Drive orders through a deployed style's API, `concurrency` of them in flight at a time.

Closed loop: each of `concurrency` workers posts an order, waits until it is terminal, posts the
next. The POST goes through the style's API (API Gateway -> create_order Lambda), like a client's.

When an order is terminal is read from the orders table, not by polling GET /orders/{id}: one
BatchGetItem every POLL_S for the orders in flight costs LocalStack one cheap DynamoDB call,
where GET polling would cost an API Gateway request and a Lambda invocation per order and poll,
competing for the same 2 cores as the sagas being measured (the gateway's per-request handling is
most of LocalStack's CPU: see the README's Benchmarks section). And the time is not the moment the
poll saw it: it is the order's own `updatedAt`, written by the step that made it terminal (same
host, same clock as the client), so the polling interval adds nothing to the figures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime

import requests
from botocore.exceptions import BotoCoreError, ClientError

from shared.adapters.dynamodb import item, plain
from shared.contract import TERMINAL_STATUSES
from tools import aws
from tools.operator import trigger

POLL_S = 0.1
# No saga finishes this soon after its POST is answered: not polling such orders keeps the watcher's
# own load on LocalStack (every request costs its HTTP gateway CPU) to a few calls a second.
MIN_AGE_S = 0.2
ORDER_TIMEOUT_S = 60.0
BENCH_STOCK = 10_000_000


@dataclass
class OrderRun:
    """One order as the benchmark saw it. Times are epoch seconds."""

    style: str
    concurrency: int
    order_id: str = ""
    status: str = ""
    error: str = ""
    post_sent: float = 0.0  # just before the POST left the client
    post_answered: float = 0.0  # the 201 arrived
    created_at: float | None = None  # the order record's createdAt (create_order's clock)
    updated_at: float | None = None  # its updatedAt once terminal: the terminal status's write

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def latency_ms(self) -> float | None:
        """POST sent -> terminal status written."""
        if not self.terminal or self.updated_at is None:
            return None
        return (self.updated_at - self.post_sent) * 1000

    def as_dict(self) -> dict:
        return asdict(self)


def bench_sku(style: str) -> str:
    """A SKU of the benchmark's own, stocked for any run: the demo stock is left alone."""
    return trigger.stocked_sku(style, BENCH_STOCK, prefix="BENCH")


def _epoch(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


def ended(record: dict) -> bool:
    return record.get("status") in TERMINAL_STATUSES


class TerminalWatcher:
    """Watches the orders table for the orders in flight; wakes each one's worker when its order
    is terminal (or has reached what else it waits for)."""

    def __init__(self, style: str, poll_s: float = POLL_S) -> None:
        self._table, self._poll_s = aws.outputs(style)["OrdersTableName"], poll_s
        self._client = aws.client("dynamodb")
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[threading.Event, dict, float, Callable[[dict], bool]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"watch-{style}", daemon=True)

    def __enter__(self) -> TerminalWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def wait(self, order_id: str, timeout: float, until: Callable[[dict], bool] = ended) -> dict:
        """The order's record once terminal (or once `until` holds for it), or {} at the timeout."""
        done, found = threading.Event(), {}
        with self._lock:
            self._waiting[order_id] = (done, found, time.monotonic() + MIN_AGE_S, until)
        done.wait(timeout)
        with self._lock:
            self._waiting.pop(order_id, None)
        return found

    def _loop(self) -> None:
        while not self._stop.wait(self._poll_s):
            now = time.monotonic()
            with self._lock:
                ids = [i for i, (_, _, due, _) in self._waiting.items() if due <= now]
            for start in range(0, len(ids), 100):  # BatchGetItem takes 100 keys at most
                try:
                    self._wake(self._fetch(ids[start : start + 100]))
                except (BotoCoreError, ClientError):  # a failed poll is retried on the next tick
                    continue

    def _wake(self, records: list[dict]) -> None:
        for record in records:
            with self._lock:
                done, found, _, until = self._waiting.get(record["orderId"], (None, None, 0, ended))
                if done is None or not until(record):
                    continue
                del self._waiting[record["orderId"]]
            found.update(record)
            done.set()

    def _fetch(self, ids: list[str]) -> list[dict]:
        keys = [item({"orderId": i}) for i in ids]
        out: list[dict] = []
        request = {self._table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            answer = self._client.batch_get_item(RequestItems=request)
            out += [plain(found) for found in answer["Responses"].get(self._table, [])]
            request = answer.get("UnprocessedKeys") or {}
        return out


def drive(style: str, orders: int, concurrency: int, sku: str, timeout: float = ORDER_TIMEOUT_S) -> list[OrderRun]:
    """Run `orders` happy-path orders, `concurrency` in flight; one OrderRun per order, in order."""
    url = aws.orders_url(style)
    body = {"customerId": "CUST-BENCH", "sku": sku, "quantity": 1, "amount": 9.9}
    runs = [OrderRun(style, concurrency) for _ in range(orders)]
    next_index = iter(range(orders))
    take = threading.Lock()

    def worker() -> None:
        session = requests.Session()
        while True:
            with take:
                index = next(next_index, None)
            if index is None:
                return
            run = runs[index]
            run.post_sent = time.time()
            try:
                answer = session.post(url, json=body, timeout=30)
                run.post_answered = time.time()
                if answer.status_code != 201:
                    run.error = f"HTTP {answer.status_code}: {answer.text[:200]}"
                    continue
                created = answer.json()
                run.order_id = created["orderId"]
                run.created_at = _epoch(created.get("createdAt"))
            except requests.RequestException as exc:
                run.error = f"{type(exc).__name__}: {exc}"
                continue
            record = watcher.wait(run.order_id, timeout)
            if not record:
                run.error = f"not terminal after {timeout:.0f} s"
                continue
            run.status = record["status"]
            run.updated_at = _epoch(record.get("updatedAt"))

    with TerminalWatcher(style) as watcher, ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    return runs
