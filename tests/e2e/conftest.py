"""End-to-end tier: the real stacks on the embedded LocalStack.

One session fixture starts LocalStack (or reuses a running one), deploys both styles once, and
stops LocalStack at the end if it started it.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from tools import aws
from tools.dev.localstack.server import healthy

ROOT = Path(__file__).resolve().parents[2]


def run_tool(*args: str) -> None:
    subprocess.run([sys.executable, "-m", *args], cwd=ROOT, check=True)


@pytest.fixture(scope="session")
def localstack():
    started = not healthy(aws.ENDPOINT)
    if started:
        run_tool("tools.dev.localstack", "up")
    yield aws.ENDPOINT
    if started:
        run_tool("tools.dev.localstack", "down")


@pytest.fixture(scope="session")
def deployed(localstack):
    run_tool("tools.dev.deploy", "deploy", *aws.STYLES)
    aws.outputs.cache_clear()
    return {style: aws.outputs(style) for style in aws.STYLES}


def pytest_collection_modifyitems(items):
    """Tests that reconfigure deployed functions run last: while LocalStack swaps a function's
    version, an async event its old poller had taken comes back only after the queue's visibility
    timeout (function timeout + 60 s), which would stall whichever test ran next."""
    items.sort(key=lambda item: item.get_closest_marker("reconfigures_functions") is not None)
