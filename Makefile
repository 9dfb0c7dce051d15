# TaskPilot developer tasks. Needs only python3 (with the venv module) and make.
#   make run    start the API on $(HOST):$(PORT)   make test       lint, then run the test suite (installs Chromium if missing)
#               (HOST=0.0.0.0 to expose it)
#   make bench  run the benchmarks            make clean      remove caches
#                                             make distclean  also remove .venv

PYTHON ?= python3
PORT   ?= 8000
HOST   ?= 127.0.0.1
# Connection bounds, the same in the Dockerfile, render.yaml and bench/live.py (SERVE_FLAGS; docs/configuration.md):
# request heads and bodies bounded in time and size (web/connections.py), at most 100 connections and requests at once, idle
# keep-alive connections closed after 5 s, and 8 s for requests in progress after SIGTERM.
SERVE  := --http web.connections:BoundedHttpToolsProtocol --limit-concurrency 100 --timeout-keep-alive 5 --timeout-graceful-shutdown 8
VENV   := .venv
BIN    := $(VENV)/bin

# Reinstall only when a requirements file is newer than its stamp.
REQ_STAMP := $(VENV)/.req-stamp
DEV_STAMP := $(VENV)/.dev-req-stamp

.DEFAULT_GOAL := help
.PHONY: help venv dev-venv chromium run lint test bench clean distclean

help:
	@echo "targets: venv dev-venv run lint test bench clean distclean  (HOST=$(HOST) PORT=$(PORT) PYTHON=$(PYTHON))"

venv: $(REQ_STAMP)
dev-venv: $(DEV_STAMP)

# The venv's interpreter marks "venv exists": created only when missing. A failed
# creation (Debian without python3-venv) is removed so the next run starts clean.
$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2; \
	  exit 1; }

# The project itself is installed editable (pyproject.toml) for the `taskpilot` command; its
# dependencies come from the pinned requirements file, so pip resolves nothing else.
$(REQ_STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $@

# requirements-dev.txt includes requirements.txt (-r), so it satisfies both stamps.
$(DEV_STAMP): requirements-dev.txt requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -r requirements-dev.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $(REQ_STAMP) $@

# The browser tests drive Debian's Chromium (never Playwright's download). Install it when it is missing
# and apt-get is there (with sudo when not root); otherwise warn, and tests/browser skip with a reason
# (REQUIRE_BROWSER=1, as .ci/run sets, makes them fail instead).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	    { $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver; } \
	      || echo "warning: could not install chromium; tests/browser will be skipped" >&2; \
	  else \
	    echo "warning: no apt-get; install Chromium at /usr/bin/chromium or tests/browser will be skipped" >&2; \
	  fi; \
	fi

run: venv
	$(BIN)/uvicorn api:app --host $(HOST) --port $(PORT) $(SERVE)

# The linter and the formatter's check are part of the tests (pyproject.toml [tool.ruff]).
lint: dev-venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint chromium
	$(BIN)/python -m pytest -q

bench: dev-venv
	$(BIN)/python -m bench

clean:
	rm -rf .pytest_cache .hypothesis .coverage
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
