"""The project's code as a reader meets it: code lines, and what each style's code uses.

A style's *wiring* is the code only that style has: its package (`<style>/`, whole), the
module-level definitions it uses from other styles' packages (followed name by name, across
modules: a function, what it calls, the constants it reads), and the adapters of
`shared/adapters` it uses that not every style uses. The entry points are every import in the
style's package and the handler of every function its stack deploys (a style may run another
style's handlers). Code lines are lines that are not blank, not only a comment, not in a
docstring.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from shared.contract import STYLES

SHARED = "shared"
ADAPTERS = "shared.adapters"
INFRA = "infra"  # every CDK package is called infra (README: Layout)
# Calls that chain Step Functions states: where a state machine's order is written down.
CHAINING = frozenset({"next", "add_catch", "when", "otherwise", "afterwards", "branch", "item_processor"})
# Token kinds that are not code on their own.
_NOT_CODE = frozenset(
    {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
)


class FileLines(BaseModel):
    path: str  # relative to the checkout
    lines: int  # code lines


class CodePlace(BaseModel):
    """A place in the code where the order of the steps is written down."""

    kind: Literal["state machine definition", "routing table"]
    path: str
    name: str  # the function (qualified) or the table's name
    entries: int  # chaining calls, or the table's entries


# --- lines ---------------------------------------------------------------------------------------


def code_line_numbers(source: str) -> set[int]:
    """The numbers of the lines holding code: not blank, not only a comment, not in a docstring."""
    tree = ast.parse(source)
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in _NOT_CODE and token.type != tokenize.ENDMARKER:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines - docstrings


def code_lines(source: str) -> int:
    return len(code_line_numbers(source))


# --- the project's modules, and what a style reaches of them ----------------------------------


def _span(node: ast.stmt) -> range:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return range(first, (node.end_lineno or node.lineno) + 1)


def _defined(node: ast.stmt) -> list[str]:
    """The names a module-level statement defines."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return [t.id for t in targets if isinstance(t, ast.Name)]


@dataclass(frozen=True)
class Module:
    name: str  # dotted
    path: Path
    tree: ast.Module

    @property
    def package(self) -> str:
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]

    def imports(self) -> Iterator[tuple[str, str | None]]:
        """(module, name) of every import: `name` None for `import module`."""
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                yield from ((alias.name, None) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                yield from self._from(node)

    @cached_property
    def imported(self) -> dict[str, tuple[str, str | None]]:
        """Local name -> (module, name) of every `from module import name`."""
        found: dict[str, tuple[str, str | None]] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom):
                for imported, alias in zip(self._from(node), node.names, strict=True):
                    found[alias.asname or alias.name] = imported
        return found

    @cached_property
    def definitions(self) -> dict[str, list[ast.stmt]]:
        """Module-level name -> the statements that define it."""
        found: dict[str, list[ast.stmt]] = {}
        for node in self.tree.body:
            for name in _defined(node):
                found.setdefault(name, []).append(node)
        return found

    @cached_property
    def code(self) -> set[int]:
        return code_line_numbers(self.path.read_text(encoding="utf-8"))

    def _from(self, node: ast.ImportFrom) -> list[tuple[str, str | None]]:
        parts = self.package.split(".")
        base = parts[: len(parts) - node.level + 1] if node.level else []
        module = ".".join([*base, node.module] if node.module else base)
        return [(module, alias.name) for alias in node.names]


