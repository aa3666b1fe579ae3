"""The decision page on the recorded traces: every criterion answered with the run's numbers, for
whichever styles were traced (one, two, or more)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console

from tools.analysis.compare import console, report
from tools.analysis.compare.__main__ import arguments, trace_model_json
from tools.analysis.compare.comparison import compare
from tools.analysis.compare.decision import SEE_STATIC, change_places, decide
from tools.analysis.compare.model import Capture
from tools.analysis.compare.projection import project
from tools.analysis.compare.static import CHANGE_DATA, StaticComparison, WorkedChange
from tools.analysis.compare.traces import build

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"
SCENARIOS = ("happy", "out-of-stock", "declined", "undeliverable")
STYLES = ("orchestration", "choreography")
CRITERIA = [
    "latency",
    "cost per million orders",
    "places to change for a new step",
    "recovery",
    "coupling and visibility",
]


def traced(style: str, scenario: str):
    return build(Capture.model_validate_json((FIXTURES / f"{style}-{scenario}.json").read_text()))


@pytest.fixture(scope="module")
def comparisons():
    return [compare(name, {s: traced(s, name) for s in STYLES}) for name in SCENARIOS]


@pytest.fixture(scope="module")
def decision(comparisons):
    return decide(comparisons)


def criterion(decision, name):
    return next(c for c in decision.criteria if c.name == name)


def test_every_criterion_has_a_cell_per_style_and_a_verdict(decision):
    assert decision.scenario == "happy"
    assert [c.name for c in decision.criteria] == CRITERIA
    for c in decision.criteria:
        assert list(c.cells) == list(STYLES), c.name
        assert c.verdict, c.name


def test_latency_verdict_is_the_lowest_projected_p99(comparisons, decision):
    happy = comparisons[0]
    options = [(p.p99_ms, f"{style} on {p.workflow}") for style, t in happy.traces.items() for p in project(t)]
    (best_p99, best), (worst_p99, worst) = min(options), max(options)
    verdict = criterion(decision, "latency").verdict
    assert verdict.startswith(
        f"fastest on AWS: {best}, p99 {best_p99:,.0f} ms; slowest: {worst}, p99 {worst_p99:,.0f} ms"
    )
    # Measured here, the happy choreography order took 1,325 ms and the orchestration one 1,740 ms.
    assert verdict.endswith("measured here, choreography was fastest")
    assert criterion(decision, "latency").cells["orchestration"].startswith("local 1,740 ms; on AWS Step Functions")


def test_cost_verdict_from_the_happy_orders_counts(decision):
    cost = criterion(decision, "cost per million orders")
    # 4 transitions + 5 invocations on Standard: $100 + $1; 4 events + 5 invocations: $4 + $1.
    assert cost.cells["orchestration"].startswith("$101.00 on Standard, $")
    assert cost.cells["choreography"] == "$5.00"
    express = cost.cells["orchestration"].split(", ")[1]
    assert express.endswith("on Express") and float(express[1:].split()[0]) < 5
    assert cost.verdict.startswith("cheapest: orchestration on Express at $")
    assert "orchestration on Standard costs" in cost.verdict


def _worked_change(styles: dict[str, tuple[list[str], int, tuple[int, int]]]) -> StaticComparison:
    """A static comparison holding only a worked change: per style (its files, links added, deployed places)."""
    change = {
        "name": "fraud-check",
        "patches": [
            {"part": "shared", "patch": "x.shared.patch", "files": [{"path": "a", "added": 1, "removed": 0}] * 9}
        ],
        "styles": {
            style: {
                "style": style,
                "patch": None,
                "wiring_touched": files,
                "wiring_lines": (100, 110),
                "resources": (10, 12),
                "resources_changed": {},
                "iam_statements": (5, 6),
                "flow_places": deployed,
                "links_added": [f"link {i}" for i in range(links)],
                "links_removed": ["old"],
            }
            for style, (files, links, deployed) in styles.items()
        },
    }
    return StaticComparison.model_validate({"styles": {}, "change": change})


def test_places_to_change_point_at_the_static_comparison_until_given(comparisons, decision):
    assert criterion(decision, "places to change for a new step").cells == dict.fromkeys(STYLES, SEE_STATIC)
    statics = _worked_change(
        {
            "orchestration": (["orchestration/infra/stack.py", "orchestration/task.py", "new.py"], 4, (1, 1)),
            "choreography": (["choreography/handlers/check_fraud.py"], 3, (5, 6)),
        }
    )
    given = criterion(decide(comparisons, change_places(statics)), "places to change for a new step")
    assert given.cells["choreography"] == (
        "1 file of its own (choreography/handlers/check_fraud.py); 4 links of the flow changed; "
        "deployed places stating the flow 5 → 6"
    )
    assert given.cells["orchestration"].startswith("3 files of its own (orchestration/infra/stack.py, ")
    assert given.verdict == (
        "fewest files of its own to change: choreography (1); a new deployed place to follow in choreography; "
        "the shared part (9 files: the step, its events, its routes) is the same in every style"
    )
    assert change_places(StaticComparison(styles={})) is None


def test_places_to_change_read_the_recorded_worked_change(comparisons):
    recorded = StaticComparison(styles={}, change=WorkedChange.model_validate_json(CHANGE_DATA.read_text()))
    places = change_places(recorded)
    assert places is not None and set(STYLES) <= set(places)
    row = criterion(decide(comparisons, places), "places to change for a new step")
    assert SEE_STATIC not in row.verdict and all(cell.split()[0].isdigit() for cell in row.cells.values())


def test_recovery_shows_what_a_failure_costs_each_style(decision):
    recovery = criterion(decision, "recovery")
    # undeliverable: 2 more steps than happy, 4 more hops; 2 more transitions ($50) and 2 more
    # invocations ($0.40) on Standard, 2 more events ($2) and the same invocations on the bus.
    assert (
        "undeliverable: refund_payment, release_inventory after ShippingFailed (+4 hops, +$50.40/M)"
        in (recovery.cells["orchestration"])
    )
    assert "(+4 hops, +$2.40/M)" in recovery.cells["choreography"]
    assert "execution history" in recovery.cells["orchestration"]
    assert "events on the bus" in recovery.cells["choreography"]
    assert recovery.verdict.startswith("final records agree in 2 of 2 compensating scenarios")


def test_coupling_reads_the_traces(decision):
    coupling = criterion(decision, "coupling and visibility")
    assert coupling.cells["orchestration"] == "a state machine invokes 5 of the 5 step functions by name"
    assert coupling.cells["choreography"].startswith("9 event types on the bus")
    assert "orchestration" in coupling.verdict and "choreography" in coupling.verdict


def test_one_style_alone_is_decided_without_comparing():
    alone = [compare(name, {"choreography": traced("choreography", name)}) for name in SCENARIOS]
    decision = decide(alone)
    assert all(list(c.cells) == ["choreography"] for c in decision.criteria)
    assert criterion(decision, "latency").verdict.startswith("fastest on AWS: choreography on EventBridge")
    assert "slowest" not in criterion(decision, "latency").verdict
    assert criterion(decision, "recovery").verdict.startswith("one style traced")


def test_nothing_traced_decides_nothing():
    assert decide([]).criteria == []
    assert "<table" in report.decision_page(decide([]))


def test_a_third_style_gets_its_column(comparisons):
    # Any style traced is decided on: here orchestration's traces under a third name.
    third = "hybrid"
    wider = [
        c.model_copy(
            update={
                "traces": {**c.traces, third: c.traces["orchestration"]},
                "summaries": {**c.summaries, third: c.summaries["orchestration"]},
            }
        )
        for c in comparisons
    ]
    decision = decide(wider)
    for c in decision.criteria:
        assert list(c.cells) == [*STYLES, third], c.name
    page = report.decision_page(decision)
    assert page.count(f'<th class="{third}">') == 1


# --- shown -----------------------------------------------------------------------------------------


def test_console_summary_shows_every_verdict_uncropped(decision):
    out = Console(width=120, record=True, color_system=None)
    out.print(console.decision_summary(decision))
    text = " ".join(out.export_text().replace("│", " ").split())
    assert "…" not in text
    for c in decision.criteria:
        assert " ".join(c.verdict.split()) in text, c.name


def test_report_has_the_decision_page_the_projection_and_the_trace_links(comparisons, decision, tmp_path):
    page = report.write(
        comparisons, tmp_path / "compare.html", decision=decision, traces=tmp_path / "traces"
    ).read_text()
    assert '<section id="decision">' in page and '<a href="#decision">' in page
    assert page.index('id="decision"') < page.index('id="happy"'), "the verdicts first"
    for c in decision.criteria:
        assert f"<b>{c.name}</b>" in page
    assert page.count('<table class="projection">') == len(SCENARIOS)
    assert "Published hop latencies" in page
    for name in ("happy", "out-of-stock", "declined", "undeliverable"):
        for style in STYLES:
            assert f'href="traces/{name}.{style}.otlp.json"' in page
            assert f'href="traces/{name}.{style}.chrome.json"' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "the report must open offline"


def test_report_without_exports_has_no_trace_links(comparisons):
    assert "Traces:" not in report.render(comparisons)


def test_console_shows_the_projection_beside_the_measurement(comparisons):
    out = Console(width=120, record=True, color_system=None)
    console.print_all(comparisons[:1], out)
    text = out.export_text()
    assert "end to end: measured here, projected on AWS (ms)" in text
    for workflow in ("Step Functions Standard", "Step Functions Express", "EventBridge"):
        assert workflow in text
    assert "published hop latencies" in text and "…" not in text


def test_json_has_the_projection_of_every_style(comparisons):
    import json

    data = json.loads(trace_model_json(comparisons))
    assert [c["scenario"] for c in data] == list(SCENARIOS)
    for c in data:
        assert set(c["projection"]) == set(STYLES)
        assert [p["workflow"] for p in c["projection"]["orchestration"]] == [
            "Step Functions Standard",
            "Step Functions Express",
        ]
        for projected in (p for ps in c["projection"].values() for p in ps):
            assert 0 < projected["p50_ms"] < projected["p99_ms"]


def test_traces_go_beside_the_report_unless_told():
    assert arguments([]).traces is None
    assert arguments(["--traces", "out/t"]).traces == Path("out/t")
