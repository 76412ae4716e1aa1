"""The local stack: MariaDB, a Kafka broker (KRaft) and FerretDB, all on loopback.

`up` starts what is not running and leaves the rest alone; `down` stops everything,
keeping the data; `status` reports each process. All state lives in one folder
(`Settings.state_dir`).
"""

from __future__ import annotations

import getpass
import os
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pos_app.settings import REPO_ROOT, Settings
from stack import install
from stack.processes import ProcessFiles, fail, port_open, spawn, stop, wait_until

STACK_DIR = REPO_ROOT / "stack"


@dataclass(frozen=True)
class Service:
    name: str
    port_of: Callable[[Settings], int]
    start: Callable[[Settings, ProcessFiles], None]

    def files(self, settings: Settings) -> ProcessFiles:
        return ProcessFiles(settings.state_dir, self.name)


# Ports follow the settings, so a second checkout can run its own stack beside this one.
def kafka_port(settings: Settings) -> int:
    return int(settings.kafka_bootstrap_servers.split(",")[0].rsplit(":", 1)[1])


def mongo_port(settings: Settings) -> int:
    return urlsplit(settings.mongo_url).port or 27017


# --- MariaDB ---------------------------------------------------------------------------


def _mariadb_dirs(settings: Settings) -> tuple[Path, Path]:
    data = settings.state_dir / "data" / "mariadb"
    return data, settings.state_dir / "run" / "mariadb.sock"


