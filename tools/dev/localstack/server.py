"""Start, stop and inspect the embedded LocalStack (a background host process, no Docker)."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from . import dynamodb, paths


class ToolError(Exception):
    """Expected failure: printed as one line, exit code 1, no traceback."""


# -- process bookkeeping -----------------------------------------------------------------
def _is_our_localstack(pid: int) -> bool:
    # Guards against a stale pid file whose pid now belongs to something else.
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ")
    except OSError:
        return False
    return b"localstack.runtime.main" in cmdline


def running_pid() -> int | None:
    try:
        pid = int(paths.PID_FILE.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _is_our_localstack(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our child not yet reaped) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def _port_in_use() -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((paths.HOST, paths.port())) == 0


def healthy(endpoint: str | None = None, timeout: float = 2) -> bool:
    """Does a LocalStack answer its health check at `endpoint` (default: the embedded one's
    address)? The one health check: `up`, `status`, tools.dev.deploy and the e2e tests use it."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(paths.health_url(endpoint), timeout=timeout) as resp:
            return resp.status == 200 and "services" in json.loads(resp.read() or b"{}")
    except (OSError, ValueError, urllib.error.URLError):
        return False


# -- preconditions -----------------------------------------------------------------------
def _check_venv() -> None:
    py = paths.VENV_PYTHON
    if not py.exists():
        raise ToolError(f"{py} missing: run tools/dev/setup_localstack.sh (needs Python 3.13)")
    probe = subprocess.run(
        [
            str(py),
            "-c",
            "import sys, localstack.runtime.main, saga_lambda_executor; "
            "sys.exit(0 if sys.version_info[:2] >= (3, 13) else 2)",
        ],
        capture_output=True,
        text=True,
    )
    if probe.returncode == 2:
        raise ToolError(
            f"{py} is not Python 3.13+ (LocalStack 2026.3 needs it): "
            "remove .venv-localstack and run tools/dev/setup_localstack.sh"
        )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        raise ToolError(f"{py} cannot import LocalStack or the executor ({last}): run tools/dev/setup_localstack.sh")


# -- commands ----------------------------------------------------------------------------
def up() -> int:
    pid = running_pid()
    if pid:
        print(f"already running (pid {pid})")
        return 0
    if _port_in_use():
        raise ToolError(
            f"port {paths.port()} is already in use by another process: stop it "
            "(e.g. another LocalStack) or set LOCALSTACK_PORT"
        )
    _check_venv()
    _reap_strays()
    for d in (paths.STATE, paths.FS_ROOT, paths.VOLUME, paths.TMP):
        d.mkdir(parents=True, exist_ok=True)
    try:
        dynamodb.seed()
    except dynamodb.SeedError as exc:
        raise ToolError(str(exc)) from None

    started = time.monotonic()
    with open(paths.LOG_FILE, "ab") as log:
        log.write(f"\n=== up {time.strftime('%Y-%m-%d %H:%M:%S')} ===\n".encode())
        log.flush()
        # Own session: `down` can signal LocalStack, DynamoDB Local and the Lambda
        # runtime processes together as one process group.
        proc = subprocess.Popen(
            [str(paths.VENV_PYTHON), "-m", "localstack.runtime.main"],
            cwd=paths.STATE,
            env=paths.localstack_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    paths.PID_FILE.write_text(str(proc.pid))

    deadline = started + paths.START_DEADLINE_S
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            paths.PID_FILE.unlink(missing_ok=True)
            raise ToolError(f"LocalStack exited during start-up (code {code}); see {paths.LOG_FILE}")
        if healthy():
            print(
                f"LocalStack ready on http://{paths.HOST}:{paths.port()} (pid {proc.pid}) in "
                f"{time.monotonic() - started:.1f}s; logs: {paths.LOG_FILE}"
            )
            return 0
        time.sleep(0.2)
    _stop_group(proc.pid)
    paths.PID_FILE.unlink(missing_ok=True)
    raise ToolError(f"LocalStack not healthy after {paths.START_DEADLINE_S}s (stopped it); see {paths.LOG_FILE}")


def _descendants(pid: int) -> list[int]:
    """All processes below pid, from /proc. DynamoDB Local runs in a session of its own,
    so signalling LocalStack's process group alone could orphan it after a KILL."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        ppid = _ppid(int(entry))
        if ppid is not None:
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _signal(pids, sig) -> None:
    for p in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, sig)


def _stop_group(pid: int) -> bool:
    """TERM LocalStack's group (LocalStack and its Lambda runtimes) so LocalStack shuts
    down its services; wait; then KILL whatever is left, descendants included."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return True
    if pgid == os.getpgid(0):  # never signal our own group (pid file from elsewhere)
        raise ToolError(f"pid {pid} shares this shell's process group; stop it by hand")
    family = _descendants(pid)
    os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + paths.STOP_DEADLINE_S
    graceful = False
    while time.monotonic() < deadline:
        if not _alive(pid) and not _group_alive(pgid):
            graceful = True
            break
        time.sleep(0.1)
    if not graceful:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    # Children that LocalStack did not stop itself (or could not, after a KILL).
    # Same parent chain as before (or orphaned to init): not a recycled pid.
    known = set(family) | {pid, 1}
    leftovers = [p for p in family if _alive(p) and _ppid(p) in known]
    _signal(leftovers, signal.SIGTERM)
    end = time.monotonic() + 5
    while leftovers and time.monotonic() < end:
        leftovers = [p for p in leftovers if _alive(p)]
        time.sleep(0.1)
    _signal(leftovers, signal.SIGKILL)
    return graceful


def _strays() -> list[int]:
    """Leftovers of a LocalStack that died without `down` (e.g. killed): DynamoDB Local
    and Lambda runtimes whose command line points into this repo's state or executor."""
    markers = (str(paths.STATE).encode(), str(paths.REPO / "executor").encode())
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if not any(m in cmdline for m in markers) or b"localstack.runtime.main" in cmdline:
            continue
        # Only orphans: a child of a live LocalStack (any instance) is in use, not a leftover.
        parent = _ppid(int(entry))
        if parent is not None and not _is_our_localstack(parent):
            found.append(int(entry))
    return found


def _reap_strays() -> None:
    strays = _strays()
    if strays:
        _signal(strays, signal.SIGKILL)
        print(f"stopped {len(strays)} leftover process(es) of an earlier LocalStack")


def down() -> int:
    pid = running_pid()
    if not pid:
        paths.PID_FILE.unlink(missing_ok=True)
        _reap_strays()
        print("not running")
        return 0
    graceful = _stop_group(pid)
    paths.PID_FILE.unlink(missing_ok=True)
    print(f"stopped (pid {pid}){'' if graceful else ' after SIGKILL'}")
    return 0


def status() -> int:
    pid = running_pid()
    if pid:
        state = "healthy" if healthy() else "not answering health checks"
        print(f"running (pid {pid}) on http://{paths.HOST}:{paths.port()}, {state}; logs: {paths.LOG_FILE}")
        return 0
    print("not running")
    return 3


def logs_path() -> int:
    print(paths.LOG_FILE)
    return 0


def prepare() -> int:
    """Offline seeding only (used by setup): Java link, DynamoDB Local jars, agent jar."""
    try:
        dynamodb.seed()
    except dynamodb.SeedError as exc:
        raise ToolError(str(exc)) from None
    print(f"DynamoDB Local seeded under {dynamodb.DDB_DIR}")
    return 0
