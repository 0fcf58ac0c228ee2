# Two commands matter: `make demo` and `make test`. Both bootstrap a virtualenv and, on first use, the Kafka
# broker jars from Maven Central (Java 17+ and Maven 3.8+ needed; no Docker).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test install broker-jars clean docs

demo: $(STAMP)
	$(BIN)/ticket-enricher demo

test: $(STAMP) broker-jars
	$(BIN)/pytest

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

clean:
	rm -rf $(VENV) .ticket-enricher .pytest_cache
