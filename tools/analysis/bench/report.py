"""What a benchmark run leaves: <date>.json (everything, raw latencies included), <date>.png
(latency distributions; throughput and hop time against concurrency), <date>.md (the table for
the README), and a rich table on the console."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from shared.contract import CHOREOGRAPHY, HYBRID, ORCHESTRATION, STYLES
from tools.analysis.bench.model import BenchResult
from tools.analysis.bench.stats import FIGURES

# Published per-hop latencies on real AWS, eu-west-1 (bitesizedserverless.com, "Serverless
# Messaging: Latency Compared"): Step Functions Standard calling Lambda synchronously, and
# EventBridge to a Lambda target. The hybrid's saga hops are Step Functions' (its outcome's hop
# to the notification service comes after the order's end, which the benchmark measures).
AWS_HOP_MS = {ORCHESTRATION: {"p50": 99, "p99": 250}, CHOREOGRAPHY: {"p50": 148, "p99": 387}}
AWS_HOP_MS[HYBRID] = AWS_HOP_MS[ORCHESTRATION]
COLORS = {ORCHESTRATION: "tab:blue", CHOREOGRAPHY: "tab:orange", HYBRID: "tab:green"}

_console = Console(stderr=True)


def progress(message: str) -> None:
    _console.print(f"[dim]bench:[/] {message}", soft_wrap=True)  # one line each, however narrow


def stem(result: BenchResult) -> str:
    return result.date.replace(":", "").replace("+0000", "Z")[:17].replace("T", "-")


def as_json(result: BenchResult) -> str:
    return result.model_dump_json(indent=1) + "\n"


def write(result: BenchResult, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    base = out / stem(result)
    paths = [base.with_suffix(".json"), base.with_suffix(".md"), base.with_suffix(".png")]
    paths[0].write_text(as_json(result))
    paths[1].write_text(markdown(result))
    plot(result, paths[2])
    return paths


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    return str(value)


def _figure(result: BenchResult, style: str, level: int, key: str):
    cell = result.cell(style, level)
    return cell.figure(key) if cell else None


def styles(result: BenchResult) -> list[str]:
    """The styles the run measured, in the contract's order."""
    measured = {c.style for c in result.cells}
    return [s for s in STYLES if s in measured]


