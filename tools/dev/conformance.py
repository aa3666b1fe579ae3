"""`make test-aws`: the conformance run against a real AWS account, opt-in and never part of `make
test`. It tests the stacks already deployed there (`make deploy TARGET=aws`); it never deploys,
so it never changes an account's infrastructure by itself.

    python -m tools.dev.conformance [pytest options]

With AWS credentials that resolve and pass `sts get-caller-identity` (tools.dev.account), it runs
tests/aws on every style whose stack is deployed in that account and region: the scenarios and the
API's checks through the authenticated API, as two test customers it creates in each stack's user
pool and deletes afterwards. Without them it prints one line saying it was skipped and why, and
exits 0. Credentials but no stack deployed is an error: there is nothing to test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared.contract import STACKS, STYLES
from tools.dev import account as accounts

ROOT = Path(__file__).resolve().parents[2]
# The opt-in that tests/aws looks for (its tests skip themselves without it), and the styles to test.
OPT_IN_VARIABLE = "SAGA_TEST_AWS"
STYLES_VARIABLE = "SAGA_TEST_AWS_STYLES"


def main(argv: list[str] | None = None) -> int:
    try:
        account = accounts.ambient_account()
    except accounts.NoAccount as why:
        print(f"test-aws: skipped: {why}")
        return 0
    deployed = [style for style in STYLES if accounts.stack_outputs(account, style) is not None]
    if not deployed:
        stacks = ", ".join(STACKS.values())
        print(f"error: test-aws: none of {stacks} is deployed in {account}: run `make deploy TARGET=aws`")
        return 1
    print(f"test-aws: {account}: testing {', '.join(STACKS[s] for s in deployed)}", flush=True)
    env = {**os.environ, OPT_IN_VARIABLE: "1", STYLES_VARIABLE: ",".join(deployed), "AWS_REGION": account.region}
    command = [sys.executable, "-m", "pytest", "tests/aws", *(sys.argv[1:] if argv is None else argv)]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
