"""The local stack: MariaDB, a Kafka broker (KRaft) and FerretDB, all on loopback.

`up` starts what is not running and leaves the rest alone; `down` stops everything,
keeping the data; `status` reports each process. All state lives in one folder
(`Settings.state_dir`).
"""

from __future__ import annotations

import getpass
import itertools
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
    """Create the app's databases, its user and the report user (idempotent; the
    passwords follow the settings). The app user may pass its rights on (GRANT OPTION):
    `posctl db upgrade` grants the report user SELECT on the analytics tables only
    (pos_app/db/report_grants.py), never on a whole database."""
    users = [
        (settings.mysql_user, settings.mysql_password),
        (settings.mysql_report_user, settings.mysql_report_password),
    ]
    # The shop's database and the test and benchmark ones beside it (pos_test, ...).
    databases = (f"`{settings.mysql_database}`", f"`{settings.mysql_database}\\_%`")
    statements = [f"CREATE DATABASE IF NOT EXISTS `{settings.mysql_database}`"]
    for (user, password), host in itertools.product(users, ("127.0.0.1", "localhost")):
        password = password.replace("'", "''")
        statements += [
            f"CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY '{password}'",
            f"ALTER USER '{user}'@'{host}' IDENTIFIED BY '{password}'",
        ]
        if user == settings.mysql_user:
            statements += [
                f"GRANT ALL ON {db}.* TO '{user}'@'{host}' WITH GRANT OPTION" for db in databases
            ]
    _run_sql(files, sock, statements, what="MariaDB bootstrap")
    # Installs from before the per-table grants gave the report user whole databases.
    revokes = [
        f"REVOKE SELECT ON {db}.* FROM '{settings.mysql_report_user}'@'{host}'"
        for db, host in itertools.product(databases, ("127.0.0.1", "localhost"))
    ]
    _run_sql(files, sock, revokes, what="revoking the report user's old grants", absent_ok=True)


NO_SUCH_GRANT = "ERROR 1141"  # REVOKE of a grant that is not there


def _run_sql(
    files: ProcessFiles, sock: Path, statements: list[str], *, what: str, absent_ok: bool = False
) -> None:
    command = [install.find_program("mariadb"), f"--socket={sock}", "-u", getpass.getuser()]
    result = subprocess.run(
        command + (["--force"] if absent_ok else []),
        input=";\n".join(statements) + ";\n",
        text=True,
        capture_output=True,
    )
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    if absent_ok:
        errors = [line for line in errors if not line.startswith(NO_SUCH_GRANT)]
    if errors or (result.returncode != 0 and not absent_ok):
        fail(files, f"{what} failed: {result.stderr.strip()}")


# --- Kafka -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KafkaNode:
    """One KRaft node (broker and controller) of the local Kafka."""

    node_id: int
    port: int
    controller_port: int
    process: str  # its ProcessFiles name: "kafka" for node 1, "kafka-N" for the others


def kafka_nodes(settings: Settings) -> list[KafkaNode]:
    """The nodes `stack up` runs: the bootstrap servers' ports when they list one per
    broker, else every second port from the first (controllers one above each)."""
    count = settings.kafka_brokers
    listed = [int(a.rsplit(":", 1)[1]) for a in settings.kafka_bootstrap_servers.split(",")]
    ports = listed if len(listed) == count else [listed[0] + 2 * i for i in range(count)]
    return [
        KafkaNode(i + 1, port, port + 1, "kafka" if i == 0 else f"kafka-{i + 1}")
        for i, port in enumerate(ports)
    ]


def _kafka_dirs(settings: Settings, node: KafkaNode) -> tuple[Path, Path]:
    """(log dir, config file). A single node keeps its old place; a cluster's nodes their own."""
    if settings.kafka_brokers == 1:
        return (
            settings.state_dir / "data" / "kafka",
            settings.state_dir / "run" / "kafka-server.properties",
        )
    return (
        settings.state_dir / "data" / "kafka-cluster" / f"node-{node.node_id}",
        settings.state_dir / "run" / f"kafka-{node.node_id}.properties",
    )


def _kafka_jvm(settings: Settings) -> list[str]:
    return [
        install.find_program("java"),
        "-Xms256m",
        "-Xmx512m",
        f"-Dlog4j2.configurationFile={STACK_DIR / 'kafka' / 'log4j2.properties'}",
        "-cp",
        f"{install.jar_dir(settings, 'kafka')}/*",
    ]


