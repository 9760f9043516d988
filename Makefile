# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv and
# install the project from its own files first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint format clean

# KEDA and prometheus-operator schema validators for tests/test_deploy.py (node + npm).
CRD_VALIDATE := tests/crd-validate

$(STAMP): pyproject.toml $(CRD_VALIDATE)/package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,test]'
	npm ci --prefix $(CRD_VALIDATE) --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/newsflow demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(CRD_VALIDATE)/node_modules
