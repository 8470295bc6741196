# The two commands a newcomer needs:  make run  |  make test
# Each creates ./.venv when it is missing and installs what it needs into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test test-plain smoke lint typecheck clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.server: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[server,postgres]"
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.server

## run: serve on the embedded SQLite default (./convostore.db) at http://$(HOST):$(PORT), with demo data
run: $(VENV)/.server
	$(BIN)/convostore serve --host $(HOST) --port $(PORT) --demo

## test: ruff, import-linter, mypy and the whole pytest suite (PostgreSQL cases run when a server is reachable)
test: $(VENV)/.dev lint typecheck
	$(BIN)/python -m pytest

## test-plain: the whole pytest suite with the fast path off (FastAPI serves every request)
test-plain: $(VENV)/.dev
	CONVOSTORE_TEST_FAST_ROUTES=0 $(BIN)/python -m pytest

## smoke: a clean install of [server,postgres] in a temporary virtualenv, real servers driven over HTTP
smoke:
	PYTHON=$(PYTHON) scripts/smoke_install.sh

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/lint-imports

typecheck: $(VENV)/.dev
	$(BIN)/mypy
	$(BIN)/mypy bench
	$(BIN)/mypy scripts

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
