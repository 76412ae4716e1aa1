from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from pos_app.settings import REPO_ROOT, Settings


def test_local_mode_runs_with_local_defaults() -> None:
    assert Settings(environment="local").mysql_url("pymysql").startswith("mysql+pymysql://pos:")


def test_production_refuses_default_secrets() -> None:
    with pytest.raises(
        ValidationError, match=r"POS_SECRET_KEY.*POS_MYSQL_PASSWORD.*POS_MYSQL_REPORT_PASSWORD"
    ):
        Settings(environment="production")


def test_production_starts_with_real_secrets() -> None:
    settings = Settings(
        environment="production",
        secret_key="s" * 40,
        mysql_password="pw%@x",
        mysql_report_password="report-pw",
    )
    assert "pw%25%40x@" in settings.mysql_url()  # the password is URL-quoted


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POS_KAFKA_TOPIC_PREFIX", "shop2")
    assert Settings().sales_topic == "shop2.sales.v1"


def test_as_env_round_trips() -> None:
    original = Settings(kafka_topic_prefix="t-1", stream_max_offsets_per_trigger=7)
    assert (
        Settings.model_validate(
            {k.removeprefix("POS_").lower(): v for k, v in original.as_env().items()}
        )
        == original
    )


def test_stream_fetch_wait_is_read_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POS_STREAM_FETCH_WAIT_MS", "500")
    assert Settings().stream_fetch_wait_ms == 500
    monkeypatch.setenv("POS_STREAM_FETCH_WAIT_MS", "-1")
    with pytest.raises(ValidationError, match="stream_fetch_wait_ms"):
        Settings()


def test_env_example_lists_every_setting() -> None:
    text = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    listed = re.findall(r"^(?:# )?POS_([A-Z0-9_]+)=", text, re.M)
    assert len(listed) == len(set(listed)), "a setting is listed twice"
    assert {f.upper() for f in Settings.model_fields} == set(listed)
    for line in text.splitlines():  # each active line is read as the setting it names
        if line.startswith("POS_") and not line.endswith("="):
            name, value = line.split("=", 1)
            assert Settings.model_validate({name.removeprefix("POS_").lower(): value})
