# Every target bootstraps .venv itself, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8090
SDK_PYTHON ?= $(shell command -v python3.13 2>/dev/null || ls /root/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null | head -n 1)
PYTEST_ARGS ?=

.PHONY: run test lint pytest test-sdk bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/reference-host db upgrade
	$(VENV)/bin/reference-host accounts ensure-superadmin \
		--endpoint http://127.0.0.1:$(PORT) --write-env .data/admin.env --print-example
	exec $(VENV)/bin/reference-host serve --port $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy --strict src

pytest: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test: lint pytest

test-sdk: $(STAMP)
	$(PY) tests/sdk/run_sdk_suite.py --sdk-python "$(SDK_PYTHON)"

bench: $(STAMP)
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-sdk .mypy_cache .ruff_cache .pytest_cache
