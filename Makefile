# TaskPilot developer tasks. Needs only python3 (with the venv module) and make.
#   make run    start the API on $(PORT)      make test       run the test suite
#   make bench  run the benchmarks            make clean      remove caches
#                                             make distclean  also remove .venv

PYTHON ?= python3
PORT   ?= 8000
VENV   := .venv
BIN    := $(VENV)/bin

# Reinstall only when a requirements file is newer than its stamp.
REQ_STAMP := $(VENV)/.req-stamp
DEV_STAMP := $(VENV)/.dev-req-stamp

.DEFAULT_GOAL := help
.PHONY: help venv dev-venv run test bench clean distclean

help:
	@echo "targets: venv dev-venv run test bench clean distclean  (PORT=$(PORT) PYTHON=$(PYTHON))"

venv: $(REQ_STAMP)
dev-venv: $(DEV_STAMP)

# The venv's interpreter marks "venv exists": created only when missing. A failed
# creation (Debian without python3-venv) is removed so the next run starts clean.
$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2; \
	  exit 1; }

$(REQ_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -r requirements.txt
	touch $@

# requirements-dev.txt includes requirements.txt (-r), so it satisfies both stamps.
$(DEV_STAMP): requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -r requirements-dev.txt
	touch $(REQ_STAMP) $@

run: venv
	$(BIN)/uvicorn api:app --host 0.0.0.0 --port $(PORT)

test: dev-venv
	$(BIN)/python -m pytest -q

bench: dev-venv
	$(BIN)/python -m bench

clean:
	rm -rf .pytest_cache .hypothesis .coverage
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