def _start_mariadb(settings: Settings, files: ProcessFiles) -> None:
    data, sock = _mariadb_dirs(settings)
    mariadbd = install.find_program("mariadbd")
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    if not (data / "mysql").is_dir():
        data.mkdir(parents=True, exist_ok=True)
        # Socket authentication: only this OS user, over the socket, is a superuser.
        subprocess.run(
            [
                install.find_program("mariadb-install-db"),
                "--no-defaults",
                f"--datadir={data}",
                "--auth-root-authentication-method=socket",
                f"--auth-root-socket-user={getpass.getuser()}",
                "--skip-test-db",
                *as_root,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    sock.parent.mkdir(parents=True, exist_ok=True)
    pid = spawn(
        files,
        [
            mariadbd,
            "--no-defaults",
            f"--datadir={data}",
            f"--socket={sock}",
            f"--port={settings.mysql_port}",
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            f"--pid-file={settings.state_dir / 'run' / 'mariadbd.pid'}",
            "--innodb-buffer-pool-size=256M",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--max-connections=200",
            *as_root,
        ],
    )
    wait_until(files, pid, lambda: port_open(settings.mysql_port), timeout=60, what="MariaDB")
    _bootstrap_mariadb(settings, files, sock)


def _bootstrap_mariadb(settings: Settings, files: ProcessFiles, sock: Path) -> None:
    """Create the app's databases and user (idempotent; the password follows the settings)."""
    user, password = settings.mysql_user, settings.mysql_password.replace("'", "''")
    statements = [f"CREATE DATABASE IF NOT EXISTS `{settings.mysql_database}`"]
    for host in ("127.0.0.1", "localhost"):
        statements += [
            f"CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY '{password}'",
            f"ALTER USER '{user}'@'{host}' IDENTIFIED BY '{password}'",
            f"GRANT ALL ON `{settings.mysql_database}`.* TO '{user}'@'{host}'",
            # Test and benchmark databases (pos_test, pos_bench, ...) beside the shop's own.
            f"GRANT ALL ON `{settings.mysql_database}\\_%`.* TO '{user}'@'{host}'",
        ]
    result = subprocess.run(
        [install.find_program("mariadb"), f"--socket={sock}", "-u", getpass.getuser()],
        input=";\n".join(statements) + ";\n",
        text=True,
        capture_output=True,
    )
    if result.returncode != 0:
        fail(files, f"MariaDB bootstrap failed: {result.stderr.strip()}")


# --- Kafka -----------------------------------------------------------------------------


def _start_kafka(settings: Settings, files: ProcessFiles) -> None:
    java = install.find_program("java")
    log_dir = settings.state_dir / "data" / "kafka"
    config = settings.state_dir / "run" / "kafka-server.properties"
    config.parent.mkdir(parents=True, exist_ok=True)
    template = (STACK_DIR / "kafka" / "server.properties.in").read_text()
    port = kafka_port(settings)
    config.write_text(
        template.replace("{log_dir}", str(log_dir))
        .replace("{port}", str(port))
        .replace("{controller_port}", str(port + 1))
    )
    classpath = f"{install.jar_dir(settings, 'kafka')}/*"
    jvm = [
        java,
        "-Xms256m",
        "-Xmx512m",
        f"-Dlog4j2.configurationFile={STACK_DIR / 'kafka' / 'log4j2.properties'}",
        "-cp",
        classpath,
    ]
    if not (log_dir / "meta.properties").exists():
        cluster_id = uuid.uuid4().hex[:22]
        subprocess.run(
            [
                *jvm,
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "-t",
                cluster_id,
                "-c",
                str(config),
                "-g",
            ],
            check=True,
            capture_output=True,
        )
    pid = spawn(files, [*jvm, "kafka.Kafka", str(config)])
    wait_until(files, pid, lambda: port_open(port), timeout=90, what="Kafka")


# --- FerretDB --------------------------------------------------------------------------


def _start_ferretdb(settings: Settings, files: ProcessFiles) -> None:
    data = settings.state_dir / "data" / "ferretdb"
    data.mkdir(parents=True, exist_ok=True)
    pid = spawn(
        files,
        [
            str(install.ferretdb_binary(settings)),
            f"-listen-addr=127.0.0.1:{mongo_port(settings)}",
            f"-sqlite-url=file:{data}/",
        ],
    )
    wait_until(files, pid, lambda: port_open(mongo_port(settings)), timeout=30, what="FerretDB")


SERVICES = (
    Service("mariadb", lambda s: s.mysql_port, _start_mariadb),
    Service("kafka", kafka_port, _start_kafka),
    Service("ferretdb", mongo_port, _start_ferretdb),
)
# Processes the CLI starts on top of the stack; `down` stops them first.
# (The app itself runs in the foreground: `make run`, `posctl serve`.)
APP_PROCESSES = ("stream",)


def service(name: str) -> Service:
    for svc in SERVICES:
        if svc.name == name:
            return svc
    raise KeyError(f"no service named {name!r}; known: {', '.join(s.name for s in SERVICES)}")


def up(settings: Settings, names: list[str] | None = None) -> list[str]:
    """Start the services that are not running; return what was done, one line each."""
    install.ensure_all(settings)
    done = []
    for svc in SERVICES if not names else [service(n) for n in names]:
        files, port = svc.files(settings), svc.port_of(settings)
        pid = files.running_pid()
        if pid is not None and port_open(port):
            done.append(f"{svc.name}: already running (pid {pid}, 127.0.0.1:{port})")
            continue
        if pid is None and port_open(port):
            fail(files, f"port 127.0.0.1:{port} is taken by a process this stack did not start")
        if pid is not None:  # alive but not answering: restart it
            stop(files)
        svc.start(settings, files)
        done.append(f"{svc.name}: started (pid {files.running_pid()}, 127.0.0.1:{port})")
    return done


def down(settings: Settings) -> list[str]:
    done = []
    for name in APP_PROCESSES:
        if stop(ProcessFiles(settings.state_dir, name)):
            done.append(f"{name}: stopped")
    for svc in reversed(SERVICES):
        done.append(f"{svc.name}: {'stopped' if stop(svc.files(settings)) else 'was not running'}")
    return done


def status(settings: Settings) -> tuple[list[str], bool]:
    """One line per process, and whether every service of the stack is up."""
    lines, healthy = [], True
    ports = [(s.name, s.port_of(settings)) for s in SERVICES] + [(n, 0) for n in APP_PROCESSES]
    for name, port in ports:
        files = ProcessFiles(settings.state_dir, name)
        pid = files.running_pid()
        if pid is not None:
            where = f", 127.0.0.1:{port}" if port else ""
            answering = "" if not port or port_open(port) else ", NOT answering on its port"
            healthy &= not answering
            lines.append(f"{name:9} running (pid {pid}{where}{answering})  log: {files.log_file}")
        elif files.failed_file.exists():
            healthy &= not port
            lines.append(f"{name:9} FAILED: {files.failed_file.read_text()}  log: {files.log_file}")
        else:
            healthy &= not port
            lines.append(f"{name:9} stopped")
    return lines, healthy


def stop_service(settings: Settings, name: str) -> bool:
    return stop(service(name).files(settings))
