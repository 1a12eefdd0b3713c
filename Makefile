# `make run` serves on http://127.0.0.1:8080; `make test` runs the whole suite;
# `make cluster N=3` runs N processes behind nginx on http://127.0.0.1:8080.
# Both work from a fresh clone with nothing but Python 3.11+: PostgreSQL and Redis are embedded
# unless DATABASE_URL / REDIS_URL are set.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
N ?= 3

.PHONY: run cluster test lint migrate bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[embedded,test,bench]'
	touch $@

run: $(VENV)/.installed
	@$(BIN)/chatd serve

cluster: $(VENV)/.installed
	@$(BIN)/chatd cluster --workers $(N)

migrate: $(VENV)/.installed
	$(BIN)/chatd migrate

test: $(VENV)/.installed
	$(BIN)/ruff check chatd tests
	$(BIN)/ruff format --check chatd tests
	.ci/ensure-chromium || echo 'make test: no chromium, so the browser tests are skipped (see above)'
	.ci/ensure-nginx
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python -m chatd.bench --out .chatd/bench

# The README's screenshot, docs/screenshot.png: taken by a browser test of two people chatting.
.PHONY: screenshot
screenshot: $(VENV)/.installed
	.ci/ensure-chromium
	CHATD_SCREENSHOT=docs/screenshot.png $(BIN)/python -m pytest -q tests/browser/test_screenshot.py

lint: $(VENV)/.installed
	$(BIN)/ruff check chatd tests
	$(BIN)/ruff format --check chatd tests

clean:
	rm -rf $(VENV) .chatd .pytest_cache .ruff_cache
