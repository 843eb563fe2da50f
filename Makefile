# Two entry points on a fresh machine: `make run` and `make test`. Both build the environment
# themselves from the lock file (uv.lock), with uv installed into a private tools venv.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
MODEL ?= models/default
SAMPLE := src/ticket_triage/data/sample_tickets.csv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test env lint bench-latency bench-quality clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# The project itself is reinstalled on every sync so that a change to the C featuriser
# (src/ticket_triage/_featurize.c) is compiled again.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock src/ticket_triage/_featurize.c
	$(UV) sync --frozen --all-extras --python $(PYTHON) --reinstall-package ticket-triage
	touch $@

env: $(VENV)/.synced

$(MODEL)/manifest.json: | env
	$(BIN)/triage train $(SAMPLE) --out $(MODEL)

run: env $(MODEL)/manifest.json
	$(BIN)/triage serve --model $(MODEL)

lint: env
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: lint
	$(BIN)/python -m pytest

bench-latency: env $(MODEL)/manifest.json
	$(BIN)/python benchmarks/inference_latency.py --model $(MODEL)

bench-quality: env
	$(BIN)/python benchmarks/quality.py

clean:
	rm -rf $(VENV) $(TOOLS) models .pytest_cache .ruff_cache
