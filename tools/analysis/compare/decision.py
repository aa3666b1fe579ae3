"""Which style should you use? The usual criteria, each answered with this run's numbers.

One row per criterion: what each style traced here shows on it, and one line of verdict. The
numbers are this run's: the measured end to end and its projection on AWS (projection.py), the
cost per million orders (prices.py), what the failing scenarios cost more and who recorded them,
and, when given, what the static comparison's worked change (a new step) touched in each style. The happy
scenario stands for the usual order; the scenarios that compensate, for a failure. Written for
any number of styles: each style's traits are read from its traces (a state machine's states,
events on a bus), not from its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel

from tools.analysis.compare.comparison import Comparison, StyleSummary
from tools.analysis.compare.model import Trace
from tools.analysis.compare.projection import Projected, project

if TYPE_CHECKING:  # the static comparison is measured apart (a synth): only its model is read here
    from tools.analysis.compare.static import StaticComparison

USUAL = "happy"
SEE_STATIC = "see static comparison"


class Criterion(BaseModel):
    name: str
    cells: dict[str, str]  # style -> what this run shows for it
    verdict: str


class Decision(BaseModel):
    scenario: str  # the comparison standing for the usual order
    criteria: list[Criterion]


def _ms(value: float) -> str:
    return f"{value:,.0f} ms"


def _dollars(value: Decimal) -> str:
    return f"${value:,.2f}"


def usual(comparisons: list[Comparison]) -> Comparison:
    """The happy scenario's comparison (else the first): the usual order."""
    return next((c for c in comparisons if c.scenario == USUAL), comparisons[0])


def costs(summary: StyleSummary) -> dict[str, Decimal]:
    """$/M of each way of running the style: as deployed ("" or "on Standard"), and "on Express"
    where it has a state machine."""
    if summary.cost.express is None:
        return {"": summary.cost.total}
    return {"on Standard": summary.cost.total, "on Express": summary.cost.express + summary.cost.lambda_requests}


def latency(comparison: Comparison, projections: Mapping[str, list[Projected]]) -> Criterion:
    cells = {}
    options: list[tuple[float, float, str]] = []  # (p99, p50, "style on workflow")
    for style, trace in comparison.traces.items():
        projected = "; ".join(f"{p.workflow} p50 {_ms(p.p50_ms)} / p99 {_ms(p.p99_ms)}" for p in projections[style])
        cells[style] = f"local {_ms(trace.total_ms)}; on AWS {projected}"
        options += [(p.p99_ms, p.p50_ms, f"{style} on {p.workflow}") for p in projections[style]]
    options.sort()
    best_p99, _, best = options[0]
    verdict = f"fastest on AWS: {best}, p99 {_ms(best_p99)}"
    if len(options) > 1:
        worst_p99, _, worst = options[-1]
        verdict += f"; slowest: {worst}, p99 {_ms(worst_p99)} (+{worst_p99 - best_p99:,.0f} ms)"
    if len(comparison.traces) > 1:
        local = min(comparison.traces.items(), key=lambda kv: kv[1].total_ms)[0]
        verdict += f"; measured here, {local} was fastest"
    return Criterion(name="latency", cells=cells, verdict=verdict)


def cost(comparison: Comparison) -> Criterion:
    cells, options = {}, []
    for style, summary in comparison.summaries.items():
        ways = costs(summary)
        cells[style] = ", ".join(f"{_dollars(v)} {k}".strip() for k, v in ways.items())
        options += [(v, f"{style} {k}".strip()) for k, v in ways.items()]
    options.sort()
    (cheapest_cost, cheapest), (dearest_cost, dearest) = options[0], options[-1]
    verdict = f"cheapest: {cheapest} at {_dollars(cheapest_cost)} per million orders"
    if len(options) > 1 and cheapest_cost:
        verdict += f"; {dearest} costs {dearest_cost / cheapest_cost:,.1f}× that"
    return Criterion(name="cost per million orders", cells=cells, verdict=verdict)


class ChangePlaces(BaseModel):
    """What adding a step changes in a style's own code and flow (the static comparison's worked
    change: a fraud check between reserve and charge, docs/changes/)."""

    files: list[str]  # the style's own files the change adds or edits
    links: int  # links of the flow added or removed (a transition, a rule's route)
    deployed: tuple[int, int]  # deployed places stating the flow, before and after
    shared_files: int = 0  # the part every style shares (the step, its rule, its events)


def change_places(statics: StaticComparison) -> dict[str, ChangePlaces] | None:
    """Per style, what the static comparison's worked change touched; None if it has none."""
    change = statics.change
    if change is None:
        return None
    shared = sum(len(p.files) for p in change.patches if p.part not in change.styles)
    return {
        style: ChangePlaces(
            files=list(c.wiring_touched),
            links=len(c.links_added) + len(c.links_removed),
            deployed=c.flow_places,
            shared_files=shared,
        )
        for style, c in change.styles.items()
    }


