# Two commands on a fresh machine: `make run` serves the skill, `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 4
export MAMA_DATA_DIR ?= $(CURDIR)/data

.PHONY: install run dev serve-prod test lint typecheck pytest test-clocks bench bench-store bench-speech bench-nlu clean e2e-deps bench-dynamodb bench-lean bench-slow-clients

install: $(VENV)/.installed

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## Serve the skill at http://$(HOST):$(PORT)/alexa (signature checks on, TinyDB under ./data),
## with the production server (gunicorn, gevent workers, skill/web/gunicorn_conf.py).
run: install
	$(BIN)/mama-moments run --host $(HOST) --port $(PORT)

## Local development: no signature check (for simulators and virtual-alexa), web console on.
dev: install
	$(BIN)/mama-moments run --dev --host $(HOST) --port $(PORT)

## Production: gunicorn with WORKERS gevent worker processes sharing the TinyDB store.
serve-prod: install
	$(BIN)/gunicorn -c python:skill.web.gunicorn_conf --workers $(WORKERS) --bind $(HOST):$(PORT)

## Lint, type-check, run the whole test suite, then the in-process tests again under far-away clocks.
test: lint typecheck pytest test-clocks

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

# The pinned test clock (tests/clock.py) and, through time-machine, the wall clock moved together:
# today, three years ahead, a leap day, and just before the clocks change in London and New York
# (spring and autumn). Tests that talk to another process keep the real clock and are left out.
FIXED_CLOCKS := 2028-02-29T09:00:00Z 2027-03-28T00:30:00Z 2027-10-31T00:30:00Z \
	2027-03-14T06:30:00Z 2027-11-07T05:30:00Z
test-clocks: install
	@set -e; for when in "$$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		"$$(date -u -d '+3 years' +%Y-%m-%dT%H:%M:%SZ)" $(FIXED_CLOCKS); do \
		echo "== tests with the clock at $$when"; \
		MAMA_TEST_NOW=$$when $(BIN)/pytest -q -p no:cacheprovider -m "not slow and not real_clock"; \
	done

bench: bench-lean bench-store bench-speech bench-nlu bench-dynamodb bench-slow-clients

bench-store: install
	$(BIN)/python bench/bench_store.py

bench-speech: install
	$(BIN)/python bench/bench_speech.py

## Offline NLU on the held-out annotation sets: accuracy, wrong-intent rate, match time.
bench-nlu: install
	$(BIN)/python bench/bench_nlu.py

## The production server with 200 idle or slowly sending connections: p50/p99, time to a 408.
bench-slow-clients: install
	$(BIN)/python bench/bench_slow_clients.py

## Issue 13's table, one run beside the hello-world anchor: cold start, first request, worker
## RSS, write p50 per MAMA_DURABILITY, read p50, request CPU, signature cost.
bench-lean: install
	$(BIN)/python bench/bench_lean.py

## State-changing p50 on DynamoDB (dynalite, from tests/e2e's lock file) vs TinyDB through the
## app, and migrate-store of 10,000 users both ways.
bench-dynamodb: install e2e-deps
	$(BIN)/python bench/bench_dynamodb.py

## Node packages for the end-to-end tests (playwright-core, virtual-alexa) and the DynamoDB
## tests (dynalite) from the lock file.
e2e-deps:
	npm ci --prefix tests/e2e --no-audit --no-fund

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
