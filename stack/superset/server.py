"""Apache Superset beside the shop: its own virtual environment, SQLite metadata, an admin
with a random password, a gunicorn server on 127.0.0.1. All state under
`<state_dir>/superset/`; the process is one of the stack's (pid file, log, `.failed`).

Superset pins its own Flask, SQLAlchemy 1.4 and pandas, which clash with the app's, so it
never shares the project's `.venv`.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from pos_app.settings import Settings
from stack.processes import (
    ProcessFiles,
    StartError,
    log_tail,
    port_open,
    spawn,
    stop,
    wait_until,
)

SUPERSET_VERSION = "6.1.0"
CONSTRAINTS = Path(__file__).with_name("constraints.txt")
# rich and cachetools: Superset 6.1.0 imports them but no longer brings them (constraints.txt).
REQUIREMENTS = [f"apache-superset=={SUPERSET_VERSION}", "pymysql==1.1.*", "rich", "cachetools"]
ADMIN_USER = "admin"
START_TIMEOUT = 180.0


class SupersetError(RuntimeError):
    """Installing, initialising or starting Superset failed; the message says where to look."""


@dataclass(frozen=True)
class Paths:
    home: Path

    @classmethod
    def of(cls, settings: Settings) -> Paths:
        return cls(settings.state_dir / "superset")

    @property
    def venv(self) -> Path:
        return self.home / "venv"

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    @property
    def install_stamp(self) -> Path:
        return self.venv / ".pos-installed"

    @property
    def init_stamp(self) -> Path:
        return self.home / ".pos-initialized"

    @property
    def config(self) -> Path:
        return self.home / "superset_config.py"

    @property
    def metadata_db(self) -> Path:
        return self.home / "superset.db"

    @property
    def secret_key_file(self) -> Path:
        return self.home / "secret-key"

    @property
    def password_file(self) -> Path:
        return self.home / "admin-password"

    @property
    def setup_log(self) -> Path:
        return self.home / "setup.log"


def process_files(settings: Settings) -> ProcessFiles:
    return ProcessFiles(settings.state_dir, "superset")


def base_url(settings: Settings) -> str:
    return f"http://{settings.superset_host}:{settings.superset_port}"


def admin_password(settings: Settings) -> str:
    """The admin's password: from the settings, or made once at random and kept in a 0600 file."""
    if settings.superset_admin_password:
        return settings.superset_admin_password
    return _secret_file(Paths.of(settings).password_file, lambda: secrets.token_urlsafe(18))


def _secret_file(path: Path, make: Callable[[], str]) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    # Created 0600 from the start, so the secret is never readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value + "\n")
    return value


def _secret_key(settings: Settings) -> str:
    if settings.superset_secret_key:
        return settings.superset_secret_key
    return _secret_file(Paths.of(settings).secret_key_file, lambda: secrets.token_urlsafe(48))


def _env(settings: Settings) -> dict[str, str]:
    paths = Paths.of(settings)
    return {
        "SUPERSET_CONFIG_PATH": str(paths.config),
        "SUPERSET_HOME": str(paths.home),  # else Superset writes to ~/.superset
        "SUPERSET_SECRET_KEY": _secret_key(settings),
        "PYTHONUNBUFFERED": "1",
    }


CONFIG_TEMPLATE = '''\
"""Superset settings, written by `posctl superset up` (edits are overwritten)."""

# Superset's own records (users, charts, dashboards) in SQLite beside this file.
SQLALCHEMY_DATABASE_URI = "sqlite:///{metadata_db}"
# The secret key comes from SUPERSET_SECRET_KEY in the environment.
# No result cache: the dashboard refreshes itself and should show the live figures.
DATA_CACHE_CONFIG = {{"CACHE_TYPE": "NullCache"}}
WTF_CSRF_ENABLED = True

# Superset's MySQL engine spec reads column type codes from MySQLdb (the C driver, which needs
# a compiler and client headers); pure-Python PyMySQL has the same constants.
import pymysql  # noqa: E402

pymysql.install_as_MySQLdb()
SESSION_COOKIE_SAMESITE = "Lax"
'''


