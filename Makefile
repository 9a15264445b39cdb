# Two commands do everything on a fresh Debian/Ubuntu machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOME_DIR ?= svidok-data
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgres bench lint docs messages system-deps clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { echo "error: cannot create a virtualenv; install python3-venv (sudo apt-get install python3-venv)"; exit 1; }

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@touch $(STAMP)

system-deps:
	@scripts/system-deps.sh

run: $(STAMP) system-deps
	$(BIN)/svidok --home $(HOME_DIR) init
	$(BIN)/svidok --home $(HOME_DIR) demo
	@echo "open http://127.0.0.1:8000 and log in with the login above"
	$(BIN)/svidok --home $(HOME_DIR) serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	@scripts/system-deps.sh --with-postgres --with-browser
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

test-postgres: $(STAMP)
	scripts/with-postgres.sh $(BIN)/pytest -q -m "not sqlite_only" $(PYTEST_ARGS)

bench: $(STAMP)
	@scripts/system-deps.sh --with-wrk
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src/svidok/core

docs: $(STAMP)
	$(BIN)/python -m svidok.cli.reference > docs/cli.md

# Needs gettext (apt-get install gettext); the compiled .mo files are committed,
# so running Svidok does not.
messages: $(STAMP)
	cd src/svidok && SVIDOK_HOME=$$(mktemp -d) ../../$(BIN)/django-admin makemessages -l uk --ignore "core/*" --settings svidok.settings
	cd src/svidok && SVIDOK_HOME=$$(mktemp -d) ../../$(BIN)/django-admin compilemessages --settings svidok.settings

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
