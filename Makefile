# BankPulse — the two set-up commands: `make run` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
ADDRESS ?= 127.0.0.1
PIP := $(BIN)/pip install -q --disable-pip-version-check -c constraints.txt

.PHONY: run test install install-test demo lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Pinned installs: constraints.txt holds the exact versions the suite was run with.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) -e '.[test]'
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# How the app is served (make run, and the browser tests: tests/helpers_browser.py). server.py wraps
# app.py in st.App with the sign-in cookie's routes (docs/security.md). The served app does not
# watch its files: no rerun on save, no inotify watches (development: `streamlit run app.py`).
SERVE_FLAGS := --server.fileWatcherType none --server.runOnSave false

## make run: create .venv, install, load the demo data when the store is empty, start the app
run: install
	$(BIN)/bankpulse demo --load --if-empty && $(BIN)/bankpulse user ensure-admin
	$(BIN)/streamlit run server.py --server.port $(PORT) --server.address $(ADDRESS) $(SERVE_FLAGS)

## make test: install the test dependencies and run the whole suite
test: install-test
	$(BIN)/python -m pytest -q -n 2 --durations=25

demo: install
	$(BIN)/bankpulse demo --load

lint: install-test
	$(BIN)/ruff check .

bench: install-test
	$(PIP) -e '.[test,bench]'
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/anomaly_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache
