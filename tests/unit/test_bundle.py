"""tools/dev/bundle.py: the Lambda asset is made of whole runtime packages, and the CDK side is not in it."""

from __future__ import annotations

import ast
from pathlib import Path

from hybrid.infra.notifications import HANDLER as NOTIFY_CUSTOMER_HANDLER
from shared.contract import ORCHESTRATION, STYLES
from shared.infra.lambdas import FUNCTIONS, handler_of
from tools.dev import bundle

# The style whose handlers each style's saga runs: its own, but the hybrid runs orchestration's.
HANDLER_STYLES = {style: style for style in STYLES} | {"hybrid": ORCHESTRATION}


def imported_modules(module: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def all_packages(top: str) -> set[str]:
    root = bundle.package_dir(top)
    return {
        ".".join(init.parent.relative_to(bundle.ROOT).parts)
        for init in root.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


def test_every_package_is_either_shipped_or_infrastructure() -> None:
    packages = set().union(*(all_packages(top) for top in ("shared", *STYLES)))
    assert packages == set(bundle.RUNTIME_PACKAGES) | set(bundle.INFRA_PACKAGES)


def test_no_shipped_module_imports_the_cdk_or_the_infra_packages() -> None:
    for package in bundle.RUNTIME_PACKAGES:
        for module in bundle.modules(package):
            for name in imported_modules(module):
                assert not name.startswith(("aws_cdk", "constructs", "cdk_nag")), f"{module}: {name}"
                assert not name.startswith(bundle.INFRA_PACKAGES), f"{module}: {name}"
                assert not name.startswith("tools"), f"{module}: {name}"


def test_every_function_handler_lives_in_a_shipped_package() -> None:
    handlers = {handler_of(name, HANDLER_STYLES[style]) for style in STYLES for name in FUNCTIONS}
    handlers |= {NOTIFY_CUSTOMER_HANDLER}
    for handler in handlers:
        module, _, _ = handler.rpartition(".")
        package, _, leaf = module.rpartition(".")
        assert package in bundle.RUNTIME_PACKAGES, handler
        assert bundle.package_dir(package).joinpath(f"{leaf}.py") in bundle.modules(package), handler
