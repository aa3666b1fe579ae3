"""A worked change, measured: a fraud check between reserve and charge, kept as patches under
docs/changes/ (`fraud-check.shared.patch` first, then one per style), and what each touched.

    python -m tools.analysis.compare.worked_change           # apply the patches to a copy, print what they touch
    python -m tools.analysis.compare.worked_change --write   # ... and rewrite fraud-check.json and README.md's table
    python -m tools.analysis.compare.worked_change --scratch DIR   # a git repo to redo a patch that stopped applying
    python -m tools.analysis.compare.worked_change --export DIR    # the patches again, from that repo's branches

The patches apply to a copy of the working tree (never to the checkout itself): `git apply
--check` then `git apply`, the shared patch first, each style's patch on top of it alone, then
all of them together, and the copy's app is synthesized (`static.synthesize`). Everything the
doc states is computed here and checked by tests/unit/test_worked_change.py: lines from the
patches' numstat, resources, IAM statements, flow links and wiring lines from the two synths.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from shared.contract import STYLES
from tools.analysis.compare import static
from tools.analysis.compare.static import FileChange, PatchStats, StyleChange, WorkedChange

CHANGES = static.CHANGES
NAME = static.CHANGE_NAME
SHARED_PART = "shared"
DATA = static.CHANGE_DATA
README = CHANGES / "README.md"
BEGIN, END = "<!-- generated: worked_change --write -->", "<!-- end of generated -->"
SCRATCH_BASE = "change/base"  # branches of the scratch repo: change/base, change/shared, change/<style>


class PatchFailed(RuntimeError):
    pass


# --- patches -------------------------------------------------------------------------------------


def patch_files(changes: Path = CHANGES) -> dict[str, Path]:
    """part -> patch, in the order they apply: the shared part, then each style that has one."""
    parts = [SHARED_PART, *STYLES]
    return {part: changes / f"{NAME}.{part}.patch" for part in parts if (changes / f"{NAME}.{part}.patch").exists()}


def _git(args: list[str], cwd: Path) -> str:
    run = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if run.returncode:
        raise PatchFailed(f"git {' '.join(args)} in {cwd}: {run.stderr.strip()}")
    return run.stdout


def numstat(patch: Path) -> list[FileChange]:
    """The patch's files with lines added and removed (`git apply --numstat`: reads, applies nothing)."""
    files = []
    # Run outside any repository: inside one, git apply ignores paths outside the current directory.
    for line in _git(["apply", "--numstat", str(patch.resolve())], Path(tempfile.gettempdir())).splitlines():
        added, removed, path = line.split("\t", 2)
        files.append(FileChange(path=path, added=int(added), removed=int(removed)))
    return files


def copy_tree(root: Path, dest: Path) -> Path:
    """The working tree's files (tracked, and new ones not ignored), as they are now, into `dest`."""
    listed = _git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], root).split("\0")
    for name in filter(None, listed):
        source = root / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def apply(tree: Path, patch: Path) -> None:
    _git(["apply", "--check", str(patch)], tree)
    _git(["apply", str(patch)], tree)


def patched_copy(root: Path, dest: Path, patches: dict[str, Path]) -> Path:
    """`dest`: the working tree with every patch applied; each style's patch is first checked on
    the shared part alone, so each applies without the others."""
    copy_tree(root, dest)
    apply(dest, patches[SHARED_PART])
    styles = [p for part, p in patches.items() if part != SHARED_PART]
    for patch in styles:
        _git(["apply", "--check", str(patch)], dest)
    for patch in styles:
        apply(dest, patch)
    return dest


# --- measure -------------------------------------------------------------------------------------


def _links(s: static.StyleStatics) -> set[str]:
    return {link for place in s.flow for link in place.links}


def _style_change(
    style: str, before: static.StyleStatics, after: static.StyleStatics, touched: set[str], patch: str | None
) -> StyleChange:
    delta = Counter(after.resources)
    delta.subtract(before.resources)
    return StyleChange(
        style=style,
        patch=patch,
        wiring_touched=[f.path for f in after.wiring_files if f.path in touched],
        wiring_lines=(before.wiring_lines, after.wiring_lines),
        resources=(before.resource_count, after.resource_count),
        resources_changed={kind: n for kind, n in sorted(delta.items()) if n},
        iam_statements=(before.iam_statements, after.iam_statements),
        flow_places=(before.flow_places, after.flow_places),
        links_added=sorted(_links(after) - _links(before)),
        links_removed=sorted(_links(before) - _links(after)),
    )


def measure_change(root: Path = static.ROOT, changes: Path = CHANGES) -> WorkedChange:
    """Apply the patches to a copy of `root`, synthesize it, and compare with `root` (two synths)."""
    patches = patch_files(changes)
    if SHARED_PART not in patches:
        raise PatchFailed(f"no {NAME}.{SHARED_PART}.patch in {changes}")
    stats = [PatchStats(part=part, patch=path.name, files=numstat(path)) for part, path in patches.items()]
    touched = {f.path for s in stats for f in s.files}
    before = static.measure(root)
    with tempfile.TemporaryDirectory(prefix=f"{NAME}-") as tmp:
        after = static.measure(patched_copy(root, Path(tmp), patches))
    styles = {
        style: _style_change(
            style, before.styles[style], after.styles[style], touched, patches[style].name if style in patches else None
        )
        for style in before.styles
        if style in after.styles
    }
    return WorkedChange(name=NAME, patches=stats, styles=styles)


