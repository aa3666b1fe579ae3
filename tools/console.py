"""The one rich Console the tools print with: as wide as the terminal, or wide enough that no
table is cropped when the output goes to a log or CI."""

from __future__ import annotations

import sys

from rich.console import Console

LOG_WIDTH = 200


def console(stream=None) -> Console:
    stream = stream or sys.stdout
    return Console(file=stream, width=None if stream.isatty() else LOG_WIDTH)