def places_to_change(styles: list[str], places: Mapping[str, ChangePlaces] | None) -> Criterion:
    name = "places to change for a new step"
    if not places or not all(s in places for s in styles):
        return Criterion(name=name, cells=dict.fromkeys(styles, SEE_STATIC), verdict=SEE_STATIC)
    cells = {}
    for s in styles:
        p = places[s]
        before, after = p.deployed
        cells[s] = (
            f"{len(p.files)} file{'s' * (len(p.files) != 1)} of its own ({', '.join(p.files) or 'none'}); "
            f"{p.links} links of the flow changed; deployed places stating the flow {before} → {after}"
        )
    fewest = min(len(places[s].files) for s in styles)
    winners = [s for s in styles if len(places[s].files) == fewest]
    verdict = f"fewest files of its own to change: {' and '.join(winners)} ({fewest})"
    grown = [s for s in styles if places[s].deployed[1] > places[s].deployed[0]]
    if grown:
        verdict += f"; a new deployed place to follow in {' and '.join(grown)}"
    shared = max(places[s].shared_files for s in styles)
    if shared:
        verdict += f"; the shared part ({shared} files: the step, its events, its routes) is the same in every style"
    return Criterion(name=name, cells=cells, verdict=verdict)


def record_of(trace: Trace) -> str:
    """Where the saga's progress is recorded, from what the trace holds."""
    holders = []
    if trace.counts.transitions:
        holders.append("one execution history (each state, its input, its error)")
    if trace.counts.events:
        holders.append("events on the bus (seen here through the event tap) and each service's table")
    return " then ".join(holders) or "the services' logs"


def recovery(comparisons: list[Comparison], usual_one: Comparison) -> Criterion:
    failing = [c for c in comparisons if any(s.compensation for s in c.summaries.values())]
    cells = {}
    for style in usual_one.traces:
        extra = []
        for c in failing:
            if style in c.summaries and style in usual_one.summaries:
                failed, ok = c.summaries[style], usual_one.summaries[style]
                more = f"+{failed.counts.hops - ok.counts.hops} hops, +{_dollars(failed.cost.total - ok.cost.total)}/M"
                extra.append(f"{c.scenario}: {failed.compensation or 'none'} ({more})")
        cells[style] = "; ".join(extra) or "no failing scenario traced"
        cells[style] += f". Recorded in {record_of(usual_one.traces[style])}"
    paired = [c for c in failing if c.agree is not None]
    agreed = sum(1 for c in paired if c.agree)
    if not failing:
        verdict = "no compensating scenario in this run"
    elif paired:
        verdict = (
            f"final records agree in {agreed} of {len(paired)} compensating scenarios: every style undoes the "
            "same steps; they differ in where a stopped saga is seen (below each style) and what a failure costs"
        )
    else:
        verdict = "one style traced: compensations as shown; nothing to compare them with"
    return Criterion(name="recovery", cells=cells, verdict=verdict)


def coupling(comparisons: list[Comparison], usual_one: Comparison) -> Criterion:
    cells, whole, loose = {}, [], []
    for style in usual_one.traces:
        traces = [c.traces[style] for c in comparisons if style in c.traces]
        invoked = {s.step for t in traces for s in t.spans if s.kind == "state" and s.step in _handler_steps(t)}
        events = {s.step for t in traces for s in t.spans if s.kind == "event"}
        functions = {s.step for t in traces for s in t.handlers()}
        parts = []
        if invoked:
            parts.append(f"a state machine invokes {len(invoked)} of the {len(functions)} step functions by name")
            whole.append(style)
        if events:
            parts.append(f"{len(events)} event types on the bus; their publishers know no subscriber")
            loose.append(style)
        cells[style] = "; ".join(parts) or "—"
    verdict = []
    if whole:
        verdict.append(f"one place shows and holds the whole saga: {', '.join(whole)}")
    if loose:
        verdict.append(f"services that only share events: {', '.join(loose)}")
    return Criterion(name="coupling and visibility", cells=cells, verdict="; ".join(verdict) or "—")


def _handler_steps(trace: Trace) -> set[str]:
    return {s.step for s in trace.handlers()}


def decide(comparisons: list[Comparison], places: Mapping[str, ChangePlaces] | None = None) -> Decision:
    """The criteria on this run's comparisons; `places`: per style, what a new step changes
    (change_places of the static comparison), or None to point at the static comparison instead."""
    if not comparisons:
        return Decision(scenario="", criteria=[])
    one = usual(comparisons)
    projections = {style: project(trace) for style, trace in one.traces.items()}
    return Decision(
        scenario=one.scenario,
        criteria=[
            latency(one, projections),
            cost(one),
            places_to_change(list(one.traces), places),
            recovery(comparisons, one),
            coupling(comparisons, one),
        ],
    )
