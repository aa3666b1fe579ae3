"""The comparison as one self-contained HTML page (inline CSS and SVG: opens offline)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from shared.contract import STYLES
from tools.analysis.compare import static
from tools.analysis.compare.comparison import Comparison, StepCell
from tools.analysis.compare.console import NOT_TIMED, _metrics, ms, outcome
from tools.analysis.compare.decision import Decision
from tools.analysis.compare.exports import file_names
from tools.analysis.compare.latency import LATENCY_RECORDED, LATENCY_SOURCE, LATENCY_TABLE
from tools.analysis.compare.prices import PRICE_TABLE, PRICES_RECORDED, PRICES_SOURCE
from tools.analysis.compare.projection import project
from tools.analysis.compare.static import StaticComparison
from tools.analysis.compare.svg import timeline

CSS = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #111827; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 6px; border-bottom: 1px solid #e5e7eb; }
.dim { color: #6b7280; } .ok { color: #047857; } .bad { color: #b91c1c; font-weight: 600; } .warn { color: #b45309; }
table { border-collapse: collapse; margin: 8px 0; font-size: 12.5px; } th, td { padding: 2px 7px; border-bottom: 1px solid #e5e7eb; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; } table.totals td.n { max-width: 150px; }
th { background: #f9fafb; font-weight: 600; } th.orchestration { color: #c2410c; } th.choreography { color: #be185d; } th.hybrid { color: #0d9488; }
.tables { display: flex; gap: 20px; flex-wrap: wrap; align-items: flex-start; }
svg.timeline { display: block; margin: 4px 0; }
svg .lane-a { fill: #f9fafb; } svg .lane-b { fill: #ffffff; } svg .tick { stroke: #e5e7eb; }
svg .hop { stroke: #9ca3af; stroke-width: 1; } svg text { font: 10px system-ui, sans-serif; fill: #374151; }
svg text.lane { font-size: 12px; font-weight: 600; } svg text.caption { font-size: 12px; font-weight: 600; fill: #111827; }
h3 { font-size: 14px; margin: 14px 0 2px; } details { margin: 2px 0; font-size: 12.5px; } details ul { margin: 2px 0 6px; }
table.decision td { vertical-align: top; max-width: 340px; } table caption { text-align: left; font-weight: 600; padding: 2px 0; }
"""
TITLE = f"Order saga: {' vs '.join(STYLES)}"  # shared.contract.STYLES


def _numbers(cell: StepCell | None) -> str:
    if cell is None:
        return '<td class="n dim">—</td><td class="n dim">—</td>'
    cold = " *" if cell.cold else ""
    handler = (
        f'<td class="n dim">{NOT_TIMED}</td>'
        if cell.handler_ms is None
        else f'<td class="n">{ms(cell.handler_ms)}</td>'
    )
    return f'<td class="n">{ms(cell.handoff_ms)}{cold}</td>{handler}'


def steps_table(comparison: Comparison) -> str:
    styles = list(comparison.summaries)
    top = "".join(f'<th colspan="2" class="{s}" style="text-align:center">{s}</th>' for s in styles)
    sub = '<th class="n">hand-off</th><th class="n">handler</th>' * len(styles)
    rows = "".join(
        f'<tr><td class="n dim">{i}</td><td>{escape(row.step)}</td><td>{escape(outcome(row, styles))}</td>'
        f"{''.join(_numbers(row.cells.get(s)) for s in styles)}</tr>"
        for i, row in enumerate(comparison.rows, 1)
    )
    return (
        f'<table class="steps"><tr><th rowspan="2">#</th><th rowspan="2">step</th><th rowspan="2">outcome</th>'
        f"{top}</tr><tr>{sub}</tr>{rows}</table>"
    )


def totals_table(comparison: Comparison) -> str:
    metrics = {style: _metrics(s) for style, s in comparison.summaries.items()}
    head = "".join(f'<th class="n {s}">{s}</th>' for s in metrics)  # same colours as the timelines
    rows = "".join(
        f"<tr><td>{escape(name)}</td>{''.join(f'<td class=n>{escape(m[name])}</td>' for m in metrics.values())}</tr>"
        for name in next(iter(metrics.values()))
    )
    return f'<table class="totals"><tr><th></th>{head}</tr>{rows}</table>'


def verdict(comparison: Comparison) -> str:
    if comparison.agree is None:
        return '<p class="dim">final records: only one style traced</p>'
    if comparison.agree:
        return '<p class="ok">final records agree field by field (generated ids: present in each)</p>'
    return f'<p class="bad">final records differ on: {escape(", ".join(comparison.differences))}</p>'


def projection_table(comparison: Comparison) -> str:
    """End to end as measured here beside its projection on AWS (projection.py)."""
    rows = "".join(
        f"<tr><td>{escape(style)}</td><td>{escape(p.workflow)}</td><td class=n>{ms(trace.total_ms)}</td>"
        f"<td class=n>{ms(p.p50_ms)}</td><td class=n>{ms(p.p99_ms)}</td>"
        f"<td>{escape(', '.join(f'{n}× {hop}' for hop, n in p.hops.items()))}</td></tr>"
        for style, trace in comparison.traces.items()
        for p in project(trace)
    )
    return (
        '<table class="projection"><caption>end to end: measured here, projected on AWS (ms)</caption><tr><th></th>'
        "<th>on AWS as</th><th class=n>measured</th><th class=n>AWS p50</th><th class=n>AWS p99</th>"
        f"<th>published hops on the path</th></tr>{rows}</table>"
    )


