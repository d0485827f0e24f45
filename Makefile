# hoidap: `make run` (install, prepare models, ingest the demo corpus, serve) and `make test`.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOIDAP_HOME ?= .hoidap
export HOIDAP_HOME
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: lint install install-test test-system-deps run demo test test-reverse bench clean screenshots

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q -U pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .
	$(BIN)/hoidap models prepare
	@$(BIN)/python -m ingest.late_chunking || echo "note: no sentence vectors at ingest without a C compiler (apt-get install gcc)"

# torch 2.13.0 (CPU build, from the local wheel cache) keeps sentence-transformers off CUDA builds
install-test: install
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[test,st,cluster]"
	@$(MAKE) --no-print-directory test-system-deps

# the suite needs these; a missing one fails here (no test is skipped for want of a dependency)
TEST_APT := chromium tesseract-ocr tesseract-ocr-vie poppler-utils gcc postgresql
test-system-deps:
	@missing=$$(for p in $(TEST_APT); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing test dependencies: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null \
	    || { echo "ERROR: could not install $$missing (apt-get install -y $(TEST_APT))" >&2; exit 1; }; \
	fi
	@for b in /usr/bin/chromium tesseract pdftoppm cc; do command -v $$b >/dev/null || { echo "ERROR: $$b missing after install" >&2; exit 1; }; done
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "ERROR: PostgreSQL's initdb missing after install (apt-get install postgresql)" >&2; exit 1; }
	@tesseract --list-langs 2>/dev/null | grep -qx vie || { echo "ERROR: tesseract has no Vietnamese (tesseract-ocr-vie)" >&2; exit 1; }

# OCR of scans (the demo corpus has one) needs Tesseract with Vietnamese; without it the scan is reported and skipped
demo: install
	@command -v tesseract >/dev/null 2>&1 || { [ "$$(id -u)" -eq 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-vie >/dev/null; } || \
	  echo "note: Tesseract OCR is not installed (apt-get install tesseract-ocr tesseract-ocr-vie): scans are skipped"
	$(BIN)/hoidap ingest examples/corpus

run: demo
	@echo; echo "Questions to try (examples/demo-questions.txt):"; grep -v '^#' examples/demo-questions.txt | sed 's/^/  /'; echo
	$(BIN)/hoidap serve --host $(HOST) --port $(PORT)

lint:
	$(BIN)/ruff check .

# two workers (pytest-xdist): most tests wait on a subprocess, a server or the browser, so the 2 cores overlap
test: install-test lint
	HOIDAP_TEST_MODELS=$(HOIDAP_HOME)/models $(BIN)/python -m pytest -q -ra -n 2 --dist worksteal --durations=30

# the suite backwards (pytest-reverse): a test that needs another to run first fails here
test-reverse: install-test
	HOIDAP_TEST_MODELS=$(HOIDAP_HOME)/models $(BIN)/python -m pytest -q -ra --reverse

# the docs' screenshots (docs/screenshots/): the browser tests write them only when asked to
screenshots: install-test
	HOIDAP_SCREENSHOTS=docs/screenshots HOIDAP_TEST_MODELS=$(HOIDAP_HOME)/models $(BIN)/python -m pytest -q tests/test_ui_browser.py

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .hoidap
