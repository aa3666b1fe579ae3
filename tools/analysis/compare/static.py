"""What each style costs to read and to change, from the code and the synthesized templates: no
LocalStack, no AWS.

    python -m tools.analysis.compare --static          # these tables only
    python -m tools.analysis.compare --static --json -  # the same as JSON

Per style (every style of `shared.contract.STYLES`):

- **wiring**: the code only that style has: its package (`<style>/`: handlers, the step adapter,
  its stack), any module of another style's package it imports, and the adapters of
  `shared/adapters` it asks for (imported, or returned by a factory it imports) that not every
  style asks for. Everything else under `shared/` is shared by all styles. Lines are code lines:
  not blank, not comments, not docstrings.
- **resources**: the stack's CloudFormation resources by type, from `app.py` run offline the way
  `cdk synth` runs it (cdk.json's context, a stand-in Lambda bundle); one synth per run.
- **IAM statements**: the statements of the identity policies the stack writes (roles' policies);
  resource-based permissions (Lambda permissions, queue and log resource policies) apart.
- **flow**: the places that state the order of the steps. Deployed: each state machine (its
  transitions) and each event rule that delivers to a function or a state machine (an event tap
  into a log group only watches). In the code: each state machine definition (a function that
  chains states with `.next`, `.add_catch`...) and each routing table (a module-level dict keyed
  by step names) that the style's stack reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from html import escape
from pathlib import Path

from pydantic import BaseModel, Field, computed_field
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from shared.contract import STACKS, STYLES
from tools.analysis.compare.codebase import (
    INFRA,
    SHARED,
    CodePlace,
    FileLines,
    Project,
    flow_sources,
    style_reach,
    wiring,
)
from tools.analysis.compare.templates import (
    FlowPlace,
    SynthFailed,
    flow,
    handler_modules,
    iam_statements,
    resource_permissions,
    resources_by_type,
    step_names,
    synthesize,
)

ROOT = Path(__file__).resolve().parents[3]
CHANGES = ROOT / "docs" / "changes"
CHANGE_NAME = "fraud-check"
CHANGE_DATA = CHANGES / f"{CHANGE_NAME}.json"  # written by `worked_change --write`, checked by its test
# Re-exported: what `measure` raises when app.py does not synthesize.
__all__ = ["StaticComparison", "SynthFailed", "html", "measure", "tables"]


# --- the model ---------------------------------------------------------------------------------


class StyleStatics(BaseModel):
    style: str
    stack: str
    wiring_files: list[FileLines]
    resources: dict[str, int]  # CloudFormation type -> count
    iam_statements: int  # identity policy statements
    resource_permissions: int  # Lambda permissions + statements of resource policies
    flow: list[FlowPlace]
    flow_sources: list[CodePlace]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def wiring_lines(self) -> int:
        return sum(f.lines for f in self.wiring_files)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def resource_count(self) -> int:
        return sum(self.resources.values())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flow_places(self) -> int:
        """Deployed places a reader looks at to follow one saga: state machines and rules."""
        return len(self.flow)


# --- the worked change (docs/changes/, measured by worked_change.py) --------------------------


class FileChange(BaseModel):
    path: str
    added: int
    removed: int


class PatchStats(BaseModel):
    part: str  # "shared", or a style
    patch: str  # file name under docs/changes/
    files: list[FileChange]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)


class StyleChange(BaseModel):
    """One style, before and after every patch: what the change did to its wiring and stack."""

    style: str
    patch: str | None  # its own patch, if it has one
    wiring_touched: list[str]  # its wiring files that some patch adds or changes
    wiring_lines: tuple[int, int]  # before, after
    resources: tuple[int, int]
    resources_changed: dict[str, int]  # type -> added (negative: removed)
    iam_statements: tuple[int, int]
    flow_places: tuple[int, int]
    links_added: list[str]
    links_removed: list[str]


class WorkedChange(BaseModel):
    name: str
    patches: list[PatchStats]
    styles: dict[str, StyleChange]


class StaticComparison(BaseModel):
    styles: dict[str, StyleStatics]
    shared_runtime: list[FileLines] = Field(default_factory=list)  # shared/, outside shared/infra
    shared_infra: list[FileLines] = Field(default_factory=list)  # shared/infra: CDK constructs
    missing: list[str] = Field(default_factory=list)  # styles of the contract app.py does not synthesize
    change: WorkedChange | None = None  # the worked change, as last measured (CHANGE_DATA)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def shared_runtime_lines(self) -> int:
        return sum(f.lines for f in self.shared_runtime)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def shared_infra_lines(self) -> int:
        return sum(f.lines for f in self.shared_infra)


# --- measure -------------------------------------------------------------------------------------


def measure(root: Path = ROOT, styles: Iterable[str] = STYLES) -> StaticComparison:
    """The static comparison of `styles` in the checkout at `root` (synthesizes its app once)."""
    templates = synthesize(root)
    # A style the contract names but app.py does not deploy yet is left out, and said so.
    missing = [s for s in styles if STACKS[s] not in templates]
    styles = [s for s in styles if STACKS[s] in templates]
    project = Project(root, [SHARED, *(s for s in STYLES if (root / s).is_dir())])
    reaches = {s: style_reach(project, s, handler_modules(templates[STACKS[s]])) for s in styles}
    files, shared = wiring(project, reaches)
    steps = step_names((templates[STACKS[s]] for s in styles), (STACKS[s] for s in styles))
    measured = {
        style: StyleStatics(
            style=style,
            stack=STACKS[style],
            wiring_files=files[style],
            resources=resources_by_type(templates[STACKS[style]]),
            iam_statements=iam_statements(templates[STACKS[style]]),
            resource_permissions=resource_permissions(templates[STACKS[style]]),
            flow=flow(templates[STACKS[style]], STACKS[style]),
            flow_sources=flow_sources(project, style, reaches[style], steps),
        )
        for style in styles
    }
    counted = [project.lines(m) for m in shared]
    infra = f"{SHARED}/{INFRA}/"
    change_data = root / CHANGE_DATA.relative_to(ROOT)
    return StaticComparison(
        styles=measured,
        shared_runtime=[f for f in counted if f.lines and not f.path.startswith(infra)],
        shared_infra=[f for f in counted if f.lines and f.path.startswith(infra)],
        missing=missing,
        change=WorkedChange.model_validate_json(change_data.read_text()) if change_data.exists() else None,
    )


# --- rendering -----------------------------------------------------------------------------------

TITLE = "Reading and changing"
SUBTITLE = "what each style costs to read and change: its code and its synthesized template (no LocalStack)"
NOTE = (
    "wiring: the code only that style has (its package, what it uses of other styles' modules, the adapters "
    "not every style uses), in code lines (no blanks, comments or docstrings). Flow: the places that state the "
    "order of the steps, deployed (state machines, rules delivering to a function) and written in the code."
)
CHANGE_TITLE = "a worked change: a fraud check between reserve and charge (docs/changes/)"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _deployed(s: StyleStatics) -> str:
    kinds = Counter(place.kind for place in s.flow)
    links = sum(len(place.links) for place in s.flow)
    return ", ".join(_count(n, kind) for kind, n in kinds.items()) + f", {_count(links, 'link')}"


def _wiring(s: StyleStatics) -> str:
    borrowed = sum(f.lines for f in s.wiring_files if f.path.split("/")[0] not in (s.style, SHARED))
    used = f"; {borrowed:,} of them used from other styles' modules" if borrowed else ""
    return f"{s.wiring_lines:,} ({_count(len(s.wiring_files), 'file')}{used})"


def _written(place: CodePlace) -> str:
    what = "chaining call" if place.kind == "state machine definition" else "entry"
    return f"{place.path}: {place.name} ({_count(place.entries, what, 'entries' if what == 'entry' else None)})"


def summary(comparison: StaticComparison) -> dict[str, dict[str, str]]:
    """Metric -> style -> the figure as shown (both renderers print these)."""
    rows: dict[str, dict[str, str]] = {}
    for style, s in comparison.styles.items():
        for name, value in {
            "wiring code lines": _wiring(s),
            "flow: deployed places": _deployed(s),
            "flow: written in the code": "; ".join(_written(p) for p in s.flow_sources) or "—",
            "CloudFormation resources": f"{s.resource_count:,} ({_count(len(s.resources), 'type')})",
            "IAM policy statements": f"{s.iam_statements:,}",
            "resource-based permissions": f"{s.resource_permissions:,}",
        }.items():
            rows.setdefault(name, {})[style] = value
    return rows


def shared_note(comparison: StaticComparison) -> str:
    note = (
        f"shared by every style: {comparison.shared_runtime_lines:,} code lines of runtime (shared/, "
        f"{_count(len(comparison.shared_runtime), 'file')}) and {comparison.shared_infra_lines:,} of CDK "
        f"constructs (shared/infra, {_count(len(comparison.shared_infra), 'file')})"
    )
    if comparison.missing:
        note += f"; not synthesized by app.py, left out: {', '.join(comparison.missing)}"
    return note


def resource_rows(comparison: StaticComparison) -> list[tuple[str, list[int], bool]]:
    """(type, count per style, whether the styles differ) for every type any style has."""
    styles = list(comparison.styles.values())
    types = sorted({kind for s in styles for kind in s.resources})
    rows = []
    for kind in types:
        counts = [s.resources.get(kind, 0) for s in styles]
        rows.append((kind, counts, len(set(counts)) > 1))
    return rows


def file_rows(comparison: StaticComparison) -> list[tuple[str, list[int | None]]]:
    """(path, lines in each style's wiring or None) for every wiring file."""
    paths = sorted({f.path for s in comparison.styles.values() for f in s.wiring_files})
    lines = {style: {f.path: f.lines for f in s.wiring_files} for style, s in comparison.styles.items()}
    return [(path, [lines[style].get(path) for style in comparison.styles]) for path in paths]


def _pair(values: tuple[int, int]) -> str:
    before, after = values
    return f"{before:,} → {after:,} ({after - before:+,})"


def change_rows(change: WorkedChange) -> dict[str, dict[str, str]]:
    """Row -> style -> what the worked change did to that style."""
    patches = {p.patch: p for p in change.patches}
    rows: dict[str, dict[str, str]] = {}
    for style, s in change.styles.items():
        own = patches.get(s.patch or "")
        for name, value in {
            "its own patch": f"{own.patch}: {_count(len(own.files), 'file')}, +{own.added} -{own.removed}"
            if own
            else "none",
            "its wiring the patches touched": ", ".join(s.wiring_touched) or "none",
            "wiring code lines": _pair(s.wiring_lines),
            "CloudFormation resources": _pair(s.resources),
            "resources added": ", ".join(f"{n:+} {kind}" for kind, n in s.resources_changed.items()) or "none",
            "IAM policy statements": _pair(s.iam_statements),
            "flow: deployed places": _pair(s.flow_places),
            "flow: links added / removed": f"+{len(s.links_added)} / -{len(s.links_removed)}",
        }.items():
            rows.setdefault(name, {})[style] = value
    return rows


def change_note(change: WorkedChange) -> str:
    shared = [p for p in change.patches if p.part not in change.styles]
    applied = "; ".join(f"{p.patch}: {_count(len(p.files), 'file')}, +{p.added} -{p.removed}" for p in shared)
    return (
        f"applied first, for every style: {applied} (the rule, statuses, events, the step, the routes, its test). "
        "Measured by applying the patches to a copy and synthesizing it; docs/changes/README.md has every file."
    )


def tables(comparison: StaticComparison) -> Group:
    """The rich tables for the console."""
    styles = list(comparison.styles)
    overview = Table(title=SUBTITLE, title_justify="left")
    overview.add_column("")
    for style in styles:
        overview.add_column(style, overflow="fold")  # paths wrap, never cropped
    for name, values in summary(comparison).items():
        overview.add_row(name, *(values[s] for s in styles))

    resources = Table(title="CloudFormation resources by type (bold: the styles differ)", title_justify="left")
    resources.add_column("type", overflow="fold")
    for style in styles:
        resources.add_column(style, justify="right")
    for kind, counts, differ in resource_rows(comparison):
        resources.add_row(kind, *map(str, counts), style="bold" if differ else "dim")

    files = Table(title="wiring files (code lines)", title_justify="left")
    files.add_column("file", overflow="fold")
    for style in styles:
        files.add_column(style, justify="right")
    for path, lines in file_rows(comparison):
        files.add_row(path, *("" if n is None else str(n) for n in lines))

    links = Table(title="the flow as deployed", title_justify="left")
    links.add_column("style")
    links.add_column("place", overflow="fold")
    links.add_column("links", overflow="fold")
    for style, s in comparison.styles.items():
        for place in s.flow:
            links.add_row(style, f"{place.kind} {place.name}", "\n".join(place.links))
    parts: list[RenderableType] = [Text(f"\n{TITLE}", style="bold underline"), overview]
    parts.append(Text(shared_note(comparison), style="dim"))
    parts += [Text(NOTE, style="dim"), resources, files, links]
    if comparison.change:
        change = Table(title=CHANGE_TITLE, title_justify="left")
        change.add_column("")
        for style in comparison.change.styles:
            change.add_column(style, overflow="fold")
        for name, values in change_rows(comparison.change).items():
            change.add_row(name, *values.values())
        parts += [change, Text(change_note(comparison.change), style="dim")]
    return Group(*parts)


def _html_table(head: list[str], rows: Iterable[Iterable[str]], numeric_from: int = 1, css: str = "") -> str:
    header = "".join(
        f'<th class="{"n " if i >= numeric_from else ""}{escape(h)}">{escape(h)}</th>' for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"n" if i >= numeric_from else ""}">{cell}</td>' for i, cell in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f'<table class="{css}"><tr>{header}</tr>{body}</table>'


def html(comparison: StaticComparison) -> str:
    """The report's section: the same tables, the flow's links under a disclosure per place."""
    styles = list(comparison.styles)
    overview = _html_table(
        ["", *styles],
        ([escape(name), *(escape(values[s]) for s in styles)] for name, values in summary(comparison).items()),
        numeric_from=len(styles) + 1,
    )
    resources = _html_table(
        ["type", *styles],
        (
            [f"<b>{escape(kind)}</b>" if differ else f'<span class="dim">{escape(kind)}</span>', *map(str, counts)]
            for kind, counts, differ in resource_rows(comparison)
        ),
    )
    files = _html_table(
        ["file", *styles],
        (
            [f"<code>{escape(path)}</code>", *("" if n is None else str(n) for n in counts)]
            for path, counts in file_rows(comparison)
        ),
    )
    flows = "".join(
        f"<details><summary>{escape(style)}: {escape(place.kind)} <code>{escape(place.name)}</code> "
        f"({_count(len(place.links), 'link')})</summary><ul>"
        + "".join(f"<li>{escape(link)}</li>" for link in place.links)
        + "</ul></details>"
        for style, s in comparison.styles.items()
        for place in s.flow
    )
    change = ""
    if comparison.change:
        change_styles = list(comparison.change.styles)
        rows = change_rows(comparison.change).items()
        change = (
            f"<h3>{escape(CHANGE_TITLE)}</h3>"
            + _html_table(
                ["", *change_styles], ([escape(n), *map(escape, v.values())] for n, v in rows), len(styles) + 1
            )
            + f'<p class="dim">{escape(change_note(comparison.change))}</p>'
        )
    return (
        f'<section id="static"><h2>{escape(TITLE)}</h2><p class="dim">{escape(SUBTITLE)}. {escape(NOTE)} '
        f"{escape(shared_note(comparison))}.</p>{overview}"
        f'<div class="tables"><div><h3>resources by type (bold: the styles differ)</h3>{resources}</div>'
        f"<div><h3>wiring files (code lines)</h3>{files}</div></div><h3>the flow as deployed</h3>{flows}{change}"
        "</section>"
    )
