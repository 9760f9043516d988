# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv and
# install the project from its own files first; `make test` also starts Redis if it is down.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install services demo test lint format clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/newsflow demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The near-duplicate index tests talk to a real Redis: start one when none answers.
services:
	@if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then \
	  command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server; }; \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /tmp; \
	fi

test: lint services
	$(BIN)/python -m pytest

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
