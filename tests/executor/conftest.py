"""Fixtures for the executor tests (helpers live in executor_fakes.py)."""

import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def code_dir(tmp_path):
    """Returns write(name, source) that creates a module in a fresh code folder."""
    root = tmp_path / "code"
    root.mkdir()

    def write(relpath: str, source: str) -> Path:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        return root

    write.root = root
    return write
