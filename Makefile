# Kyodo: `make run` starts the main job, `make test` runs every check. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint typecheck pytest leakhunt bench guard-eval clean

# pytest-xdist workers (`auto`: one per CPU); PYTEST_WORKERS=0 runs in this process.
PYTEST_WORKERS ?= auto
# Groups (the web tests, the shared live servers) each stay on one worker: tests/conftest.py.
XDIST = -n $(PYTEST_WORKERS) --dist loadgroup

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kyodo demo

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	test -x /usr/bin/chromium || apt-get install -y chromium fonts-noto-cjk  # browser tests (Debian's chromium)
	$(BIN)/pytest $(XDIST)

# The fast lane, for every edit: unit tests and the service, API, CoT and web-endpoint tests on
# SQLite; no browser, no PostgreSQL, no slow (subprocess, fuzzing) test. `make test` runs all.
test-fast: $(STAMP)
	KYODO_TEST_BACKENDS=sqlite $(BIN)/pytest $(XDIST) -q -m "not slow and not browser and not postgres"

# The leak hunt, long (the default pytest run is bounded for CI); LEAKHUNT_EXAMPLES to change.
LEAKHUNT_EXAMPLES ?= 1000
leakhunt: $(STAMP)
	KYODO_LEAKHUNT_EXAMPLES=$(LEAKHUNT_EXAMPLES) KYODO_LEAKHUNT_STEPS=60 \
		$(BIN)/pytest tests/leakhunt -q --timeout 0

bench: $(STAMP)
	$(BIN)/python bench/policy.py

# The spillage guard on the evaluation corpus, each source kind left out in turn (recall, false
# positives per kind and language; docs/spillage-rules.md). GUARD_EVAL_ARGS, e.g.
# "--corpus DIR --kinds a,b --markdown out.md --misses 20".
GUARD_EVAL_ARGS ?=
guard-eval: $(STAMP)
	$(BIN)/python -m bench.guardbench.evalmain $(GUARD_EVAL_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
