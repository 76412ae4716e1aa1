"""Installs what the local stack runs, once, into the state folder.

- MariaDB from Debian's packages (apt-get, as root);
- Chromium from Debian's packages, for the browser tests (Playwright drives it);
- the Kafka broker's jars and the Spark job's Kafka connector jars, from Maven Central;
- FerretDB, built from the Go module proxy with our small wrapper (stack/ferretdb).

Each step leaves a marker holding a hash of its inputs, so a second run does nothing
and needs no network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pos_app.settings import REPO_ROOT, Settings

STACK_DIR = REPO_ROOT / "stack"
# The Spark connector's runtime jars that pyspark's own jars folder lacks; the rest
# (Hadoop client, Scala library, ...) pyspark already ships, in the versions it needs.
SPARK_EXTRA_ARTIFACTS = (
    "spark-sql-kafka-0-10_2.13",
    "spark-token-provider-kafka-0-10_2.13",
    "kafka-clients",
    "commons-pool2",
)
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")


class InstallError(RuntimeError):
    pass


def say(message: str) -> None:
    print(f"[install] {message}", file=sys.stderr, flush=True)


def find_program(name: str) -> str:
    found = shutil.which(name) or next(
        (str(Path(d) / name) for d in SBIN_DIRS if (Path(d) / name).exists()), None
    )
    if not found:
        raise InstallError(f"{name} not found; run `posctl stack install`")
    return found


def jar_dir(settings: Settings, name: str) -> Path:
    return settings.jar_dir(name)


def ferretdb_binary(settings: Settings) -> Path:
    return settings.state_dir / "bin" / "ferretdb"


def _digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


def _up_to_date(marker: Path, digest: str) -> bool:
    return marker.exists() and marker.read_text().strip() == digest


def _run(argv: list[str], what: str, cwd: Path | None = None) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-20:]
        raise InstallError(f"{what} failed ({' '.join(argv)}):\n" + "\n".join(output))


def _apt_install(what: str, packages: list[str]) -> None:
    if os.geteuid() != 0:
        raise InstallError(
            f"{what} is missing: run as root, or `apt-get install {' '.join(packages)}`"
        )
    say(f"installing {what} from Debian packages (apt-get) ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        if subprocess.run(argv, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            raise InstallError(f"{' '.join(argv)} failed")


def ensure_mariadb() -> None:
    try:
        find_program("mariadbd")
        find_program("mariadb")
        return
    except InstallError:
        pass
    _apt_install("MariaDB", ["mariadb-server", "mariadb-client"])


def ensure_chromium() -> None:
    """The browser tests' Chromium: Debian's, only when missing."""
    if shutil.which("chromium"):
        return
    _apt_install("Chromium", ["chromium"])


def ensure_jars(settings: Settings, name: str, only: tuple[str, ...] = ()) -> Path:
    """Resolve stack/<name>/pom.xml's runtime jars into the state folder."""
    pom = STACK_DIR / name / "pom.xml"
    target = jar_dir(settings, name)
    marker = target / ".resolved"
    digest = _digest(pom)
    if _up_to_date(marker, digest):
        return target
    say(f"resolving {name} jars from Maven Central ...")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    argv = [
        find_program("mvn"),
        "-q",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={target}",
    ]
    if only:
        argv.append("-DincludeArtifactIds=" + ",".join(only))
    _run(argv, f"resolving {name} jars")
    marker.write_text(digest)
    return target


def ensure_ferretdb(settings: Settings) -> Path:
    source = STACK_DIR / "ferretdb"
    binary = ferretdb_binary(settings)
    marker = binary.with_suffix(".built")
    digest = _digest(source / "main.go", source / "go.mod", source / "go.sum")
    if binary.exists() and _up_to_date(marker, digest):
        return binary
    say("building FerretDB from the Go module proxy (a minute or two the first time) ...")
    binary.parent.mkdir(parents=True, exist_ok=True)
    _run([find_program("go"), "build", "-o", str(binary), "."], "building FerretDB", cwd=source)
    marker.write_text(digest)
    return binary


def ensure_all(settings: Settings) -> None:
    find_program("java")
    ensure_mariadb()
    ensure_chromium()
    ensure_jars(settings, "kafka")
    ensure_jars(settings, "spark", only=SPARK_EXTRA_ARTIFACTS)
    ensure_ferretdb(settings)
