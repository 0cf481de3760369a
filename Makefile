# Kyodo: `make run` starts the main job, `make test` runs every check. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench clean

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
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/policy.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