def grid(result: BenchResult) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per figure, one column per concurrency, each cell the styles'
    figures "orchestration / choreography / hybrid (ratio×)" with ratio = choreography / orchestration."""
    levels, shown = result.config.concurrency, styles(result)
    body = []
    for key, label in FIGURES:
        row = [label]
        for level in levels:
            figures = " / ".join(_fmt(_figure(result, style, level, key)) for style in shown)
            ratio = result.ratio(level)
            r = ratio.figures.get(key) if ratio else None
            row.append(figures + (f" ({r:.2f}×)" if r else ""))
        body.append(row)
    return [f"{' / '.join(shown)} (chor ÷ orch)", *(f"{c} in flight" for c in levels)], body


def _caption(result: BenchResult) -> str:
    m, cfg = result.machine, result.config
    load = m.load_average
    return (
        f"{cfg.orders} happy-path orders per style and concurrency"
        + (f" after a warm-up of {cfg.warmup} per style" if cfg.warmup else "")
        + f"; {result.duration_s:.0f} s in all; {m.cpus} cores, {m.memory_gib} GiB, {m.localstack} LocalStack"
        + (f"; load average {load[0]:.1f} → {load[-1]:.1f}" if load else "")
        + f"; {cfg.hops_per_saga} hand-offs per saga: the outbox's (create_order → stream → start_saga) "
        f"and {cfg.step_hops_per_saga} into the steps"
    )


def print_table(result: BenchResult, stderr: bool = False) -> None:
    header, body = grid(result)
    table = Table(title=f"Saga benchmark {result.date}", caption=_caption(result))
    table.add_column(header[0], justify="left")
    for name in header[1:]:
        table.add_column(name, justify="right")
    for row in body:
        table.add_row(*row)
    stream = sys.stderr if stderr else sys.stdout
    # Piped output (CI logs) gets room for the whole table instead of rich's default 80 columns.
    per_level = 10 + 11 * len(styles(result))  # "1,234 / ..." per style, and the ratio
    width = max(120, 40 + per_level * len(header[1:]), Console(file=stream).width if stream.isatty() else 0)
    Console(file=stream, width=width).print(table)
    incomplete = [c for c in result.cells if c.terminal < c.orders or c.traced < c.terminal]
    for c in incomplete:
        progress(
            f"[yellow]{c.style} at {c.concurrency}: {c.terminal}/{c.orders} terminal, "
            f"{c.traced} traced in the logs; errors: {c.errors}[/]"
        )


def markdown(result: BenchResult) -> str:
    header, body = grid(result)
    lines = [
        f"Run {result.date}: {_caption(result)}.",
        "",
        "| " + " | ".join(header) + " |",
        "|---" + "|---:" * (len(header) - 1) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def plot(result: BenchResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = styles(result)
    colors = {style: COLORS[style] for style in shown}
    levels = result.config.concurrency
    width = 0.8 / len(shown)

    def figures(style: str, key: str) -> list:
        return [_figure(result, style, c, key) for c in levels]

    fig, (dist, tput, hop) = plt.subplots(1, 3, figsize=(16, 5), gridspec_kw={"width_ratios": [2, 1, 1]})

    # Latency distribution: a box per style side by side at each concurrency.
    for n, style in enumerate(shown):
        offset = (n - (len(shown) - 1) / 2) * width
        data = [figures(style, "latencies_ms")[i] or [float("nan")] for i in range(len(levels))]
        boxes = dist.boxplot(
            data,
            positions=[i + offset for i in range(len(levels))],
            widths=width * 0.85,
            patch_artist=True,
            whis=(1, 99),
            showfliers=True,
            manage_ticks=False,
        )
        for box in boxes["boxes"]:
            box.set(facecolor=colors[style], alpha=0.6)
        dist.plot([], [], color=colors[style], linewidth=8, alpha=0.6, label=style)
    dist.set_xticks(range(len(levels)), [f"{c} in flight" for c in levels])
    dist.set_yscale("log")
    dist.set_ylabel("POST → terminal status (ms, log scale)")
    dist.set_title("End-to-end latency (box: p25–p75, whiskers: p1–p99)")
    dist.legend()
    dist.grid(axis="y", alpha=0.3)

    for style in colors:
        tput.plot(levels, figures(style, "throughput_per_s"), marker="o", color=colors[style], label=style)
        hop.plot(levels, figures(style, "hop_p50_ms"), marker="o", color=colors[style], label=f"{style} p50")
        hop.plot(
            levels, figures(style, "hop_p99_ms"), marker="^", linestyle="--", color=colors[style], label=f"{style} p99"
        )
        hop.plot(
            levels,
            figures(style, "outbox_hop_p50_ms"),
            marker="s",
            linestyle="-.",
            color=colors[style],
            alpha=0.6,
            label=f"{style} outbox p50",
        )
        hop.axhline(AWS_HOP_MS[style]["p50"], color=colors[style], linestyle=":", alpha=0.7)
    hop.plot([], [], color="grey", linestyle=":", label="real AWS p50 (published)")
    tput.set_ylim(bottom=0)
    hop.set_yscale("log")
    for ax, title, ylabel in (
        (tput, "Throughput", "orders / s"),
        (hop, "Hand-off (hop) time", "ms from one handler (or mark) to the next"),
    ):
        ax.set_xlim(levels[0] / 1.5, levels[-1] * 1.5)  # set first: with no data, log scale fails
        ax.set_xscale("log", base=2)
        ax.set_xticks(levels, [str(c) for c in levels])
        ax.set_xlabel("orders in flight")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    m = result.machine
    fig.suptitle(
        f"Order saga on the embedded LocalStack: {result.config.orders} orders per cell, "
        f"{m.cpus} cores, {m.memory_gib} GiB — {result.date}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
