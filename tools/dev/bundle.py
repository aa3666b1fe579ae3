"""Build the one Lambda code asset both stacks deploy: the project's runtime packages plus the
pinned dependencies of requirements-lambda.txt, installed for Lambda's Python 3.12 on Linux.

What ships is a list of whole packages (RUNTIME_PACKAGES), each copied without its subpackages:
the CDK side lives in packages of its own (`shared.infra`, `<style>.infra`) and is simply not on
the list. Dependencies are installed once per requirements hash into build/lambda-deps/<hash>,
so a rebuild after a code change only copies the project's sources.
"""

from __future__ import annotations

import hashlib
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements-lambda.txt"
OUT = ROOT / "build" / "lambda"
# What runs inside Lambda: the steps' rules and adapters, and each style's handlers (the hybrid's
# saga runs orchestration's; its own package holds the notification service).
RUNTIME_PACKAGES = (
    "shared",
    "shared.domain",
    "shared.adapters",
    "shared.entrypoints",
    "orchestration",
    "orchestration.handlers",
    "choreography",
    "choreography.handlers",
    "hybrid",
    "hybrid.handlers",
)
# The CDK side of each top-level package: never shipped.
INFRA_PACKAGES = ("shared.infra", "orchestration.infra", "choreography.infra", "hybrid.infra")


def package_dir(package: str) -> Path:
    return ROOT.joinpath(*package.split("."))


def modules(package: str) -> list[Path]:
    """The package's own modules, not its subpackages."""
    return sorted(package_dir(package).glob("*.py"))


def dependencies() -> Path:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + platform.machine().encode()).hexdigest()
    target = ROOT / "build" / "lambda-deps" / digest[:16]
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
             "--target", str(target), "--requirement", str(REQUIREMENTS),
             "--platform", f"manylinux2014_{platform.machine()}", "--python-version", "3.12",
             "--implementation", "cp", "--only-binary=:all:"],
            capture_output=True, text=True,
        )  # fmt: skip
        if pip.returncode:
            sys.exit(f"error: installing the Lambda dependencies failed:\n{pip.stderr}")
        (target / ".complete").touch()
    return target


def main() -> None:
    deps = dependencies()
    shutil.rmtree(OUT, ignore_errors=True)
    shutil.copytree(deps, OUT, ignore=shutil.ignore_patterns(".complete", "*.dist-info"))
    for package in RUNTIME_PACKAGES:
        target = OUT.joinpath(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        for module in modules(package):
            shutil.copy2(module, target / module.name)
    print(f"Lambda bundle ready: {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
