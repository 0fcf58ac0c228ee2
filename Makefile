# Two commands matter: `make demo` and `make test`. Both bootstrap a virtualenv and, on first use, the Kafka
# broker jars from Maven Central (Java 17+ and Maven 3.8+ needed; no Docker).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test install broker-jars clean

demo: $(STAMP)
	$(BIN)/ticket-enricher demo

test: $(STAMP) broker-jars
	$(BIN)/pytest

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
