# Two commands matter: `make run` (the whole system with a demo shop on
# http://127.0.0.1:8000) and `make test` (the full suite on the real services).
# Both install what they need on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
POSCTL := $(BIN)/posctl
STAMP := $(VENV)/.installed

.PHONY: run test install lock up down status stream lint unit e2e faults bench bench-all bench-reports bench-rebuild replay superset

# The dependencies as locked (requirements/dev.lock: exact versions with their hashes, from
# PyPI), then the project itself without resolving anything anew.
$(STAMP): pyproject.toml requirements/dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# After a change to the dependencies in pyproject.toml: resolve the lock files again (the
# image installs requirements/app.lock, make requirements/dev.lock).
lock: $(STAMP)
	$(BIN)/pip install --quiet "uv>=0.9,<1"
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
		--no-header --annotation-style line -o requirements/app.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --no-header --annotation-style line -o requirements/dev.lock

install: $(STAMP)
	$(POSCTL) stack install

up: install
	$(POSCTL) stack up
	$(POSCTL) db upgrade

run: up
	$(POSCTL) seed demo
	$(POSCTL) stream --detach
	@echo "Counter: http://127.0.0.1:8000   (Ctrl-C stops the app; 'make down' stops the rest)"
	$(POSCTL) serve --host 127.0.0.1 --port 8000

# Unit and end-to-end tests, API fuzzing and the fault drills, on the real stack.
test: up lint
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest tests/unit

e2e: up
	$(BIN)/pytest tests/e2e

faults: up
	$(BIN)/pytest tests/faults

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

stream: up
	$(POSCTL) stream --detach

# Apache Superset on http://127.0.0.1:8088 with the "Sales" dashboard on the shop's MySQL
# (installed into .stack/superset the first time; `posctl superset down` stops it).
superset: up
	$(POSCTL) superset up
	$(POSCTL) superset provision

down:
	$(POSCTL) superset down
	$(POSCTL) stack down

status:
	$(POSCTL) stack status

bench: up
	cd bench && ../$(BIN)/python freshness.py

# Every benchmark of the speed issue in one table (docs/performance.md; --write updates it).
bench-all: up
	cd bench && ../$(BIN)/python all.py

bench-reports: up
	cd bench && ../$(BIN)/python reports.py

replay: up
	cd bench && ../$(BIN)/python replay.py

bench-rebuild: up
	cd bench && ../$(BIN)/python rebuild.py
