# Kirimin: `make run` serves on the embedded default, `make test` runs the whole suite.
# Both create .venv on first use and reinstall only when pyproject.toml changes.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
SERVER ?= daphne
# pytest-xdist workers for `make test-fast`: one per CPU core (0: no workers, all in this process).
TEST_WORKERS ?= auto
# The browser the end-to-end tests (tests/e2e) drive: Debian's chromium, never a downloaded one.
CHROMIUM ?= /usr/bin/chromium
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test test-fast lint bench clean chromium

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
	$(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --ws websockets-sansio --ws-per-message-deflate false --http config.http:HeadDeadline --no-proxy-headers --no-access-log
else
	$(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application
endif

test: $(VENV)/.installed-test chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fast loop: everything but the tests that start server processes or a browser (the
# `processes` marker), spread over TEST_WORKERS processes (pytest-xdist; each has its own test
# database, and its own Redis database on the production stack). `make test` stays in one
# process: its real-process tests run in an order of their own (tests/reliability/test_idle.py),
# write docs/reliability.md from the whole run, and their servers share one pub/sub prefix.
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m "not processes" -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Installs Debian's chromium once when it is missing and we can (root with apt-get); otherwise
# the browser tests skip, saying why (CI sets KIRIMIN_E2E_REQUIRED=1 so that they fail instead).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: installing Debian's chromium for the browser tests (tests/e2e)"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	      || echo "make: could not install chromium: the browser tests will not run" >&2; \
	  else \
	    echo "make: no $(CHROMIUM), so the browser tests skip (as root make installs it; or apt-get install chromium)" >&2; \
	  fi; \
	fi

# The WebSocket benchmark (needs node and the local PostgreSQL and Redis); see docs/performance.md.
bench: $(VENV)/.installed-bench
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/run.py $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-shm db.sqlite3-wal staticfiles
