# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv and
# install the project from its own files first; `make test` also starts Redis if it is down
# and installs Java 17 and Maven when missing (the integration tests run on Apache Kafka).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install services kafka demo test lint format clean

# KEDA and prometheus-operator schema validators for tests/test_deploy.py (node + npm).
CRD_VALIDATE := tests/crd-validate

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,test]'
	touch $(STAMP)

NODE_STAMP := $(CRD_VALIDATE)/node_modules/.installed-stamp
$(NODE_STAMP): $(CRD_VALIDATE)/package-lock.json
	npm ci --prefix $(CRD_VALIDATE) --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

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

# The integration tests' broker: Apache Kafka from Maven Central's jars (workers/local/kafka.py,
# versions pinned in workers/local/kafka-pom.xml). NEWSFLOW_TEST_BROKER=tansu runs them on the
# embedded broker instead, which needs neither.
NEWSFLOW_TEST_BROKER ?= kafka
export NEWSFLOW_TEST_BROKER
kafka:
	@if [ "$(NEWSFLOW_TEST_BROKER)" = kafka ]; then \
	  missing=""; \
	  command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	  command -v mvn >/dev/null || missing="$$missing maven"; \
	  if [ -n "$$missing" ]; then \
	    echo "installing$$missing (the Kafka test broker runs on Java 17, its jars come through Maven)"; \
	    { apt-get update -qq && apt-get install -y -qq $$missing; } || \
	    { echo "error: could not install$$missing; install them, or run NEWSFLOW_TEST_BROKER=tansu make test"; exit 1; }; \
	  fi; \
	fi

test: lint services kafka $(NODE_STAMP)
	$(BIN)/python -m pytest

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(CRD_VALIDATE)/node_modules .kafka-jars