# --- the doc -------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text in a Markdown table cell: a `|` (rules that hear several events) escaped."""
    return text.replace("|", "\\|")


def _pair(values: tuple[int, int]) -> str:
    before, after = values
    return f"{before} → {after} ({after - before:+})"


def markdown(change: WorkedChange) -> str:
    """README.md's generated part: what each patch touched, and what the change did to each style."""
    lines = ["| patch | file | lines added | lines removed |", "|---|---|---:|---:|"]
    for p in change.patches:
        for f in p.files:
            lines.append(f"| `{p.patch}` | `{f.path}` | {f.added} | {f.removed} |")
        files = f"{len(p.files)} file{'s' if len(p.files) != 1 else ''}"
        lines.append(f"| **{p.part}** | **{files}** | **{p.added}** | **{p.removed}** |")
    lines += ["", "| | " + " | ".join(change.styles) + " |", "|---|" + "---|" * len(change.styles)]
    rows = {
        "its own patch": lambda s: f"`{s.patch}`" if s.patch else "none",
        "wiring files the patches touched": lambda s: ", ".join(f"`{p}`" for p in s.wiring_touched) or "none",
        "wiring code lines": lambda s: _pair(s.wiring_lines),
        "CloudFormation resources": lambda s: _pair(s.resources),
        "resources added": lambda s: ", ".join(f"{n:+} {k}" for k, n in s.resources_changed.items()) or "none",
        "IAM policy statements": lambda s: _pair(s.iam_statements),
        "deployed places stating the flow": lambda s: _pair(s.flow_places),
        "links added": lambda s: "<br>".join(map(_cell, s.links_added)) or "none",
        "links removed": lambda s: "<br>".join(map(_cell, s.links_removed)) or "none",
    }
    for name, cell in rows.items():
        lines.append(f"| {name} | " + " | ".join(cell(s) for s in change.styles.values()) + " |")
    return "\n".join(lines)


def generated_part(text: str) -> str:
    """What README.md holds between its markers."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"{README.name} has no {BEGIN} ... {END} part")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def write(change: WorkedChange, data: Path = DATA, readme: Path = README) -> None:
    data.write_text(change.model_dump_json(indent=2) + "\n")
    text = readme.read_text()
    head, rest = text.split(BEGIN, 1)
    readme.write_text(f"{head}{BEGIN}\n{markdown(change)}\n{END}{rest.split(END, 1)[1]}")


# --- redoing a patch -----------------------------------------------------------------------------


def scratch(root: Path, dest: Path, changes: Path = CHANGES) -> list[str]:
    """A git repo in `dest` (new): the working tree as branch change/base, then change/shared
    with the shared patch, and change/<style> on top of it with that style's. A hunk that no
    longer applies is left as a .rej file beside its file, to redo by hand and commit on the
    branch. Returns those .rej files."""
    dest.mkdir(parents=True)
    copy_tree(root, dest)
    commit = ["-c", "user.name=worked change", "-c", "user.email=worked-change@localhost", "commit", "-qm"]
    _git(["init", "-q", "-b", SCRATCH_BASE], dest)
    _git(["add", "-A"], dest)
    _git([*commit, "the working tree"], dest)
    rejected: list[str] = []
    for part, patch in patch_files(changes).items():
        start = SCRATCH_BASE if part == SHARED_PART else f"change/{SHARED_PART}"
        _git(["checkout", "-q", "-b", f"change/{part}", start], dest)
        subprocess.run(["git", "apply", "--reject", str(patch)], cwd=dest, capture_output=True, text=True)
        found = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.rej") if ".git" not in p.parts)
        rejected += [f"change/{part}: {path}" for path in found if not any(path in r for r in rejected)]
        _git(["add", "-A", "--", ".", ":!*.rej"], dest)
        _git([*commit, part], dest)
    return rejected


def export(repo: Path, changes: Path = CHANGES, parts: Iterable[str] | None = None) -> list[Path]:
    """The patches again from a scratch repo's branches: shared = base..shared, style = shared..style."""
    branches = {line.strip("* ").strip() for line in _git(["branch"], repo).splitlines()}
    written = []
    for part in parts or [SHARED_PART, *STYLES]:
        if f"change/{part}" not in branches:
            continue
        base = SCRATCH_BASE if part == SHARED_PART else f"change/{SHARED_PART}"
        path = changes / f"{NAME}.{part}.patch"
        path.write_text(_git(["diff", "--no-color", "--no-ext-diff", base, f"change/{part}"], repo))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.analysis.compare.worked_change", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--write", action="store_true", help=f"rewrite {DATA.name} and the table of {README.name}")
    parser.add_argument("--scratch", type=Path, metavar="DIR", help="make a git repo in DIR to redo the patches")
    parser.add_argument("--export", type=Path, metavar="DIR", help="write the patches from DIR's branches")
    args = parser.parse_args(argv)
    if args.scratch:
        rejected = scratch(static.ROOT, args.scratch)
        print(f"{args.scratch}: branches change/base, change/{SHARED_PART}, change/<style>")
        for rejected_hunks in rejected:
            print(f"  a hunk to redo by hand, then commit on its branch: {rejected_hunks}")
        return 0
    if args.export:
        for path in export(args.export):
            print(f"wrote {path.relative_to(static.ROOT)}")
    change = measure_change()
    print(markdown(change))
    if args.write:
        write(change)
        print(f"wrote {DATA.relative_to(static.ROOT)} and {README.relative_to(static.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
