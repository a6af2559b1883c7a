# Two commands on a fresh machine (Python 3.11, make, git, root):
#   make quickstart   build a demo lake on the embedded defaults and query it
#   make test         install everything the tests need (incl. PostgreSQL, Ceph) and run them
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never

.PHONY: quickstart test lint typecheck setup setup-dev system-deps bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

setup: $(UV)
	$(UV) sync --frozen --no-dev --quiet

setup-dev: $(UV)
	$(UV) sync --frozen --quiet

system-deps:
	bash scripts/install-system-deps.sh
	bash scripts/install-kafka.sh

quickstart: setup
	$(VENV)/bin/lakebed quickstart --lake ./demo-lake

lint: setup-dev
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

test: setup-dev system-deps lint
	$(VENV)/bin/pytest

bench: setup-dev
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(VENV) $(TOOLS) demo-lake .pytest_cache .mypy_cache .ruff_cache
