# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv and
# install the project from its own files first; `make test` also starts Redis if it is down
# and installs Java 17 and Maven when missing (the integration tests run on Apache Kafka).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install lock services kafka demo test lint format clean

# KEDA, prometheus-operator and Grafana dashboard schema validators for
# tests/deploy/test_compose_and_kubernetes.py and tests/deploy/test_grafana_dashboard.py (node +
# npm).
CRD_VALIDATE := tests/deploy/crd-validate

# Every dependency (and the build backend) comes from requirements.lock, each pinned with its
# hashes; the project itself is then installed without resolving anything (`make lock` after
# changing pyproject.toml's dependencies).
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/newsflow build-data  # the gazetteer's file, once: no worker or test builds it
	touch $(STAMP)

UV := uv==0.13.9
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	--no-header --quiet
lock: install
	$(BIN)/python -m pip install --quiet $(UV)
	$(BIN)/uv pip compile pyproject.toml build-requirements.in --extra local --extra test --extra russian \
	  $(LOCK_FLAGS) -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml build-requirements.in \
	  -c requirements.lock $(LOCK_FLAGS) -o requirements-runtime.lock

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

# The near-duplicate index tests talk to a real Redis: start one when none answers. The
# alert-rule and dashboard-query tests run promtool and a Prometheus (Debian's package, 2.42).
services:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null || \
	  { apt-get update -qq && apt-get install -y -qq prometheus; }
	@if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then \
	  command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server; }; \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /tmp; \
	fi

# The integration tests' broker: Apache Kafka from Maven Central's jars (tests/support/kafka.py,
# versions pinned in tests/support/kafka-pom.xml). NEWSFLOW_TEST_BROKER=tansu runs them on the
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
