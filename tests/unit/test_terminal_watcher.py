"""The bench's and chaos's watcher of orders in flight: a waiting worker wakes when its order is
terminal, or has reached what else it waits for (chaos: its saga started)."""

from shared.adapters.dynamodb import item
from tools import aws
from tools.analysis.bench.load import TerminalWatcher
from tools.analysis.chaos import saga_started


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
