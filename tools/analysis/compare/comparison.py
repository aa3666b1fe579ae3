"""The styles' traces of one scenario, lined up: step by step, then in totals and cost."""

from __future__ import annotations

from difflib import SequenceMatcher

from pydantic import BaseModel, Field

from shared.contract import STYLES
from tools.analysis.compare.model import COMPENSATION_STEPS, Counts, Span, Trace
from tools.analysis.compare.prices import Cost, per_million
from tools.analysis.compare.records import differences


class StepCell(BaseModel):
    """One style's run(s) of one step, or of the outbox relay (start_saga) that started the saga."""

    handoff_ms: float  # from the previous step's end (or the order's creation) to this start
    # Inside the handler, all attempts; None for start_saga, which logs one line only (once the
    # saga is started): its run, stream delivery included, is all in its hand-off.
    handler_ms: float | None
    outcome: str
    attempts: int = 1
    cold: bool = False  # the first attempt paid a cold start (in the hand-off: before the handler)


class StepRow(BaseModel):
    step: str
    cells: dict[str, StepCell | None]  # style -> its run; None: that style did not run this step


class StyleSummary(BaseModel):
    order_id: str
    total_ms: float
    counts: Counts
    cost: Cost
    compensation: str  # which compensations ran and after what, "" if none
    complete: bool
    warnings: list[str] = Field(default_factory=list)


class Comparison(BaseModel):
    scenario: str
    traces: dict[str, Trace]
    rows: list[StepRow]
    summaries: dict[str, StyleSummary]
    agree: bool | None = None  # None: only one style traced; else: every style's record agrees with the first's
    differences: list[str] = Field(default_factory=list)


def step_runs(trace: Trace) -> list[tuple[str, list[Span]]]:
    """start_saga's runs and the steps' handler spans, in start order, grouped into consecutive
    runs of the same step (a retry joins its step)."""
    groups: list[tuple[str, list[Span]]] = []
    relays = trace.relays()
    # The relay comes first: it logs once its start call has returned, which the first step, on
    # a fast bus, may beat by a millisecond.
    for span in relays[:1] + sorted(relays[1:] + trace.handlers(), key=lambda s: s.start):
        if groups and groups[-1][0] == span.step:
            groups[-1][1].append(span)
        else:
            groups.append((span.step, [span]))
    return groups


def cells(trace: Trace) -> list[tuple[str, StepCell]]:
    created = [s.end for s in trace.spans if s.kind == "request"]
    previous_end = created[0] if created else None
    out = []
    for step, runs in step_runs(trace):
        first, last = runs[0], runs[-1]
        handoff = (first.start - previous_end).total_seconds() * 1000 if previous_end else 0.0
        handler = None if first.kind == "relay" else sum(r.ms for r in runs)
        out.append(
            (
                step,
                StepCell(
                    handoff_ms=max(handoff, 0.0),
                    handler_ms=handler,
                    outcome=last.outcome,
                    attempts=len(runs),
                    cold="cold" in first.detail,
                ),
            )
        )
        previous_end = last.end
    return out


def align(a: list[str], b: list[str]) -> list[tuple[int | None, int | None]]:
    """Index pairs lining up equal steps; a step only one side ran gets a row of its own."""
    pairs: list[tuple[int | None, int | None]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            pairs += list(zip(range(i1, i2), range(j1, j2), strict=True))
        else:
            pairs += [(i, None) for i in range(i1, i2)] + [(None, j) for j in range(j1, j2)]
    return pairs


def compensation(trace: Trace) -> str:
    """The compensations in the order they ran and the outcome that set them off, e.g.
    `refund_payment, release_inventory after ShippingFailed`."""
    runs = cells(trace)
    ran = [i for i, (step, _) in enumerate(runs) if step in COMPENSATION_STEPS]
    if not ran:
        return ""
    steps = ", ".join(dict.fromkeys(runs[i][0] for i in ran))
    first = ran[0]
    return f"{steps} after {runs[first - 1][1].outcome}" if first else steps


def summary(trace: Trace) -> StyleSummary:
    return StyleSummary(
        order_id=trace.order_id,
        total_ms=trace.total_ms,
        counts=trace.counts,
        cost=per_million(trace),
        compensation=compensation(trace),
        complete=trace.complete,
        warnings=trace.warnings,
    )


def aligned_rows(per_style: dict[str, list[tuple[str, StepCell]]]) -> list[StepRow]:
    """The styles' steps as rows, equal steps on one row: each style after the first is aligned
    with the rows so far, and a step only it ran gets a row of its own (the hybrid's
    notify_customer)."""
    rows: list[StepRow] = []
    for style, runs in per_style.items():
        merged: list[StepRow] = []
        for i, j in align([row.step for row in rows], [step for step, _ in runs]):
            row = rows[i] if i is not None else StepRow(step=runs[j][0], cells={s: None for s in per_style})
            cells = {**row.cells, style: runs[j][1] if j is not None else None}
            merged.append(StepRow(step=row.step, cells=cells))
        rows = merged
    return rows


def compare(scenario: str, traces: dict[str, Trace]) -> Comparison:
    styles = [s for s in STYLES if s in traces]
    rows = aligned_rows({style: cells(traces[style]) for style in styles})
    first, *others = (traces[s].record for s in styles)
    diff = sorted({field for other in others for field in differences(first, other)})
    agree = not diff if others else None
    return Comparison(
        scenario=scenario,
        traces=traces,
        rows=rows,
        summaries={s: summary(traces[s]) for s in styles},
        agree=agree,
        differences=diff,
    )
