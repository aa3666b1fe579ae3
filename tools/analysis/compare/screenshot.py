"""PNG of the HTML report with headless Chromium (for the README).

    python -m tools.analysis.compare.screenshot [report/compare.html] [docs/compare.png] [--height PX]

Chromium has no full-page mode on the command line, so the window is made as tall as asked.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WIDTH = 1160
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    raise SystemExit("error: no Chromium found: apt-get install -y chromium")


def screenshot(html: Path, png: Path, height: int) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:  # a throwaway profile: nothing left behind
        command = [
            chromium(),
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{height}",
            f"--screenshot={png.resolve()}",
            html.resolve().as_uri(),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode or not png.exists():
        raise SystemExit(f"error: chromium failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    return png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", type=Path, default=Path("report/compare.html"))
    parser.add_argument("png", nargs="?", type=Path, default=Path("docs/compare.png"))
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args()
    if not args.html.exists():
        sys.exit(f"error: {args.html} does not exist: run `make compare` first")
    print(screenshot(args.html, args.png, args.height))


if __name__ == "__main__":
    main()
