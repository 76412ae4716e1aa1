"""FerretDB starts with Go's soft memory limit from the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pos_app.settings import Settings
from stack import services
from stack.processes import ProcessFiles


def test_ferretdb_is_started_with_the_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: dict[str, Any] = {}

    def spawn(_files: ProcessFiles, argv: list[str], **kwargs: Any) -> int:
        started.update(argv=argv, env=kwargs.get("env"))
        return 1

    monkeypatch.setattr(services, "spawn", spawn)
    monkeypatch.setattr(services, "wait_until", lambda *args, **kwargs: None)
    settings = Settings(state_dir=tmp_path, ferretdb_memory_limit="256MiB")
    services._start_ferretdb(settings, ProcessFiles(tmp_path, "ferretdb"))
    assert started["env"] == {"GOMEMLIMIT": "256MiB"}


@pytest.mark.parametrize("limit", ["2GB", "lots", ""])
def test_a_memory_limit_go_would_not_read_is_refused(limit: str) -> None:
    with pytest.raises(ValidationError):
        Settings(ferretdb_memory_limit=limit)
