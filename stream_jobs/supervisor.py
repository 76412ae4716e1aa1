"""Keeps the stream job running: restarts it with back-off when it exits with an error.

A streaming query that fails (a bug in a batch, a lost py4j callback connection, a
broker that stayed away too long) ends the job's process. Its checkpoint makes a
restart safe, so the supervisor simply starts it again: 2 s, doubling to 30 s, reset
after a minute of good running. SIGTERM or Ctrl-C stop the job and the supervisor.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from types import FrameType

log = logging.getLogger("pos.stream.supervisor")


def supervise(argv: Sequence[str], env: Mapping[str, str]) -> int:
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    delay = 2.0
    try:
        while True:
            started = time.monotonic()
            child = subprocess.Popen(list(argv), env=dict(env))
            code = child.wait()
            if stopping or code == 0:
                return code
            if time.monotonic() - started > 60:
                delay = 2.0
            log.warning("stream job exited with %s; restarting in %.0f s", code, delay)
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
