"""The benchmark's handler/hop split, on logs captured from real runs (tests/fixtures/traces)."""

import json
from datetime import datetime
from pathlib import Path

import pytest

from tools.analysis.bench import handlers, report, run, stats
from tools.analysis.bench.handlers import OrderMarks, marks_from
from tools.analysis.bench.load import OrderRun
from tools.analysis.bench.model import BenchResult, Config, Machine, Usage
from tools.analysis.compare import capture as compare_capture

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"


def happy(style: str) -> dict:
    return json.loads((FIXTURES / f"{style}-happy.json").read_text())


def marks_of(capture: dict, messages: list[str] | None = None) -> OrderMarks | None:
    marks: dict[str, OrderMarks] = {}
    lines = messages if messages is not None else [e["message"] for e in capture["logs"]]
    marks_from(lines, {capture["order_id"]}, marks)
    return marks.get(capture["order_id"])


@pytest.mark.parametrize("style", ["orchestration", "choreography"])
def test_a_happy_saga_splits_into_handlers_and_four_hops(style):
    capture = happy(style)
    order = marks_of(capture)
    assert order.complete and order.retries == 0
    assert order.created < order.saga_started < order.started["reserve_inventory"]
    hops = order.hops_ms()
    # create_order -> (stream) start_saga, then -> reserve -> charge -> notify
    assert len(hops) == 4 == handlers.HOPS and all(h > 0 for h in hops)
    assert hops[0] == pytest.approx((order.saga_started - order.created) * 1000)
    assert order.handler_ms() > 0
    assert order.window_ms() == pytest.approx(order.handler_ms() + sum(hops))


def test_a_first_step_that_starts_before_saga_started_is_logged_ends_the_outbox_hop():
    # The relay logs once its start call returned; the saga's first step can already be running.
    order = marks_of(happy("choreography"))
    first = order.started["reserve_inventory"]
    order.saga_started = first + 0.040
    hops = order.hops_ms()
    assert hops[0] == pytest.approx((first - order.created) * 1000) and hops[1] == 0
    assert order.window_ms() == pytest.approx(order.handler_ms() + sum(hops))


def test_without_start_saga_the_order_is_not_complete():
    capture = happy("choreography")
    order = marks_of(capture, [e["message"] for e in capture["logs"] if '"saga started"' not in e["message"]])
    assert order.saga_started is None and not order.complete


def test_lines_of_other_orders_and_non_json_lines_are_ignored():
    capture = happy("choreography")
    marks: dict[str, OrderMarks] = {}
    marks_from(["START RequestId: x", "not json {", *(e["message"] for e in capture["logs"])], {"other"}, marks)
    assert marks == {}


@pytest.mark.parametrize(
    ("style", "stack"), [("orchestration", "SagaOrchestration"), ("choreography", "SagaChoreography")]
)
def test_the_bench_reads_create_order_start_saga_and_the_happy_steps(style, stack):
    names = ("create-order", "start-saga", "reserve-inventory", "charge-payment", "notify-shipping")
    assert handlers.log_groups(style) == [f"/aws/lambda/{stack}-{name}" for name in names]
    assert set(handlers.log_groups(style)) <= set(compare_capture.log_groups(style))


def _cell(style: str):
    """A cell of one order, the fixture's: its run as the load driver would have seen it."""
    capture = happy(style)
    record = capture["record"]
    created = datetime.fromisoformat(record["createdAt"]).timestamp()
    order = OrderRun(
        style,
        1,
        order_id=capture["order_id"],
        status=record["status"],
        post_sent=created - 0.05,
        post_answered=created + 0.01,
        created_at=created,
        updated_at=datetime.fromisoformat(record["updatedAt"]).timestamp(),
    )
    return run.cell(style, 1, [order], {capture["order_id"]: marks_of(capture)}, Usage())


def test_a_cell_splits_the_outbox_hand_off_from_the_steps():
    cell = _cell("choreography")
    assert (cell.orders, cell.terminal, cell.traced, cell.retries) == (1, 1, 1, 0)
    assert len(cell.outbox_hops_ms) == 1 and len(cell.hops_ms) == cell.step_hops_per_saga == 3
    assert cell.hops_per_saga == 4
    # The window is handlers + every hand-off: the overhead per hand-off is their mean.
    all_hops = cell.outbox_hops_ms + cell.hops_ms
    assert cell.overhead_per_hop_ms == pytest.approx(sum(all_hops) / len(all_hops), abs=0.5)
    assert cell.outbox_hop_p50_ms == cell.outbox_hop_ms.p50 == pytest.approx(cell.outbox_hops_ms[0], abs=0.1)
    assert cell.latency_p50_ms > 0 and cell.lambda_processes is None  # no process figures given


def test_the_report_shows_every_figure_uncropped():
    cells = [_cell("orchestration"), _cell("choreography")]
    result = BenchResult(
        date="2026-11-28T00:00:00+00:00",
        machine=Machine(
            cpus=2, memory_gib=4.0, platform="test", python="3.12", localstack="embedded", load_average=[0.1, 0.2]
        ),
        config=Config(orders=1, concurrency=[1], warmup=0, poll_s=0.1, hops_per_saga=4, step_hops_per_saga=3),
        duration_s=1.0,
        fault_rates={},
        cells=cells,
        ratios=run.ratios(cells),
    )
    (ratio,) = result.ratios
    assert ratio.figures["outbox_hop_p50_ms"] == pytest.approx(
        cells[1].outbox_hop_p50_ms / cells[0].outbox_hop_p50_ms, abs=1e-3
    )
    table = report.markdown(result)
    for _, label in stats.FIGURES:
        assert f"| {label} |" in table
    assert BenchResult.model_validate_json(report.as_json(result)) == result
    assert json.loads(report.as_json(result))["cells"][0]["hop_p50_ms"] == cells[0].hop_p50_ms


def test_percentiles_are_ordered():
    values = [float(v) for v in range(1, 101)]
    p50, p95, p99 = (stats.percentile(values, q) for q in (50, 95, 99))
    assert p50 <= p95 <= p99 and p50 == pytest.approx(50.5)
