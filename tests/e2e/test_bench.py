"""`make bench` in a tiny size, so it cannot rot: the report's structure and sanity, never times."""

import json

import pytest

from tools import aws
from tools.analysis.bench import report, run
from tools.analysis.bench.stats import FIGURES

ORDERS, CONCURRENCY = 3, 2


@pytest.fixture(scope="module")
def result(deployed):
    return run.run_benchmark(ORDERS, [CONCURRENCY], warmup=False, log=lambda _: None)


def test_every_order_reaches_its_terminal_status_and_is_traced(result):
    assert [(c.style, c.concurrency) for c in result.cells] == [(s, CONCURRENCY) for s in aws.STYLES]
    for cell in result.cells:
        assert cell.orders == ORDERS and cell.errors == []
        assert cell.terminal == ORDERS and cell.statuses == {"SHIPPING_SCHEDULED": ORDERS}
        assert cell.traced == ORDERS  # every order's marks found: created, saga started, three steps
        assert len(cell.latencies_ms) == ORDERS
        # Four hand-offs per saga: create_order -> (stream) start_saga, then one into each step.
        assert cell.hops_per_saga == 4 and cell.step_hops_per_saga == 3
        assert len(cell.outbox_hops_ms) == ORDERS and len(cell.hops_ms) == ORDERS * cell.step_hops_per_saga


def test_figures_are_consistent(result):
    for cell in result.cells:
        for summary in (cell.latency_ms, cell.outbox_hop_ms, cell.handler_ms):
            assert 0 < summary.min <= summary.p50 <= summary.p95 <= summary.p99 <= summary.max
        # A step's hand-off can be under a millisecond now (logs have millisecond stamps).
        assert 0 <= cell.hop_ms.min <= cell.hop_ms.p50 <= cell.hop_ms.p99 <= cell.hop_ms.max
        assert cell.throughput_per_s > 0 and cell.handler_ms_per_saga > 0
        # A saga's window is its handlers plus its hand-offs, so their mean is the overhead per hand-off.
        hops = cell.outbox_hops_ms + cell.hops_ms
        assert cell.overhead_per_hop_ms == pytest.approx(sum(hops) / len(hops), abs=0.5)


def test_ratios_are_choreography_over_orchestration(result):
    [ratios] = result.ratios
    orch, chor = (result.cell(style, CONCURRENCY) for style in ("orchestration", "choreography"))
    assert ratios.concurrency == CONCURRENCY
    for key, _ in FIGURES:
        if orch.figure(key) and chor.figure(key) is not None:
            assert ratios.figures[key] == pytest.approx(chor.figure(key) / orch.figure(key), abs=1e-3), key


def test_process_figures_on_the_embedded_localstack(result):
    if result.machine.localstack != "embedded":
        pytest.skip("process figures need the embedded LocalStack")
    for cell in result.cells:
        peak = cell.usage.peak_rss_mb
        assert peak["localstack"] > 0 and peak["total"] >= peak["localstack"] + peak["lambdas"]
        assert cell.lambda_processes >= 1 and cell.cpu_ms_per_order > 0


def test_writes_json_markdown_and_png(result, tmp_path):
    paths = report.write(result, tmp_path)
    assert sorted(p.suffix for p in paths) == [".json", ".md", ".png"]
    written = json.loads(paths[0].read_text())
    assert written["config"]["orders"] == ORDERS and written["config"]["hops_per_saga"] == 4
    assert written["cells"][0]["outbox_hop_p50_ms"] == result.cells[0].outbox_hop_p50_ms
    assert "| latency p50 (ms) |" in paths[1].read_text()
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report.print_table(result)