def _step(
    paths: Paths, what: str, argv: list[str], env: dict[str, str], *, answers: str | None = None
) -> None:
    """Run one set-up step, its output in setup.log; print what and how long. answers:
    what its prompts read (a password), on stdin rather than the command line, which any
    user of the machine can read; with no terminal of its own, so the prompt reads stdin."""
    print(f"superset: {what} …", flush=True)
    started = time.monotonic()
    paths.home.mkdir(parents=True, exist_ok=True)
    with open(paths.setup_log, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {what}\n".encode())
        log.flush()
        result = subprocess.run(
            argv,
            input=(answers or "").encode(),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            check=False,
            start_new_session=True,
        )
    if result.returncode != 0:
        raise SupersetError(
            f"superset: {what} failed (exit {result.returncode})\n  log: {paths.setup_log}\n"
            + "\n".join("  | " + line for line in log_tail(paths.setup_log, 20).splitlines())
        )
    print(f"superset: {what} done in {time.monotonic() - started:.0f} s", flush=True)


def _install_fingerprint() -> str:
    text = "\n".join(REQUIREMENTS) + "\n" + CONSTRAINTS.read_text()
    return hashlib.sha256(text.encode()).hexdigest()


def install(settings: Settings) -> None:
    """Superset in its own venv; skipped when the pinned set is already there."""
    paths = Paths.of(settings)
    fingerprint = _install_fingerprint()
    stamp = paths.install_stamp
    if (
        stamp.exists()
        and stamp.read_text().strip() == fingerprint
        and paths.bin("gunicorn").exists()
    ):
        print(f"superset: {SUPERSET_VERSION} already installed in {paths.venv}")
        return
    if not paths.bin("python").exists():
        _step(
            paths,
            "create its virtual environment",
            [sys.executable, "-m", "venv", str(paths.venv)],
            {},
        )
    pip = [str(paths.bin("python")), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    _step(
        paths,
        f"install apache-superset {SUPERSET_VERSION} (a few minutes the first time)",
        [*pip, "install", "-c", str(CONSTRAINTS), *REQUIREMENTS],
        {},
    )
    stamp.write_text(fingerprint + "\n")


def initialise(settings: Settings) -> None:
    """Migrate the metadata DB, make the admin and the roles; once per Superset version."""
    paths = Paths.of(settings)
    paths.home.mkdir(parents=True, exist_ok=True)
    paths.config.write_text(CONFIG_TEMPLATE.format(metadata_db=paths.metadata_db))
    if paths.init_stamp.exists() and paths.init_stamp.read_text().strip() == SUPERSET_VERSION:
        return
    env = _env(settings)
    superset = str(paths.bin("superset"))
    password = admin_password(settings)
    _step(paths, "upgrade its metadata database", [superset, "db", "upgrade"], env)
    admin = ["--username", ADMIN_USER, "--firstname", "Shop", "--lastname", "Admin"]
    _step(
        paths,
        "create the admin user",
        [
            superset,
            "fab",
            "create-admin",
            *admin,
            "--email",
            "admin@localhost",
        ],
        env,
        answers=f"{password}\n{password}\n",  # the prompt asks twice
    )
    # create-admin leaves an existing admin alone: make its password the one on file.
    _step(
        paths,
        "set the admin password",
        [superset, "fab", "reset-password", "--username", ADMIN_USER],
        env,
        answers=f"{password}\n{password}\n",
    )
    _step(paths, "create roles and permissions", [superset, "init"], env)
    paths.init_stamp.write_text(SUPERSET_VERSION + "\n")


def healthy(settings: Settings) -> bool:
    try:
        url = f"http://127.0.0.1:{settings.superset_port}/health"  # the one `up` runs
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def up(settings: Settings) -> list[str]:
    """Install, initialise and start Superset unless it is already running."""
    files = process_files(settings)
    pid = files.running_pid()
    if pid is not None and healthy(settings):
        return [f"superset: already running (pid {pid}) on {base_url(settings)}"]
    install(settings)
    initialise(settings)
    if pid is not None:  # alive but not answering: start afresh
        stop(files)
    if port_open(settings.superset_port):
        raise SupersetError(
            f"superset: 127.0.0.1:{settings.superset_port} is taken by another process; "
            "stop it or set POS_SUPERSET_PORT"
        )
    paths = Paths.of(settings)
    argv = [
        str(paths.bin("gunicorn")),
        "--bind",
        f"127.0.0.1:{settings.superset_port}",
        "--workers",
        "1",
        "--threads",
        "4",
        "--timeout",
        "120",
        "superset.app:create_app()",
    ]
    print(f"superset: starting on {base_url(settings)} …", flush=True)
    started = time.monotonic()
    pid = spawn(files, argv, env=_env(settings), cwd=paths.home)
    try:
        wait_until(
            files, pid, lambda: healthy(settings), timeout=START_TIMEOUT, what="superset /health"
        )
    except StartError as error:
        raise SupersetError(str(error)) from None
    return [
        f"superset: running (pid {pid}) on {base_url(settings)}, up in "
        f"{time.monotonic() - started:.0f} s  log: {files.log_file}",
        f"superset: sign in as {ADMIN_USER}; the password is in {paths.password_file}",
    ]


def down(settings: Settings) -> list[str]:
    stopped = stop(process_files(settings))
    return ["superset: stopped" if stopped else "superset: was not running"]


def status(settings: Settings) -> tuple[list[str], bool]:
    files = process_files(settings)
    pid = files.running_pid()
    if pid is None:
        return [f"superset: not running  log: {files.log_file}"], False
    ok = healthy(settings)
    state = "healthy" if ok else "not answering"
    return [f"superset: pid {pid}, {base_url(settings)} {state}  log: {files.log_file}"], ok
