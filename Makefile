# Two entry points on a fresh machine: `make run` and `make test`. Both build the environment
# themselves from the lock file (uv.lock), with uv installed into a private tools venv.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
MODEL ?= models/default
SAMPLE := src/ticket_triage/sample/tickets.csv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test env lint audit lambda-package bench bench-latency bench-quality bench-http \
	bench-lambda bench-logger bench-scale bench-spark bench-soak bench-connectors bench-env bench-compare bench-static-embeddings clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# The project itself is reinstalled on every sync so that a change to the C featuriser
# (src/ticket_triage/core/_featurize.c) is compiled again.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock src/ticket_triage/core/_featurize.c
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
	$(BIN)/lint-imports --no-cache

# The tests, then the soak in its short form (2 minutes of mixed traffic at 100 requests/s
# against `triage serve`: no errors, no record lost, memory flat); `bench-soak` runs longer.
test: lint $(MODEL)/manifest.json
	$(BIN)/python -m pytest
	$(BIN)/python benchmarks/soak.py --model $(MODEL) --duration 120

bench-soak: env $(MODEL)/manifest.json
	$(BIN)/python benchmarks/soak.py --model $(MODEL) --duration $(or $(SOAK_SECONDS),900) \
		--results $(RESULTS)

# The AWS Lambda zip (deploy/template.yaml points at it): locked manylinux wheels for the
# template's Python and ARCH (x86_64 or arm64: deploy with the template's Architecture parameter
# set the same), the C featuriser cross-compiled for it, the handler's modules and the model;
# fails beyond Lambda's size limits. RULES=routing.toml and CONNECTORS=connectors.toml ship
# those files too.
ARCH ?= x86_64
lambda-package: env $(MODEL)/manifest.json
	UV=$(UV) $(BIN)/python deploy/build_lambda.py --model $(MODEL) --out build/lambda.zip \
		--arch $(ARCH) \
		$(if $(RULES),--rules $(RULES)) $(if $(CONNECTORS),--connectors $(CONNECTORS))

# Known vulnerabilities in every locked dependency (pip-audit). It needs pypi.org's per-version
# JSON API or api.osv.dev, which the sandbox this project is built in cannot reach, so it is not
# part of `make test`; run it wherever those are reachable.
audit: env
	mkdir -p build
	$(UV) export --frozen --all-extras --all-groups --no-group bench --no-emit-project \
		--format requirements.txt \
		--quiet -o build/requirements-all.txt
	$(BIN)/pip-audit --disable-pip --requirement build/requirements-all.txt --strict

# Benchmarks: each target reruns one section of BENCHMARKS.md (its results go to
# benchmarks/results/, its plots to docs/benchmarks/); `make bench` runs them all and rebuilds
# BENCHMARKS.md (benchmarks/assemble.py). Nothing here is part of `make test`.
RESULTS := benchmarks/results
FIGURES := docs/benchmarks

bench: env bench-env $(MODEL)/manifest.json
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory bench-compare bench-static-embeddings bench-scale bench-spark bench-quality \
		bench-latency bench-http bench-lambda bench-logger bench-connectors && \
	$(MAKE) --no-print-directory bench-soak SOAK_SECONDS=120 && \
	$(BIN)/python benchmarks/assemble.py && \
	echo "make bench: $$(( $$(date +%s) - start )) s"

bench-latency: env $(MODEL)/manifest.json
	$(BIN)/python benchmarks/inference_latency.py --model $(MODEL) --n 1000 --results $(RESULTS)

bench-quality: env
	$(BIN)/python benchmarks/quality.py --results $(RESULTS)

bench-http: env $(MODEL)/manifest.json
	$(BIN)/python benchmarks/http_latency.py --model $(MODEL) --results $(RESULTS)

bench-lambda: env $(MODEL)/manifest.json
	$(BIN)/python benchmarks/lambda_latency.py --model $(MODEL) --runs 9 --requests 3000 \
		--results $(RESULTS)

bench-logger: env
	$(BIN)/python benchmarks/logger_cost.py --runs 9 --results $(RESULTS)

bench-connectors: env $(MODEL)/manifest.json
	$(BIN)/python benchmarks/connectors.py --model $(MODEL) --rate 50 --duration 60 \
		--results $(RESULTS)

bench-scale: env
	$(BIN)/python benchmarks/scale.py --plot $(FIGURES)/scale_training.png --results $(RESULTS)

# Spark scoring in local[1] and local[2] against `triage predict --workers 2`, Spark training.
bench-spark: env
	$(BIN)/python benchmarks/spark_scale.py --results $(RESULTS)

# The alternatives benchmarks/compare.py measures ticket-triage against (fastText; MiniLM on the
# CPU build of PyTorch) come from the lock's `bench` group, into their own venv: `make test`
# syncs .venv exactly and would remove them, and none of it belongs in the runtime or Lambda.
# Not editable: an editable build rewrites src/'s C extension in place, under any process of
# .venv (a test run, a server) that has it loaded.
bench-env: $(UV)
	UV_PROJECT_ENVIRONMENT=.venv-bench $(UV) sync --frozen --no-editable --all-extras --group bench \
		--python $(PYTHON) --reinstall-package ticket-triage

# Every system on every shared dataset, in one run; most of its time is the naive pipelines'
# L-BFGS fits on 2**20 features and MiniLM's embeddings.
bench-compare: bench-env
	.venv-bench/bin/python benchmarks/compare.py --plots $(FIGURES) --results $(RESULTS)

# Issue 13's static embedding table (WordLlama's, from the bench group) as a dense block beside
# the default ones; banking77 where benchmarks/get_banking77.py built it.
bench-static-embeddings: bench-env
	.venv-bench/bin/python benchmarks/static_embeddings.py --results $(RESULTS)

clean:
	rm -rf $(VENV) .venv-bench $(TOOLS) models build .pytest_cache .ruff_cache
