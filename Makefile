# Every target bootstraps .venv itself, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8090
DATA_DIR := $(or $(REFERENCE_HOST_DATA_DIR),.data)
SDK_PYTHON ?=
PYTEST_ARGS ?=

.PHONY: run test lint pytest test-sdk sdk-venv bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/reference-host db upgrade
	$(VENV)/bin/reference-host accounts ensure-superadmin \
		--endpoint http://127.0.0.1:$(PORT) --write-env $(DATA_DIR)/admin.env --print-example
	exec $(VENV)/bin/reference-host serve --port $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy --strict src

pytest: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test: lint pytest

# The official SDK (backend.ai-client 26.9.6) in a Python 3.13 venv, against a live host.
test-sdk: $(STAMP)
	$(PY) tests/sdk/run_sdk_suite.py --sdk-python "$(SDK_PYTHON)"

sdk-venv: $(STAMP)
	$(PY) tests/sdk/run_sdk_suite.py --sdk-python "$(SDK_PYTHON)" --venv-only

bench: $(STAMP)
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-sdk .mypy_cache .ruff_cache .pytest_cache
