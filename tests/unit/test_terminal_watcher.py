"""The bench's and chaos's watcher of orders in flight: a waiting worker wakes when its order is
terminal, or has reached what else it waits for (chaos: its saga started, or stalled)."""

from shared.adapters.dynamodb import item
from tools import aws
from tools.analysis.bench.load import TerminalWatcher
from tools.analysis.chaos import ended_or_stalled, saga_started


class _Orders:
    """A DynamoDB client whose BatchGetItem answers from `statuses`."""

    def __init__(self) -> None:
        self.statuses: dict[str, str] = {}

    def batch_get_item(self, RequestItems: dict) -> dict:
        [(table, request)] = RequestItems.items()
        ids = [key["orderId"]["S"] for key in request["Keys"]]
        found = [item({"orderId": i, "status": self.statuses[i]}) for i in ids if i in self.statuses]
        return {"Responses": {table: found}}


def test_a_worker_wakes_once_its_order_reaches_what_it_waits_for(monkeypatch):
    orders = _Orders()
    monkeypatch.setattr(aws, "outputs", lambda style: {"OrdersTableName": "orders"})
    monkeypatch.setattr(aws, "client", lambda service: orders)
    orders.statuses["o-1"] = "CREATED"
    with TerminalWatcher("orchestration", poll_s=0.01) as watcher:
        assert watcher.wait("o-1", 0.3) == {} and watcher.wait("o-1", 0.3, until=saga_started) == {}
        orders.statuses["o-1"] = "INVENTORY_RESERVED"
        assert watcher.wait("o-1", 5, until=saga_started)["status"] == "INVENTORY_RESERVED"
        assert watcher.wait("o-1", 0.3) == {}  # started is not ended
        orders.statuses["o-1"] = "SHIPPING_SCHEDULED"
        assert watcher.wait("o-1", 5) == {"orderId": "o-1", "status": "SHIPPING_SCHEDULED"}


def test_a_started_saga_that_stops_moving_frees_its_place_but_one_at_work_or_not_started_does_not():
    now = [100.0]
    clock = lambda: now[0]  # noqa: E731
    condition = ended_or_stalled(stall_s=3.0, clock=clock)
    assert not condition({"status": "INVENTORY_RESERVED"})
    now[0] += 2.0
    assert not condition({"status": "PAYMENT_CHARGED"})  # moving: a step every 2 s
    now[0] += 2.9
    assert not condition({"status": "PAYMENT_CHARGED"})
    now[0] += 0.2
    assert condition({"status": "PAYMENT_CHARGED"})  # 3.1 s without a step: left to a retry or the reconciler
    not_started = ended_or_stalled(stall_s=3.0, clock=clock)
    assert not not_started({"status": "CREATED"})
    now[0] += 60
    assert not not_started({"status": "CREATED"})  # the relay behind: the place is kept
    assert ended_or_stalled(stall_s=3.0, clock=clock)({"status": "SHIPPING_SCHEDULED"})  # ended at once
