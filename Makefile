# `make run` serves on http://127.0.0.1:8080; `make test` runs the whole suite.
# Both work from a fresh clone with nothing but Python 3.11+: PostgreSQL and Redis are embedded
# unless DATABASE_URL / REDIS_URL are set.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[embedded,test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/chatd serve

migrate: $(VENV)/.installed
	$(BIN)/chatd migrate

test: $(VENV)/.installed
	$(BIN)/ruff check chatd tests
	$(BIN)/ruff format --check chatd tests
	.ci/ensure-chromium
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check chatd tests
	$(BIN)/ruff format --check chatd tests

clean:
	rm -rf $(VENV) .chatd .pytest_cache .ruff_cache
