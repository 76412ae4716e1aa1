"""The REST API fuzzed from its own OpenAPI schema (schemathesis) with every check: no 5xx,
no hang, every answer (errors too) as its schema, status codes and content types say, input
that breaks the schema refused, the bearer key required where the schema says so."""

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
from tests.stack_support import drop_shop, running_app, scratch_shop

pytestmark = pytest.mark.stack


CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_the_api_keeps_its_contract(settings: Settings, tmp_path: Path) -> None:
    # A shop and an app of their own: the fuzzer revokes keys, sets the tax, adds products
    # and moves stock, none of which the other tests' shop should see.
    shop = scratch_shop(settings, "fuzz")
    try:
        with running_app(shop, tmp_path) as app_url:
            key = create_api_key_sync(shop, name="fuzzer", scopes=sorted(ALL_SCOPES))
            result = _fuzz(app_url, key, tmp_path)
            schema = httpx.get(f"{app_url}/openapi.json").json()
    finally:
        drop_shop(shop)
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary + result.stderr[-2000:]
    generated = re.search(r"(\d+) generated", summary)
    assert generated is not None and int(generated.group(1)) >= 200, summary
    operations = sum(len(methods) for methods in schema["paths"].values())
    assert f"Tested: {operations}" in summary  # every operation of the schema was exercised


def _fuzz(app_url: str, key: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "st"),
            "--no-color",
            "--config-file",
            str(CONFIG),
            "run",
            f"{app_url}/openapi.json",
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            "all",
            "--max-examples",
            "60",
            "--request-timeout",
            "10",
            "--generation-deterministic",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=cwd,
    )
