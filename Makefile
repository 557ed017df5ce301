# Messenger backend. `make dev` runs it locally, `make test` runs every test. `make help` lists all.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
ENV ?= dev

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

$(SAM_VENV)/.installed:
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --upgrade pip
	$(SAM_VENV)/bin/pip install -q 'aws-sam-cli==1.170.0'
	touch $@

.PHONY: help
help: ## List every target
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

.PHONY: install
install: $(VENV)/.installed ## Create .venv with the project (editable) and its dev tools

.PHONY: tools
tools: $(SAM_VENV)/.installed ## Install aws-sam-cli in its own venv (.tools/sam)

.PHONY: dev
dev: install ## Start every backing service and the local gateway (HTTP :3000), print URLs
	$(PY) -m messenger_local dev

.PHONY: test
test: install tools lint typecheck validate build ## Lint, types, template checks, sam build, all tests
	$(PY) -m pytest

.PHONY: test-unit
test-unit: install ## Unit tests only (no services)
	$(PY) -m pytest tests/unit

.PHONY: lint
lint: install ## ruff lint + format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: format
format: install ## ruff format + autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

.PHONY: typecheck
typecheck: install ## mypy on layers/ and functions/
	$(VENV)/bin/mypy

.PHONY: validate
validate: install tools ## sam validate --lint, cfn-lint, deps layer requirements == pyproject
	SAM_CLI_TELEMETRY=0 $(SAM) validate --lint --template template.yaml --region us-east-1
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) layers/deps/gen_requirements.py --check

.PHONY: build
build: tools ## sam build (arm64, python3.12 layers built by pip --platform; no Docker)
	$(PYTHON) layers/deps/gen_requirements.py --check
	SAM_CLI_TELEMETRY=0 $(SAM) build --template template.yaml

.PHONY: deploy
deploy: build ## sam deploy to ENV (dev|staging|prod) with samconfig.toml
	$(SAM) deploy --config-env $(ENV)

.PHONY: bench
bench: install ## Cold-start proxy per function and warm latency through the local gateway
	$(PY) -m tests.perf.bench

.PHONY: openapi
openapi: install ## Regenerate docs/openapi.json from the handlers' resolvers
	$(PY) -m messenger_local.openapi docs/openapi.json

.PHONY: clean
clean: ## Remove build output and local state
	rm -rf .aws-sam .local
