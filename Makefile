# Kirimin: `make run` serves on the embedded default, `make test` runs the whole suite.
# Both create .venv on first use and reinstall only when pyproject.toml changes.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
SERVER ?= daphne
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[test]"
	@touch $@ $(VENV)/.installed-run

$(VENV)/.installed-bench: pyproject.toml bench/package-lock.json | $(BIN)/python
	$(PIP) install -e ".[test,bench]"
	cd bench && npm ci --no-audit --no-fund --silent
	@touch $@

run: $(VENV)/.installed-run
	$(BIN)/python manage.py migrate --noinput -v 0
ifeq ($(SERVER),uvicorn)
	$(PIP) install "uvicorn[standard]==0.54.0"
	$(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --ws websockets-sansio --no-access-log
else
	$(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application
endif

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The WebSocket benchmark (needs node and the local PostgreSQL and Redis); see docs/performance.md.
bench: $(VENV)/.installed-bench
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/run.py $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-shm db.sqlite3-wal staticfiles
