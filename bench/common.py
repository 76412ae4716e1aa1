"""What the benchmarks share: a scratch shop on the running stack, its stream job, the
memory of every process, and a line that says which machine the figures come from."""

from __future__ import annotations

import os
import platform
import sys
import threading
import time
import uuid
from pathlib import Path

from pos_app.settings import REPO_ROOT, Settings
from stack.processes import ProcessFiles, spawn, stop
from stack.scratch import fresh_shop
from stack.services import SERVICES

BENCH_DB = "pos_bench"


def bench_settings(**changes: object) -> Settings:
    """A fresh `pos_bench` shop (MySQL and MongoDB) with its own topics and checkpoint."""
    run_id = uuid.uuid4().hex[:8]
    settings = Settings().model_copy(
        update={
            "mysql_database": BENCH_DB,
            "mongo_database": BENCH_DB,
            "kafka_topic_prefix": f"bench-{run_id}",
            "stream_checkpoint_dir": str(Settings().state_dir / "bench" / run_id),
            **changes,
        }
    )
    fresh_shop(settings)
    return settings


def start_stream(settings: Settings) -> ProcessFiles:
    files = ProcessFiles(settings.state_dir, "bench-stream")
    stop(files)
    files.log_file.unlink(missing_ok=True)
    spawn(
        files, [sys.executable, "-m", "pos_app.cli", "stream"], env=settings.as_env(), cwd=REPO_ROOT
    )
    deadline = time.monotonic() + 180
    while "stream job running" not in _read(files.log_file):
        if files.running_pid() is None or time.monotonic() > deadline:
            raise SystemExit(f"the stream job did not start; see {files.log_file}")
        time.sleep(0.5)
    return files


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (the JVM under pyspark)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pending.extend(int(child) for child in children)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


class MemorySampler:
    """Samples the RSS of the stack's services and the given processes twice a second."""

    def __init__(self, settings: Settings, extra: dict[str, ProcessFiles]) -> None:
        pids = {s.name: s.files(settings).running_pid() for s in SERVICES}
        pids.update({name: files.running_pid() for name, files in extra.items()})
        missing = [name for name, pid in pids.items() if pid is None]
        if missing:
            raise SystemExit(f"not running: {', '.join(missing)} (run `posctl stack up`)")
        self.pids = {name: pid for name, pid in pids.items() if pid is not None}
        self.at_rest = self.sample()
        self.peak = dict(self.at_rest)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> dict[str, int]:
        return {name: rss_kib(pid) for name, pid in self.pids.items()}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, kib in self.sample().items():
                self.peak[name] = max(self.peak[name], kib)
            time.sleep(0.5)

    def report(self) -> str:
        rows = ["resident memory (MiB)      at rest   peak under load"]
        for name in self.at_rest:
            rows.append(
                f"  {name:26} {self.at_rest[name] / 1024:7.0f}   {self.peak[name] / 1024:7.0f}"
            )
        rows.append(
            f"  {'total':26} {sum(self.at_rest.values()) / 1024:7.0f}   "
            f"{sum(self.peak.values()) / 1024:7.0f}"
        )
        return "\n".join(rows)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_total = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    return f"{os.cpu_count()} cores ({cpu}), {mem_total:.1f} GiB RAM, {platform.system()}"
