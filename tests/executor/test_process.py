"""Interpreter choice, child env and output buffer (no processes started)."""

import os
import stat

import pytest
from saga_lambda_executor.process import OutputBuffer, UnsupportedRuntimeError, build_env, resolve_interpreter


def fake_python(directory, name):
    path = directory / name
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_env_var_wins(tmp_path):
    exe = fake_python(tmp_path, "py")
    assert resolve_interpreter("python3.12", {"SAGA_LAMBDA_PYTHON312": exe, "PATH": ""}) == exe


def test_env_var_must_be_executable(tmp_path):
    with pytest.raises(UnsupportedRuntimeError, match="SAGA_LAMBDA_PYTHON312"):
        resolve_interpreter("python3.12", {"SAGA_LAMBDA_PYTHON312": str(tmp_path / "missing")})


def test_path_lookup_skips_pyenv_shims(tmp_path):
    shims = tmp_path / "shims"
    real = tmp_path / "bin"
    shims.mkdir()
    real.mkdir()
    fake_python(shims, "python3.12")
    exe = fake_python(real, "python3.12")
    env = {"PATH": os.pathsep.join([str(shims), str(real)]), "PYENV_ROOT": str(tmp_path / "none")}
    assert resolve_interpreter("python3.12", env) == exe


def test_pyenv_versions_fallback(tmp_path):
    bin_dir = tmp_path / "versions" / "3.12.1" / "bin"
    bin_dir.mkdir(parents=True)
    exe = fake_python(bin_dir, "python3.12")
    assert resolve_interpreter("python3.12", {"PATH": "", "PYENV_ROOT": str(tmp_path)}) == exe


@pytest.mark.parametrize("runtime", ["nodejs20.x", "java21", "provided.al2023", None, "python2.7"])
def test_unsupported_runtimes_are_named(runtime):
    with pytest.raises(UnsupportedRuntimeError, match="not supported"):
        resolve_interpreter(runtime, {"PATH": ""})


def test_missing_interpreter_says_what_to_set(tmp_path):
    with pytest.raises(UnsupportedRuntimeError, match="set SAGA_LAMBDA_PYTHON399"):
        resolve_interpreter("python3.99", {"PATH": "", "PYENV_ROOT": str(tmp_path)})


def test_build_env_stringifies_and_drops_host_env(tmp_path):
    host = {"PATH": "/usr/bin", "HOME": "/root", "AWS_PROFILE": "prod", "OVERRIDE_IN_DOCKER": "0"}
    env = build_env({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": 256, "SKIPPED": None, "X": "y"}, str(tmp_path), host)
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["X"] == "y" and "SKIPPED" not in env
    assert env["PATH"] == "/usr/bin"
    assert "HOME" not in env and "AWS_PROFILE" not in env and "OVERRIDE_IN_DOCKER" not in env
    assert env["LAMBDA_TASK_ROOT"] == str(tmp_path)
    assert all(isinstance(v, str) for v in env.values())


def test_functions_get_the_direct_dynamodb_endpoint_unless_they_set_their_own(tmp_path):
    host = {"PATH": "/usr/bin", "SAGA_LAMBDA_DYNAMODB_ENDPOINT": "http://127.0.0.1:4570"}
    assert build_env({}, str(tmp_path), host)["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:4570"
    own = {"AWS_ENDPOINT_URL_DYNAMODB": "http://elsewhere:8000"}
    assert build_env(own, str(tmp_path), host)["AWS_ENDPOINT_URL_DYNAMODB"] == "http://elsewhere:8000"
    assert "AWS_ENDPOINT_URL_DYNAMODB" not in build_env({}, str(tmp_path), {"PATH": "/usr/bin"})


def test_output_buffer_marks_survive_trimming():
    buf = OutputBuffer(max_chars=10)
    buf.append("aaaa\n")
    mark = buf.mark()
    buf.append("bbbb\n")
    assert buf.since(mark) == "bbbb\n"
    buf.append("cccc\n")  # trims "aaaa\n" from the front
    assert buf.text() == "bbbb\ncccc\n"
    assert buf.since(mark) == "bbbb\ncccc\n"
    assert buf.wait_for("cccc", timeout=0.1)
    assert not buf.wait_for("zzzz", timeout=0.05)
