"""The lock files (requirements/*.lock, `make lock`) pin what pyproject.toml asks for: every
dependency at a version its range allows, each with its hashes; the image's lock has the
runtime's only."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pos_app.settings import REPO_ROOT


def _pins(lock: str) -> dict[str, str]:
    text = (REPO_ROOT / "requirements" / lock).read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    pins = {}
    for entry in entries:
        found = re.match(r"([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", entry)
        assert found, f"{lock}: not a pin: {entry[:80]!r}"
        assert "--hash=sha256:" in entry, f"{lock}: {found.group(1)} has no hash"
        pins[canonicalize_name(found.group(1))] = found.group(2)
    return pins


def _requirements(group: str | None) -> list[Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    listed = project["optional-dependencies"][group] if group else project["dependencies"]
    return [Requirement(line) for line in listed]


def test_the_locks_pin_every_dependency_within_its_range() -> None:
    for lock, groups in (("app.lock", [None]), ("dev.lock", [None, "dev"])):
        pins = _pins(lock)
        for group in groups:
            for requirement in _requirements(group):
                name = canonicalize_name(requirement.name)
                assert name in pins, f"{lock} lacks {name}: run `make lock`"
                assert requirement.specifier.contains(pins[name], prereleases=True), (
                    f"{lock}: {name}=={pins[name]} is outside {requirement.specifier}"
                )


def test_the_image_lock_has_no_dev_tools() -> None:
    runtime = _pins("app.lock")
    for requirement in _requirements("dev"):
        assert canonicalize_name(requirement.name) not in runtime
