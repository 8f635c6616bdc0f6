# One-command set-up: `make run` starts the dashboard, `make test` runs the whole suite.
# Both create .venv and install requirements on first use.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# Local MovieLens copy: RECSYS_DATA_DIR if set, else ../shared/data when present.
DATA_DIR := $(or $(RECSYS_DATA_DIR),$(wildcard $(abspath ../shared/data)))
export RECSYS_DATA_DIR := $(DATA_DIR)
PORT ?= 8501

.PHONY: setup data browser run test test-fast bench clean

setup: $(VENV)/.installed

# The project itself (editable, with the `recsys` command) and its runtime and test requirements.
$(VENV)/.installed: pyproject.toml requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

# Finds ml-latest-small locally (RECSYS_DATA_DIR) or downloads and verifies the official zip.
# A failure here is reported but does not stop the dashboard, which explains how to add data.
data: setup
	-$(PY) -m recsys data fetch ml-latest-small

# Debian's Chromium for the browser tests (Playwright drives the system browser).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

run: setup data
	$(PY) -m dashboard.serve --server.address localhost --server.port $(PORT)

# Both cores: each test file runs whole on one of two workers (a module's server and browser are
# started once); every server picks its own free port. Files go out in collection order, where
# tests/conftest.py puts the longest first, so the workers finish together.
PYTEST_PARALLEL ?= -n 2 --dist loadfile --no-loadscope-reorder

test: setup browser
	$(PY) -m pytest $(PYTEST_PARALLEL)

test-fast: setup
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not browser and not slow"

# Accuracy and speed next to Surprise and implicit (bench-only requirements).
bench: setup browser
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) bench/accuracy.py
	$(PY) bench/speed.py

clean:
	rm -rf $(VENV) .pytest_cache
