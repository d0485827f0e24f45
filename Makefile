# hoidap: `make run` (install, prepare models, ingest the demo corpus, serve) and `make test`.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOIDAP_HOME ?= .hoidap
export HOIDAP_HOME
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: install install-test run demo test bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q -U pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .
	$(BIN)/hoidap models prepare

# torch 2.13.0 (CPU build, from the local wheel cache) keeps sentence-transformers off CUDA builds
install-test: install
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[test,st]"
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo "WARNING: chromium could not be installed: browser tests will be skipped"

demo: install
	$(BIN)/hoidap ingest examples/corpus

run: demo
	$(BIN)/hoidap serve --host $(HOST) --port $(PORT)

test: install-test
	HOIDAP_TEST_MODELS=$(HOIDAP_HOME)/models $(BIN)/python -m pytest -q -ra

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .hoidap
