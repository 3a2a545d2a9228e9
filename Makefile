# The two commands of the README: `make demo` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test proto check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Start the demonstration network and print a partner's answer.
demo: $(STAMP)
	$(BIN)/registry-demo

## Run the whole test suite (PostgreSQL tests use 127.0.0.1:5432, database test).
test: $(STAMP)
	$(BIN)/python -m pytest

## Regenerate registry/v1 from proto/registry/v1 (commit the result).
proto: $(STAMP)
	$(BIN)/python scripts/generate_proto.py

clean:
	rm -rf $(VENV) .demo .pytest_cache
