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

.PHONY: run test env lint audit lambda-package bench-latency bench-quality bench-http bench-lambda bench-soak clean

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
	$(BIN)/ruff check src tests benchmarks deploy
	$(BIN)/ruff format --check src tests benchmarks deploy

# The tests, then the soak in its short form (2 minutes of mixed traffic at 100 requests/s
# against `triage serve`: no errors, no record lost, memory flat); `bench-soak` runs longer.
test: lint $(MODEL)/manifest.json
	$(BIN)/python -m pytest
	$(BIN)/python benchmarks/soak.py --model $(MODEL) --duration 120

bench-soak: env $(MODEL)/manifest.json
	$(BIN)/python benchmarks/soak.py --model $(MODEL) --duration $(or $(SOAK_SECONDS),900)

# The AWS Lambda zip (deploy/template.yaml points at it): locked manylinux wheels for the
# template's Python, the handler's modules and the model; fails beyond Lambda's size limits.
lambda-package: env $(MODEL)/manifest.json
	UV=$(UV) $(BIN)/python deploy/build_lambda.py --model $(MODEL) --out build/lambda.zip

# Known vulnerabilities in every locked dependency (pip-audit). It needs pypi.org's per-version
# JSON API or api.osv.dev, which the sandbox this project is built in cannot reach, so it is not
# part of `make test`; run it wherever those are reachable.
audit: env
	mkdir -p build
	$(UV) export --frozen --all-extras --all-groups --no-emit-project --format requirements.txt \
		--quiet -o build/requirements-all.txt
	$(BIN)/pip-audit --disable-pip --requirement build/requirements-all.txt --strict

bench-latency: env $(MODEL)/manifest.json
	$(BIN)/python benchmarks/inference_latency.py --model $(MODEL)

bench-quality: env
	$(BIN)/python benchmarks/quality.py

bench-http: env $(MODEL)/manifest.json
	$(BIN)/python benchmarks/http_latency.py --model $(MODEL)

bench-lambda: env $(MODEL)/manifest.json
	$(BIN)/python benchmarks/lambda_latency.py --model $(MODEL)

clean:
	rm -rf $(VENV) $(TOOLS) models build .pytest_cache .ruff_cache
