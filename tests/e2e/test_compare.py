"""`make compare` against the deployed stacks: the counts it reports are what the stacks must do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.contract import STYLES
from tests.trace_formats import chrome_trace, otlp_request

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
    return {"comparisons": comparisons, "html": (out / "compare.html").read_text(), "stdout": result.stdout, "dir": out}


def spans(comparison: dict, style: str, kind: str) -> list[str]:
    return [s["step"] for s in comparison["traces"][style]["spans"] if s["kind"] == kind]


# Hops of the saga, the same in every style: create_order -> the orders table's stream ->
# start_saga -> Step Functions (or OrderCreated onto the bus), then two per step.
HOPS = {"happy": 9, "out-of-stock": 5, "declined": 9, "undeliverable": 13}
# What follows the saga, per style: the hybrid's outcome goes to the bus (one hop, one event, one
# more state transition) and on to its notification service (one hop, one invocation).
FOLLOWERS = {"hybrid": ["notify_customer"]}
AFTER = {"hybrid": {"hops": 2, "invocations": 1, "events": 1, "transitions": 1}}


def after(style: str, count: str) -> int:
    return AFTER.get(style, {}).get(count, 0)


def saga_handlers(comparison: dict, style: str) -> list[str]:
    """The saga's step runs, without what follows it (the hybrid's notify_customer)."""
    return [step for step in spans(comparison, style, "handler") if step not in FOLLOWERS.get(style, [])]


def test_every_scenario_is_traced_in_every_style_and_agrees(report):
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
            assert counts["hops"] == HOPS[name] + after(style, "hops"), (name, style)
            # + create_order, start_saga, and what follows the saga
            assert counts["invocations"] == counts["steps"] + 2 + after(style, "invocations"), (name, style)
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


def test_happy_hybrid_runs_orchestrations_states_then_publishes_and_notifies(report):
    happy = report["comparisons"]["happy"]
    counts = happy["traces"]["hybrid"]["counts"]
    assert spans(happy, "hybrid", "state") == [
        "reserve_inventory",
        "charge_payment",
        "notify_shipping",
        "PublishOrderCompleted",
        "OrderCompleted",
    ]
    assert spans(happy, "hybrid", "event") == ["OrderCompleted"]
    assert spans(happy, "hybrid", "handler") == [
        "reserve_inventory",
        "charge_payment",
        "notify_shipping",
        "notify_customer",
    ]
    assert (counts["steps"], counts["transitions"], counts["events"], counts["invocations"]) == (3, 5, 1, 6)
    # The notification is the hybrid's last row: a step the other styles do not have.
    last = happy["rows"][-1]
    assert last["step"] == "notify_customer" and last["cells"]["orchestration"] is None
    assert last["cells"]["hybrid"]["outcome"] == "CustomerNotified"


def test_declined_compensates_in_every_style(report):
    declined = report["comparisons"]["declined"]
    for style in STYLES:
        assert declined["traces"][style]["counts"]["compensations"] == 1, style
        assert declined["summaries"][style]["compensation"] == "release_inventory after PaymentFailed", style
        assert saga_handlers(declined, style)[-1] == "release_inventory", style
    assert spans(declined, "hybrid", "event") == ["OrderFailed"]


def test_undeliverable_refunds_then_releases_in_every_style(report):
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
            *FOLLOWERS.get(style, []),
        ], style
    for style in ("orchestration", "hybrid"):
        assert spans(undeliverable, style, "state")[-1] == "ShippingFailed", style
        transitions = undeliverable["traces"][style]["counts"]["transitions"]
        assert transitions == 6 + after(style, "transitions"), style
    assert spans(undeliverable, "hybrid", "state")[-2] == "PublishShippingFailed"
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


def test_report_has_every_timeline_of_each_scenario(report):
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


# --- standard trace formats, the projection on AWS, the decision page ------------------------------


def test_every_compared_saga_is_exported_in_both_formats_and_validates(report):
    traces = report["dir"] / "traces"  # beside the report, by default
    flat = " ".join(report["stdout"].split())
    for name, comparison in report["comparisons"].items():
        for style, trace in comparison["traces"].items():
            otlp, chrome = traces / f"{name}.{style}.otlp.json", traces / f"{name}.{style}.chrome.json"
            request = otlp_request(otlp.read_text())
            ids = {s.trace_id.hex() for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans}
            assert ids == {trace["order_id"].replace("-", "")}, (name, style)
            events = chrome_trace(chrome.read_text())["traceEvents"]
            handlers = [e["name"] for e in events if e.get("cat") == "handler"]
            assert handlers == spans(comparison, style, "handler"), (name, style)
            for path in (otlp, chrome):
                assert f'href="traces/{path.name}"' in report["html"], path.name
                assert path.name in flat, f"{path.name} not listed on the console"


def test_every_scenario_is_projected_on_aws_beside_the_measurement(report):
    for name, comparison in report["comparisons"].items():
        assert set(comparison["projection"]) == set(comparison["traces"]), name
        for style, projected in comparison["projection"].items():
            assert projected, (name, style)
            for p in projected:
                assert 0 < p["p50_ms"] < p["p99_ms"], (name, style, p)
                # The stream, then one hand-off per step run.
                assert sum(p["hops"].values()) == 1 + len(spans(comparison, style, "handler")), (name, style)
    assert report["html"].count('<table class="projection">') == len(report["comparisons"])
    assert "end to end: measured here, projected on AWS (ms)" in report["stdout"]


def test_the_report_opens_on_the_decision_page(report):
    html = report["html"]
    assert html.index('<section id="decision">') < html.index('<section id="happy">')
    for criterion in ("latency", "cost per million orders", "places to change for a new step", "recovery"):
        assert f"<b>{criterion}</b>" in html, criterion
    assert "see static comparison" not in html, "the static comparison's worked change backs the places to change"
    assert "which style? the verdicts on this run's numbers" in " ".join(report["stdout"].split())
