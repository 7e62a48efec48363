# Everything a fresh Debian/Ubuntu machine (Python 3.11+, Node 18+) needs is installed by these targets.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do if $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then echo $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: help install build sam-local test lint typecheck static unit integration workflow demo demo-failure bench clean

help:
	@echo "make demo   - rehearse a deployment locally (emulated AWS, real PostgreSQL, real migrations)"
	@echo "make test   - the whole test suite (lint, types, template and ASL checks, unit, integration, workflow)"
	@echo "make bench  - benchmarks (figures printed, nothing asserted)"
	@echo "make build  - the Lambda code for sam deploy (.aws-sam/build), with any local Python (docs/build.md)"
	@echo "make sam-local - sam local invoke of every function in a container, against emulated AWS (docs/sam-local.md)"

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11+ is required (python3 --version)"; exit 2; }
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  echo "installing python3-venv (needs apt)"; apt-get update -qq && apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

node_modules/.installed: package.json
	@command -v npm >/dev/null || { echo "installing Node.js and npm (needs apt)"; apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

install: $(BIN)/.installed node_modules/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy functions/ src/

# checkov pins packages the main venv also needs at other versions: it gets a venv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
CHECKOV := $(CHECKOV_VENV)/bin/checkov --framework cloudformation --skip-download --quiet --compact

$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/pip install -q checkov==$(CHECKOV_VERSION)
	@touch $@

# The template and the ASL, without running anything: their tests (cfn-lint, sam validate, asl-validator,
# conventions), then checkov on the template as written and as deployed (SAM's transform makes the IAM
# roles); a failed check fails the build, a skip needs an inline reason in template.yaml's Metadata.
static: install $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
	$(BIN)/python -m pytest -q tests/static
	$(CHECKOV) -f template.yaml
	@out=$$(mktemp -d) && $(BIN)/python tests/hardening/sam_translation.py $$out/template.json \
	  && $(CHECKOV) -f $$out/template.json; status=$$?; rm -rf $$out; exit $$status

unit integration workflow: install
	$(BIN)/python tests/check_postgres.py
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup tests/$@

# The Lambda code as `sam deploy` uploads it: lambda-build/Makefile through `sam build` (samconfig.toml: cached,
# parallel). It runs this venv's pip, never the Lambda's Python: no python3.12 needed (docs/build.md).
build: install
	PIP="$(abspath $(BIN))/pip" $(BIN)/sam build

# Every function of template.yaml through `sam local invoke`, in a Lambda-like container, against a moto server
# and the local PostgreSQL (docs/sam-local.md). Installs docker.io / starts dockerd when missing (needs root);
# stops what it started. tests/sam_local/ holds the harness; the timings are printed at the end.
sam-local: install
	$(BIN)/python tests/check_postgres.py
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/sam_local

# Everything: lint, types, the static checks and sam-local first, then every other test on two workers.
test: lint typecheck static sam-local
	$(BIN)/python tests/check_postgres.py
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup tests --ignore=tests/static --ignore=tests/sam_local

demo: install
	$(BIN)/ecs-migrate-deploy rehearse --migrations examples/shop

demo-failure: install
	$(BIN)/ecs-migrate-deploy rehearse --migrations examples/broken; test $$? -eq 1
	$(BIN)/ecs-migrate-deploy rehearse --migrations examples/shop --scenario rollout-fails; test $$? -eq 1

bench: install
	@# benchmarks/_*.py are their shared helpers, not benchmarks
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .venv-checkov node_modules .aws-sam .mypy_cache .ruff_cache .pytest_cache
