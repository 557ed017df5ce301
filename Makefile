# Messenger backend. `make dev` runs it locally, `make test` runs every test. `make help` lists all.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
SAM_PY := $(SAM_VENV)/bin/python
ENV ?= dev
REGION ?= us-east-1
# `make deploy ENV=prod STRATEGY=AllAtOnce`: blue/green (every alias flips at once after the
# PreTraffic check). Empty: the environment's own (dev all at once, staging linear, prod canary).
STRATEGY ?=
# Platform stacks in dependency order (infra/<name>.yaml -> stack messenger-<env>-<name>).
PLATFORM_STACKS ?= network msk postgres documentdb cache
# Use MongoDB Atlas instead of DocumentDB: the ARN of a secret holding {"uri": "mongodb+srv://..."}.
ATLAS_SECRET_ARN ?=

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

# The reference web client (web/): npm packages from the committed lock, API types generated
# from docs/openapi.json, `tsc --noEmit`, then the Vite build into web/dist.
WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.ts web/tsconfig.json -type f -not -name schema.d.ts 2>/dev/null)

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

web/dist/index.html: web/node_modules/.package-lock.json docs/openapi.json $(WEB_SOURCES)
	cd web && npm run build

.PHONY: web
web: web/dist/index.html ## Build the reference web client (web/dist): types from docs/openapi.json, tsc, Vite

# Debian's Chromium for the browser tier (Playwright drives it; no browser is downloaded).
.PHONY: browser
browser: ## Install Debian's chromium for the browser tests when /usr/bin/chromium is missing
	@test -x /usr/bin/chromium || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

.PHONY: test-browser
test-browser: install web browser ## Browser tier only: the web client and the explorer in Chromium
	$(PY) -m pytest tests/browser

.PHONY: dev
dev: install web ## Start every backing service, the local gateway (HTTP :3000, WS :3001), the web client (:3002), print URLs
	$(PY) -m messenger_local dev

.PHONY: test
test: install tools lint typecheck validate build web browser ## Lint, types, template checks, sam build, web client, all tests (browser tier too)
	$(PY) -m pytest

.PHONY: test-unit
test-unit: install ## Unit tests only (no services)
	$(PY) -m pytest tests/unit

.PHONY: test-fault
test-fault: install ## Fault tier only: private services stopped/paused under requests (~2 min)
	$(PY) -m pytest tests/fault

.PHONY: lint
lint: install ## ruff lint + format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: format
format: install ## ruff format + autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

.PHONY: typecheck
typecheck: install ## mypy on layers/, functions/ and the deploy tooling (infra/*.py)
	$(VENV)/bin/mypy

# Generated from infra/app/base.yaml + infra/app/functions.yaml (infra/generate.py).
GENERATED_STACKS = $(wildcard infra/app/alarms-*.yaml) infra/app/dashboard.yaml infra/app/logs.yaml

.PHONY: validate
validate: install tools ## Generated files current, sam validate --lint, cfn-lint on every stack, no cycle
	$(PY) -m infra.generate --check
	$(PY) -m infra.botocore_endpoints --check
	SAM_CLI_TELEMETRY=0 $(SAM) validate --lint --template template.yaml --region us-east-1
	$(VENV)/bin/cfn-lint template.yaml infra/*.yaml $(GENERATED_STACKS)
	$(SAM_PY) -m infra.graph template.yaml
	$(PY) layers/deps/gen_requirements.py --check

.PHONY: template
template: install ## Write template.yaml, its alarms/dashboard stacks, events/index.json from infra/app/; botocore's trimmed endpoints
	$(PY) -m infra.generate
	$(PY) -m infra.botocore_endpoints

.PHONY: build
build: tools ## sam build (arm64, python3.12 layers built by pip --platform; no Docker)
	$(PYTHON) layers/deps/gen_requirements.py --check
	SAM_CLI_TELEMETRY=0 $(SAM) build --template template.yaml

.PHONY: platform
platform: tools ## Create/update ENV's platform stacks (network, MSK, Postgres, DocumentDB, cache)
	@set -e; for stack in $(PLATFORM_STACKS); do \
	  extra=""; \
	  if [ "$$stack" = documentdb ] && [ -n "$(ATLAS_SECRET_ARN)" ]; then extra="AtlasSecretArn=$(ATLAS_SECRET_ARN)"; fi; \
	  echo "== messenger-$(ENV)-$$stack (infra/$$stack.yaml)"; \
	  SAM_CLI_TELEMETRY=0 $(SAM) deploy --config-file $(CURDIR)/infra/samconfig.toml \
	    --template-file infra/$$stack.yaml --stack-name messenger-$(ENV)-$$stack --region $(REGION) \
	    --s3-prefix messenger-$(ENV)-platform \
	    --parameter-overrides Environment=$(ENV) $$extra \
	    --tags Application=messenger Environment=$(ENV); \
	done

.PHONY: deploy
deploy: build ## Deploy the application to ENV (dev|staging|prod); STRATEGY=AllAtOnce = blue/green
	overrides="$$($(SAM_PY) infra/ops.py params $(ENV) --strategy '$(STRATEGY)')" && \
	SAM_CLI_TELEMETRY=0 $(SAM) deploy --config-env $(ENV) --parameter-overrides "$$overrides"
	$(SAM_PY) infra/ops.py record-release $(ENV) "$$(git describe --always --dirty --abbrev=40)"

.PHONY: rollback
rollback: tools ## Stop ENV's in-flight deployment and roll it back (or say how to shift back)
	$(SAM_PY) infra/ops.py rollback $(ENV)

.PHONY: status
status: tools ## ENV's stack status, in-flight deployments, current and previous release
	$(SAM_PY) infra/ops.py status $(ENV)

.PHONY: bench
bench: install build ## Cold starts (proxy, and as deployed from sam build) and warm latency
	$(PY) -m tests.perf.bench

.PHONY: idle
idle: install ## Idle CPU of the local gateway + broker over 20 s, beside the 5% floor
	$(PY) -m tests.perf.idle

.PHONY: load
load: install ## Bounded load test (sends, history, chat lists, pushes) against a local stack
	$(PY) -m tests.perf.load

.PHONY: openapi
openapi: install ## Regenerate docs/openapi.json from the handlers' resolvers
	$(PY) -m messenger_local.openapi docs/openapi.json

.PHONY: clean
clean: ## Remove build output and local state
	rm -rf .aws-sam .local web/dist
