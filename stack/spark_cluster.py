"""A Spark standalone cluster on this machine: a master and workers started from pyspark's
own jars (no separate Spark download), for running the stream job as a chain would,
with `posctl stream --master spark://127.0.0.1:<port>`. State and logs in the state folder."""

from __future__ import annotations

import time
from pathlib import Path

import pyspark

from pos_app.settings import Settings
from stack import install
from stack.processes import ProcessFiles, fail, log_tail, port_open, spawn, stop, wait_until

SPARK_HOME = Path(pyspark.__file__).resolve().parent
MASTER = "spark-master"


def _launcher(main_class: str) -> list[str]:
    # The daemons need little memory; the executors the workers start get --memory.
    return [install.find_program("java"), "-Xmx256m", "-cp", f"{SPARK_HOME}/jars/*", main_class]


def _env(settings: Settings) -> dict[str, str]:
    # Workers start executors from SPARK_HOME's jars, bound to loopback. pyspark is not a
    # Spark release (no RELEASE file): without SPARK_SCALA_VERSION the executor launcher
    # looks for a source build and fails with "Cannot find any build directories".
    return {
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_SCALA_VERSION": "2.13",
    }


def worker_names(settings: Settings) -> list[str]:
    run = settings.state_dir / "run"
    return sorted(p.stem for p in run.glob("spark-worker-*.pid")) if run.is_dir() else []


def up(settings: Settings, *, workers: int = 2, port: int = 7177, memory: str = "1g") -> str:
    """Start a master on 127.0.0.1:port and `workers` workers of one core each; return the
    master URL once every worker has registered."""
    url = f"spark://127.0.0.1:{port}"
    master = ProcessFiles(settings.state_dir, MASTER)
    if master.running_pid() is not None:
        fail(master, "a Spark master is already running; `posctl spark down` first")
    if port_open(port):
        fail(master, f"port 127.0.0.1:{port} is taken")
    log_start = master.log_file.stat().st_size if master.log_file.exists() else 0
    pid = spawn(
        master,
        [
            *_launcher("org.apache.spark.deploy.master.Master"),
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", "0"),
        ],
        env=_env(settings),
    )
    wait_until(master, pid, lambda: port_open(port), timeout=90, what="Spark master")
    for number in range(1, workers + 1):
        work_dir = settings.state_dir / "spark" / f"worker-{number}"
        work_dir.mkdir(parents=True, exist_ok=True)
        spawn(
            ProcessFiles(settings.state_dir, f"spark-worker-{number}"),
            [
                *_launcher("org.apache.spark.deploy.worker.Worker"),
                url,
                *("--host", "127.0.0.1", "--cores", "1", "--memory", memory),
                *("--webui-port", "0", "--work-dir", str(work_dir)),
            ],
            env=_env(settings),
        )

    def registered() -> int:
        text = master.log_file.read_text(errors="replace")[log_start:]
        return text.count("Registering worker")

    deadline = time.monotonic() + 120
    while registered() < workers:
        if time.monotonic() > deadline:
            fail(master, f"{registered()} of {workers} Spark workers registered in 120 s")
        for name in worker_names(settings):
            files = ProcessFiles(settings.state_dir, name)
            if files.running_pid() is None:
                fail(files, f"{name} exited:\n{log_tail(files.log_file)}")
        time.sleep(0.5)
    return url


def down(settings: Settings) -> list[str]:
    done = []
    for name in [*worker_names(settings), MASTER]:
        if stop(ProcessFiles(settings.state_dir, name), timeout=20):
            done.append(f"{name}: stopped")
    return done