def trace_links(comparison: Comparison, href: str | None) -> str:
    """Links to the saga's exported traces (exports.py), `href` their directory from the page."""
    if href is None:
        return ""
    links = " · ".join(
        f'{escape(style)}: <a href="{escape(href)}/{escape(names["otlp"])}">OpenTelemetry (OTLP/JSON)</a>, '
        f'<a href="{escape(href)}/{escape(names["chrome"])}">Chrome trace (Perfetto)</a>'
        for style, names in file_names(comparison).items()
    )
    return f'<p class="dim">Traces: {links}</p>'


def section(comparison: Comparison, traces_href: str | None = None) -> str:
    traces = comparison.traces
    span_ms = max(t.total_ms for t in traces.values()) or 1.0
    svgs = "".join(
        timeline(t, span_ms, caption=f"{style} — order {t.order_id} — {t.total_ms:,.0f} ms end to end")
        for style, t in traces.items()
    )
    warnings = "".join(
        f'<p class="warn">{escape(style)}: the reconciler acted on the order: {escape(span.detail)}</p>'
        for style, t in traces.items()
        for span in t.spans
        if span.kind == "recovery"
    ) + "".join(
        f'<p class="warn">{escape(style)} trace incomplete: {escape(w)}</p>'
        for style, s in comparison.summaries.items()
        for w in s.warnings
    )
    return (
        f'<section id="{escape(comparison.scenario)}"><h2>{escape(comparison.scenario or "order")}</h2>'
        f'{svgs}<div class="tables">{steps_table(comparison)}{totals_table(comparison)}{projection_table(comparison)}</div>'
        f"{verdict(comparison)}{trace_links(comparison, traces_href)}{warnings}</section>"
    )


def prices() -> str:
    rows = "".join(f"<tr><td>{escape(s)}</td><td>{escape(p)}</td></tr>" for s, p in PRICE_TABLE)
    return (
        f"<h2>Prices</h2><p class=dim>{escape(PRICES_SOURCE)}; recorded {PRICES_RECORDED}. "
        f"Cost per million orders = the counts above × these prices.</p><table>{rows}</table>"
    )


def latencies() -> str:
    rows = "".join(f"<tr><td>{escape(h)}</td><td>{escape(f)}</td></tr>" for h, f in LATENCY_TABLE)
    return (
        f"<h2>Published hop latencies</h2><p class=dim>{escape(LATENCY_SOURCE)}; recorded {LATENCY_RECORDED}. "
        "Projected on AWS = one stream delivery + per step run one hand-off drawn from these (a lognormal "
        "fitted to p50 and p99) + the handler times measured here; 100,000 seeded samples.</p>"
        f"<table>{rows}</table>"
    )


def decision_page(decision: Decision) -> str:
    """Which style should you use: per criterion, each style's numbers from this run, and a verdict."""
    styles = list(decision.criteria[0].cells) if decision.criteria else []
    head = "".join(f'<th class="{escape(s)}">{escape(s)}</th>' for s in styles)
    rows = "".join(
        f"<tr><td><b>{escape(c.name)}</b></td>"
        + "".join(f"<td>{escape(c.cells.get(s, '—'))}</td>" for s in styles)
        + f"<td><b>{escape(c.verdict)}</b></td></tr>"
        for c in decision.criteria
    )
    return (
        '<section id="decision"><h2>Which style should you use?</h2><p class="dim">The usual criteria, answered '
        "with this run's numbers: latency (measured here, projected on AWS) and cost for the "
        f"{escape(decision.scenario or 'order')} scenario; recovery from the scenarios that compensate; places "
        "to change from the static comparison.</p>"
        f'<table class="decision"><tr><th>criterion</th>{head}<th>verdict</th></tr>{rows}</table></section>'
    )


def contents(comparisons: list[Comparison], decision: Decision | None) -> str:
    links = ['<a href="#decision">which style?</a>'] if decision else []
    links += [f'<a href="#{escape(c.scenario)}">{escape(c.scenario or "order")}</a>' for c in comparisons]
    return f"<p>{' · '.join(links)}</p>"


LEGEND = (
    "<p class=dim>One lane per service, time from the order's first record. Filled bars: a Lambda "
    "handler running a step (from its logs). Outlined bars: a Step Functions state (from the execution "
    "history; dashed: it failed or was caught). Diamonds: an event on the bus (from the event tap), the "
    "order stored by create_order, or the saga started by start_saga (the outbox relay, fed by the orders "
    "table's stream). Grey lines: hops between services. <b>hand-off</b>: from the previous step's end to "
    "this step's start (delivery, orchestration, cold start*); start_saga's is create_order's write to the "
    "saga started (stream delivery and the start call); <b>handler</b>: time inside the step's code "
    f"({NOT_TIMED} for start_saga, which logs one line). * the function's first (cold) invocation. "
    "<b>$/M</b>: dollars per million orders like this one, from the counts and the prices at the end.</p>"
)


def render(
    comparisons: list[Comparison],
    statics: StaticComparison | None = None,
    decision: Decision | None = None,
    traces_href: str | None = None,
) -> str:
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "".join(section(c, traces_href) for c in comparisons) + (static.html(statics) if statics else "")
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{TITLE}</title>'
        f"<style>{CSS}</style></head><body><h1>{TITLE}"
        f'</h1><p class="dim">Traces of the deployed stacks, generated {generated} by <code>make compare</code>.'
        f"</p>{contents(comparisons, decision)}{decision_page(decision) if decision else ''}{LEGEND}{body}{prices()}"
        f"{latencies()}</body></html>"
    )


def write(
    comparisons: list[Comparison],
    path: Path,
    statics: StaticComparison | None = None,
    decision: Decision | None = None,
    traces: Path | None = None,
) -> Path:
    """The page at `path`; `traces`: the directory of the exported traces it links to (exports.py)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    href = Path(os.path.relpath(traces, path.parent)).as_posix() if traces else None
    path.write_text(render(comparisons, statics, decision, href), encoding="utf-8")
    return path
