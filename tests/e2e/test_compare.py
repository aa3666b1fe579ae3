"""`make compare` against the deployed stacks: the counts it reports are what the stacks must do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(deployed, tmp_path_factory):
    """One run of `python -m tools.analysis.compare` over the four scenarios, as its JSON trace model."""
    out = tmp_path_factory.mktemp("compare")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.analysis.compare",
            "--no-warmup",
            "--json",
            str(out / "compare.json"),
            "--html",
            str(out / "compare.html"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    comparisons = {c["scenario"]: c for c in json.loads((out / "compare.json").read_text())}
    return {"comparisons": comparisons, "html": (out / "compare.html").read_text(), "stdout": result.stdout}


def spans(comparison: dict, style: str, kind: str) -> list[str]:
    return [s["step"] for s in comparison["traces"][style]["spans"] if s["kind"] == kind]


STYLES = ("orchestration", "choreography")
# Hops, the same in both styles: create_order -> the orders table's stream -> start_saga -> Step
# Functions (or OrderCreated onto the bus), then two per step.
HOPS = {"happy": 9, "out-of-stock": 5, "declined": 9, "undeliverable": 13}


def test_every_scenario_is_traced_in_both_styles_and_agrees(report):
    assert list(report["comparisons"]) == ["happy", "out-of-stock", "declined", "undeliverable"]
    for name, comparison in report["comparisons"].items():
        assert set(comparison["traces"]) == set(STYLES), name
        assert comparison["agree"] is True, (name, comparison["differences"])
        for style, trace in comparison["traces"].items():
            assert trace["complete"], (name, style, trace["warnings"])


def test_every_saga_is_started_by_start_saga_from_the_stream(report):
    for name, comparison in report["comparisons"].items():
        for style in STYLES:
            assert spans(comparison, style, "request") == ["create_order"], (name, style)
            assert spans(comparison, style, "relay") == ["start_saga"], (name, style)
            counts = comparison["traces"][style]["counts"]
            assert counts["hops"] == HOPS[name], (name, style)
            assert counts["invocations"] == counts["steps"] + 2, (name, style)  # + create_order, start_saga
            assert comparison["rows"][0]["step"] == "start_saga", (name, style)


def test_happy_orchestration_runs_three_task_states(report):
    happy = report["comparisons"]["happy"]
    counts = happy["traces"]["orchestration"]["counts"]
    assert spans(happy, "orchestration", "state") == [
        "reserve_inventory",
        "charge_payment",
        "notify_shipping",
        "OrderCompleted",
    ]
    assert counts["steps"] == 3 and counts["transitions"] == 4 and counts["events"] == 0
    assert counts["invocations"] == 5  # create_order, start_saga, the three steps
    assert spans(happy, "orchestration", "handler") == ["reserve_inventory", "charge_payment", "notify_shipping"]


def test_happy_choreography_puts_four_events_on_the_bus(report):
    happy = report["comparisons"]["happy"]
    counts = happy["traces"]["choreography"]["counts"]
    assert spans(happy, "choreography", "event") == [
        "OrderCreated",
        "InventoryReserved",
        "PaymentCharged",
        "ShippingScheduled",
    ]
    assert counts["events"] == 4 and counts["transitions"] == 0 and counts["steps"] == 3


def test_declined_compensates_in_both_styles(report):
    declined = report["comparisons"]["declined"]
    for style in STYLES:
        assert declined["traces"][style]["counts"]["compensations"] == 1, style
        assert declined["summaries"][style]["compensation"] == "release_inventory after PaymentFailed", style
        assert spans(declined, style, "handler")[-1] == "release_inventory", style


def test_undeliverable_refunds_then_releases_in_both_styles(report):
    undeliverable = report["comparisons"]["undeliverable"]
    for style in STYLES:
        counts = undeliverable["traces"][style]["counts"]
        assert counts["steps"] == 5 and counts["compensations"] == 2, style
        assert undeliverable["summaries"][style]["compensation"] == (
            "refund_payment, release_inventory after ShippingFailed"
        ), style
        assert spans(undeliverable, style, "handler") == [
            "reserve_inventory",
            "charge_payment",
            "notify_shipping",
            "refund_payment",
            "release_inventory",
        ], style
    assert spans(undeliverable, "orchestration", "state")[-1] == "ShippingFailed"
    assert undeliverable["traces"]["orchestration"]["counts"]["transitions"] == 6
    assert spans(undeliverable, "choreography", "event") == [
        "OrderCreated",
        "InventoryReserved",
        "PaymentCharged",
        "ShippingFailed",
        "PaymentRefunded",
        "InventoryReleased",
    ]
    assert "refund_payment, release_inventory after ShippingFailed" in report["html"]


def test_out_of_stock_runs_one_step_and_nothing_to_compensate(report):
    comparison = report["comparisons"]["out-of-stock"]
    for style in STYLES:
        counts = comparison["traces"][style]["counts"]
        assert counts["steps"] == 1 and counts["compensations"] == 0, style


def test_report_has_both_timelines_of_each_scenario(report):
    for style in STYLES:
        assert report["html"].count(f'class="timeline {style}"') == 4


def test_given_order_ids_are_traced_again(report):
    happy = report["comparisons"]["happy"]
    ids = [f"{style}:{happy['traces'][style]['order_id']}" for style in STYLES]
    result = subprocess.run(
        [sys.executable, "-m", "tools.analysis.compare", "--json", "-", "--html", "/dev/null", "--orders", *ids],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (again,) = json.loads(result.stdout)
    assert again["scenario"] == "happy"
    for style in STYLES:
        assert again["traces"][style]["counts"] == happy["traces"][style]["counts"], style


def test_an_unknown_order_is_one_line_and_a_non_zero_exit(deployed):
    result = subprocess.run(
        [sys.executable, "-m", "tools.analysis.compare", "--orders", "choreography:no-such-order"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip() == "error: no choreography order no-such-order"
    assert "Traceback" not in result.stdout + result.stderr
