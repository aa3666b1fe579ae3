"""The benchmark's handler/hop split, on step logs captured from real runs."""

import json
from pathlib import Path

import pytest

from tools.bench import stats
from tools.bench.handlers import OrderMarks, marks_from

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"


@pytest.mark.parametrize("style", ["orchestration", "choreography"])
def test_a_happy_saga_splits_into_handlers_and_three_hops(style):
    capture = json.loads((FIXTURES / f"{style}-happy.json").read_text())
    marks: dict[str, OrderMarks] = {}
    marks_from((e["message"] for e in capture["logs"]), {capture["order_id"]}, marks)
    order = marks[capture["order_id"]]
    assert order.complete and order.retries == 0
    hops = order.hops_ms()
    assert len(hops) == 3 and all(h > 0 for h in hops)
    assert order.handler_ms() > 0
    assert order.window_ms() == pytest.approx(order.handler_ms() + sum(hops))


def test_lines_of_other_orders_and_non_json_lines_are_ignored():
    capture = json.loads((FIXTURES / "choreography-happy.json").read_text())
    marks: dict[str, OrderMarks] = {}
    marks_from(["START RequestId: x", "not json {", *(e["message"] for e in capture["logs"])], {"other"}, marks)
    assert marks == {}


def test_percentiles_are_ordered():
    values = [float(v) for v in range(1, 101)]
    p50, p95, p99 = (stats.percentile(values, q) for q in (50, 95, 99))
    assert p50 <= p95 <= p99 and p50 == pytest.approx(50.5)
