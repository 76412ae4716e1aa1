"""The REST API fuzzed from its own OpenAPI schema (schemathesis): whatever a client
sends, the answer is never a 5xx and never hangs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pos_app.auth.cli import create_api_key_sync
from pos_app.auth.roles import ALL_SCOPES
from pos_app.settings import Settings

pytestmark = pytest.mark.stack


def test_no_input_makes_the_api_fail(settings: Settings, app_url: str, tmp_path: Path) -> None:
    key = create_api_key_sync(settings, name="fuzzer", scopes=sorted(ALL_SCOPES))
    st = Path(sys.executable).parent / "st"
    result = subprocess.run(
        [
            str(st),
            "--no-color",
            "run",
            f"{app_url}/openapi.json",
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "60",
            "--request-timeout",
            "10",
            "--generation-deterministic",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary + result.stderr[-2000:]
    generated = re.search(r"(\d+) generated", summary)
    assert generated is not None and int(generated.group(1)) >= 200, summary
    schema = httpx.get(f"{app_url}/openapi.json").json()
    operations = sum(len(methods) for methods in schema["paths"].values())
    assert f"Tested: {operations}" in summary  # every operation of the schema was exercised
