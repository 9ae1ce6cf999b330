# Two commands on a fresh machine: `make run` serves the skill, `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 4
export MAMA_DATA_DIR ?= $(CURDIR)/data

.PHONY: install run dev serve-prod test lint typecheck pytest bench bench-store bench-speech clean e2e-deps

install: $(VENV)/.installed

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## Serve the skill at http://$(HOST):$(PORT)/alexa (signature checks on, TinyDB under ./data).
run: install
	$(BIN)/mama-moments run --host $(HOST) --port $(PORT)

## Local development: no signature check (for simulators and virtual-alexa), web console on.
dev: install
	$(BIN)/mama-moments run --dev --host $(HOST) --port $(PORT)

## Production: gunicorn with several worker processes sharing the TinyDB store.
serve-prod: install
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - \
		'skill.app:create_app()'

## Lint, type-check and run the whole test suite.
test: lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

bench: bench-store bench-speech

bench-store: install
	$(BIN)/python bench/bench_store.py

bench-speech: install
	$(BIN)/python bench/bench_speech.py

## Node packages for the end-to-end tests (playwright-core, virtual-alexa) from the lock file.
e2e-deps:
	npm ci --prefix tests/e2e --no-audit --no-fund

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
