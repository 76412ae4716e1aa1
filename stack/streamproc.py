"""Start the stream job in the background, as one of the stack's processes."""

from __future__ import annotations

import sys

from pos_app.settings import Settings
from stack.processes import ProcessFiles, spawn


def start_detached(settings: Settings) -> str:
    files = ProcessFiles(settings.state_dir, "stream")
    pid = files.running_pid()
    if pid is not None:
        return f"stream: already running (pid {pid})  log: {files.log_file}"
    argv = [sys.executable, "-m", "pos_app.cli", "stream", "--master", settings.spark_master]
    pid = spawn(files, argv)
    return f"stream: started (pid {pid}, master {settings.spark_master})  log: {files.log_file}"
