"""Each compared saga (scenario x style) written in the standard trace formats, beside the report:

<dir>/<scenario>.<style>.otlp.json     OpenTelemetry (OTLP/JSON), see otlp.py
<dir>/<scenario>.<style>.chrome.json   Chrome trace events: Perfetto, chrome://tracing, see chrome.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tools.analysis.compare import chrome, otlp
from tools.analysis.compare.comparison import Comparison

FORMATS = {"otlp": otlp.export, "chrome": chrome.export}


def slug(scenario: str) -> str:
    """A file name part: `happy (2)` -> `happy-2`, "" (an order of no known scenario) -> `order`."""
    return re.sub(r"[^a-z0-9]+", "-", scenario.lower()).strip("-") or "order"


def file_names(comparison: Comparison) -> dict[str, dict[str, str]]:
    """style -> format -> the file's name, for every style traced in the comparison."""
    return {
        style: {fmt: f"{slug(comparison.scenario)}.{style}.{fmt}.json" for fmt in FORMATS}
        for style in comparison.traces
    }


def write(comparisons: list[Comparison], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for comparison in comparisons:
        for style, names in file_names(comparison).items():
            for fmt, file_name in names.items():
                path = directory / file_name
                path.write_text(json.dumps(FORMATS[fmt](comparison.traces[style]), indent=1), encoding="utf-8")
                written.append(path)
    return written