class Project:
    """The Python modules of the runtime and CDK packages (shared, each style), parsed once."""

    def __init__(self, root: Path, packages: Iterable[str]) -> None:
        self.root = root
        self.modules: dict[str, Module] = {}
        for package in packages:
            for path in sorted((root / package).rglob("*.py")):
                parts = path.relative_to(root).with_suffix("").parts
                name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
                self.modules[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8")))

    def in_package(self, package: str) -> list[Module]:
        return [m for name, m in self.modules.items() if name == package or name.startswith(package + ".")]

    def relative(self, module: Module) -> str:
        return module.path.relative_to(self.root).as_posix()

    def lines(self, module: Module, nodes: Iterable[ast.stmt] | None = None) -> FileLines:
        """The module's code lines, or only those of `nodes`."""
        code = module.code if nodes is None else module.code & {n for node in nodes for n in _span(node)}
        return FileLines(path=self.relative(module), lines=len(code))

    def reach(self, starts: Iterable[tuple[str, str | None]]) -> dict[str, list[ast.stmt]]:
        """Project module -> the module-level statements used from `starts` ((module, name); name
        None for a whole module), following every name those statements use, across modules."""
        reached: dict[str, dict[int, ast.stmt]] = {}
        seen: set[tuple[str, str | None]] = set()
        todo = list(starts)
        while todo:
            module_name, name = todo.pop()
            if name and f"{module_name}.{name}" in self.modules:  # `from package import module`
                module_name, name = f"{module_name}.{name}", None
            if (module_name, name) in seen or module_name not in self.modules:
                continue
            seen.add((module_name, name))
            module = self.modules[module_name]
            if name is None:
                todo += [(module_name, defined) for defined in module.definitions]
                continue
            if name not in module.definitions:
                if name in module.imported:  # re-exported (a package's __init__)
                    todo.append(module.imported[name])
                continue
            for node in module.definitions[name]:
                reached.setdefault(module_name, {})[id(node)] = node
                for used in {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}:
                    if used in module.definitions:
                        todo.append((module_name, used))
                    elif used in module.imported:
                        todo.append(module.imported[used])
        return {name: list(nodes.values()) for name, nodes in reached.items()}


@dataclass(frozen=True)
class Reach:
    borrowed: dict[str, list[ast.stmt]]  # other styles' modules -> the statements used
    adapters: set[str]  # shared.adapters modules used


def style_reach(project: Project, style: str, handlers: Iterable[str]) -> Reach:
    """What the style's code and the functions its stack deploys use of the project."""
    starts = [imported for m in project.in_package(style) for imported in m.imports()]
    starts += [(module, "handler") for module in handlers]
    reached = project.reach(starts)
    return Reach(
        borrowed={m: nodes for m, nodes in reached.items() if m.split(".")[0] in STYLES and m.split(".")[0] != style},
        adapters={m for m in reached if m.startswith(ADAPTERS + ".")},
    )


def wiring(project: Project, reaches: dict[str, Reach]) -> tuple[dict[str, list[FileLines]], list[Module]]:
    """Each style's wiring files (its own modules whole, the statements it uses of other styles'
    modules, the adapters not every style uses), and the shared modules that are nobody's wiring."""
    everyone = set.intersection(*(r.adapters for r in reaches.values())) if reaches else set()
    files: dict[str, list[FileLines]] = {}
    taken: set[str] = set()
    for style, reach in reaches.items():
        found = [project.lines(m) for m in project.in_package(style)]
        found += [project.lines(project.modules[m], nodes) for m, nodes in sorted(reach.borrowed.items())]
        found += [project.lines(project.modules[m]) for m in sorted(reach.adapters - everyone)]
        taken |= reach.adapters - everyone
        files[style] = [f for f in found if f.lines]
    shared = [m for m in project.in_package(SHARED) if m.name not in taken]
    return files, shared


def _functions(nodes: Iterable[ast.stmt]) -> Iterator[tuple[str, ast.AST]]:
    """(qualified name, node) of the functions among module-level `nodes`, methods included."""
    for node in nodes:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    yield f"{node.name}.{item.name}", item
        elif isinstance(node, ast.FunctionDef):
            yield node.name, node


def _routing_tables(project: Project, steps: set[str]) -> dict[tuple[str, str], int]:
    """Module-level dicts keyed by step names (two or more): (module, name) -> entries."""
    found = {}
    for module in project.modules.values():
        for name, nodes in module.definitions.items():
            value = getattr(nodes[-1], "value", None)
            if isinstance(value, ast.Dict) and len(value.keys) > 1:
                keys = [k.value if isinstance(k, ast.Constant) else None for k in value.keys]
                if all(k in steps for k in keys):
                    found[(module.name, name)] = len(keys)
    return found


def flow_sources(project: Project, style: str, reach: Reach, steps: set[str]) -> list[CodePlace]:
    """Where the style's stacks (its own, and what it uses of other styles') write the flow down."""
    stacks = {m.name: m.tree.body for m in project.in_package(style) if INFRA in m.name.split(".")}
    stacks |= {m: nodes for m, nodes in reach.borrowed.items() if INFRA in m.split(".")}
    tables = _routing_tables(project, steps)
    places = []
    for module_name, nodes in stacks.items():
        module = project.modules[module_name]
        for name, function in _functions(nodes):
            chained = sum(
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CHAINING
                for node in ast.walk(function)
            )
            if chained:
                where = project.relative(module)
                places.append(CodePlace(kind="state machine definition", path=where, name=name, entries=chained))
        used = {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}
        for local in sorted(used):
            table = module.imported.get(local) or (module_name, local)
            if table in tables:
                where = project.relative(project.modules[table[0]])
                places.append(CodePlace(kind="routing table", path=where, name=str(table[1]), entries=tables[table]))
    return places