def _spawn_kafka_node(settings: Settings, node: KafkaNode) -> int:
    """Write the node's config, format its storage the first time, start it; return its pid."""
    nodes = kafka_nodes(settings)
    log_dir, config = _kafka_dirs(settings, node)
    config.parent.mkdir(parents=True, exist_ok=True)
    if len(nodes) == 1:
        quorum = f"controller.quorum.bootstrap.servers=127.0.0.1:{node.controller_port}"
    else:  # a static quorum: every node knows every controller
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in nodes)
        quorum = f"controller.quorum.voters={voters}"
    template = (STACK_DIR / "kafka" / "server.properties.in").read_text()
    values = {
        "node_id": node.node_id,
        "quorum": quorum,
        "log_dir": log_dir,
        "port": node.port,
        "controller_port": node.controller_port,
        "replication_factor": settings.kafka_replication_factor,
        "min_isr": settings.kafka_min_insync_replicas,
    }
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    config.write_text(template)
    jvm = _kafka_jvm(settings)
    if not (log_dir / "meta.properties").exists():
        # All nodes of a cluster are formatted with the same cluster id, kept beside them.
        id_file = log_dir.parent / "cluster-id" if len(nodes) > 1 else None
        if id_file is not None and id_file.exists():
            cluster_id = id_file.read_text().strip()
        else:
            cluster_id = uuid.uuid4().hex[:22]
            if id_file is not None:
                id_file.parent.mkdir(parents=True, exist_ok=True)
                id_file.write_text(cluster_id)
        standalone = ["--standalone"] if len(nodes) == 1 else []
        fmt = ["format", *standalone, "-t", cluster_id, "-c", str(config), "-g"]
        subprocess.run(
            [*jvm, "kafka.tools.StorageTool", *fmt],
            check=True,
            capture_output=True,
        )
    return spawn(ProcessFiles(settings.state_dir, node.process), [*jvm, "kafka.Kafka", str(config)])


def start_kafka_node(settings: Settings, node: KafkaNode) -> None:
    """(Re)start one node and wait for its broker port, e.g. after it was killed."""
    pid = _spawn_kafka_node(settings, node)
    files = ProcessFiles(settings.state_dir, node.process)
    wait_until(
        files, pid, lambda: port_open(node.port), timeout=90, what=f"Kafka node {node.node_id}"
    )


def start_kafka(settings: Settings) -> None:
    """Start every node that is not running and wait for all of their broker ports."""
    # A cluster's brokers open their port only once a majority of controllers answer,
    # so every node is started before waiting for any.
    started = []
    for node in kafka_nodes(settings):
        node_files = ProcessFiles(settings.state_dir, node.process)
        if node_files.running_pid() is None:
            started.append((node, _spawn_kafka_node(settings, node)))
    for node, pid in started:
        wait_until(
            ProcessFiles(settings.state_dir, node.process),
            pid,
            lambda port=node.port: port_open(port),  # type: ignore[misc]
            timeout=120,
            what=f"Kafka node {node.node_id}",
        )


def _start_kafka(settings: Settings, files: ProcessFiles) -> None:
    start_kafka(settings)


def _extra_kafka_files(settings: Settings) -> list[ProcessFiles]:
    """The other nodes of a cluster started earlier (whatever kafka_brokers says now)."""
    run = settings.state_dir / "run"
    names = sorted(p.stem for p in run.glob("kafka-*.pid")) if run.is_dir() else []
    return [ProcessFiles(settings.state_dir, name) for name in names]


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
        env={"GOMEMLIMIT": settings.ferretdb_memory_limit},
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
    # The databases' files, logs and the demo passwords live here: this OS user's only.
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    settings.state_dir.chmod(0o700)
    done = []
    for svc in SERVICES if not names else [service(n) for n in names]:
        files, port = svc.files(settings), svc.port_of(settings)
        pid = files.running_pid()
        if pid is not None and port_open(port):
            done.append(f"{svc.name}: already running (pid {pid}, 127.0.0.1:{port})")
            if svc.name == "mariadb":  # its users and rights follow this code and the settings
                _bootstrap_mariadb(settings, files, _mariadb_dirs(settings)[1])
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
        if svc.name == "kafka":
            for files in _extra_kafka_files(settings):
                if stop(files):
                    done.append(f"{files.name}: stopped")
        done.append(f"{svc.name}: {'stopped' if stop(svc.files(settings)) else 'was not running'}")
    return done


def status(settings: Settings) -> tuple[list[str], bool]:
    """One line per process, and whether every service of the stack is up."""
    lines, healthy = [], True
    ports = [(s.name, s.port_of(settings)) for s in SERVICES] + [(n, 0) for n in APP_PROCESSES]
    node_ports = {node.process: node.port for node in kafka_nodes(settings)}
    extra = [(f.name, node_ports.get(f.name, 0)) for f in _extra_kafka_files(settings)]
    ports[2:2] = extra  # after kafka (node 1)
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
    if name == "kafka":
        for files in _extra_kafka_files(settings):
            stop(files)
    return stop(service(name).files(settings))
