from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from stream_jobs.supervisor import supervise

# Fails on its first run, succeeds on its second: counts its runs in a file.
FLAKY_JOB = """
import pathlib, sys
runs = pathlib.Path(sys.argv[1])
count = int(runs.read_text() or 0) + 1 if runs.exists() else 1
runs.write_text(str(count))
sys.exit(1 if count == 1 else 0)
"""


def test_a_failed_job_is_restarted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    runs = tmp_path / "runs"
    code = supervise([sys.executable, "-c", FLAKY_JOB, str(runs)], dict(os.environ))
    assert code == 0
    assert runs.read_text() == "2"
    assert "stream job exited with 1; restarting in 2 s" in caplog.text
