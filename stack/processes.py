"""Background processes of the local stack: start, find, stop, report.

Each process has a pid file in `run/`, a log in `logs/`, and, when it failed to
start, a `run/<name>.failed` file that says why. Nothing here knows about Kafka or
MariaDB; `services.py` describes those.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_DETACHED: list[subprocess.Popen[bytes]] = []


class StartError(RuntimeError):
    """A process did not come up; the message says why and where its log is."""


@dataclass(frozen=True)
class ProcessFiles:
    state_dir: Path
    name: str

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "run" / f"{self.name}.pid"

    @property
    def failed_file(self) -> Path:
        return self.state_dir / "run" / f"{self.name}.failed"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "logs" / f"{self.name}.log"

    def running_pid(self) -> int | None:
        """The pid from the pid file if that process is still alive."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours is not alive for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log yet)"


def spawn(
    files: ProcessFiles,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start argv detached from our terminal, output appended to the log; return its pid."""
    for folder in (files.pid_file.parent, files.log_file.parent):
        folder.mkdir(parents=True, exist_ok=True)
    files.failed_file.unlink(missing_ok=True)
    with open(files.log_file, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} start: {' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,  # survives the terminal; we stop it by pid
        )
    files.pid_file.write_text(str(proc.pid))
    _DETACHED.append(proc)  # it outlives this call on purpose; keep Popen from warning
    return proc.pid


def wait_until(
    files: ProcessFiles,
    pid: int,
    ready: Callable[[], bool],
    *,
    timeout: float,
    what: str,
) -> None:
    """Wait for ready(); fail early if the process dies. Records the reason on failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if not pid_alive(pid):
            fail(files, f"{what}: the process exited during start-up")
        time.sleep(0.3)
    fail(files, f"{what}: not ready after {timeout:.0f} s")


def fail(files: ProcessFiles, reason: str) -> None:
    files.failed_file.parent.mkdir(parents=True, exist_ok=True)
    files.failed_file.write_text(reason)
    raise StartError(
        f"{files.name} failed: {reason}\n  log: {files.log_file}\n"
        + "\n".join("  | " + line for line in log_tail(files.log_file).splitlines())
    )


def stop(files: ProcessFiles, *, timeout: float = 30.0, sig: int = signal.SIGTERM) -> bool:
    """Stop the process (and its process group); True if one was running."""
    pid = files.running_pid()
    if pid is None:
        files.pid_file.unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.2)
    if pid_alive(pid):
        os.killpg(pid, signal.SIGKILL)
        while pid_alive(pid):
            time.sleep(0.1)
    files.pid_file.unlink(missing_ok=True)
    return True
