# The order saga, three ways. `make demo` runs everything; `make test` tests everything.
# LOCALSTACK=embedded (default: LocalStack's Python runtime on this host, no Docker)
# LOCALSTACK=docker   (docker compose, for machines with a Docker engine)
# TARGET=local (default: LocalStack) or TARGET=aws (a real account: `make synth TARGET=aws`; deploy
# and destroy then use your own AWS credentials, and CDK asks before changing IAM or removing; docs/aws.md)
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
LOCALSTACK ?= embedded
TARGET ?= local
STYLE ?=
SCENARIO ?=
PY := .venv/bin/python
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install bundle synth up down status deploy deploy-orchestration deploy-choreography deploy-hybrid \
        destroy trigger compare chaos stuck dlq faults bench demo lint test test-unit test-executor test-e2e test-aws lock

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

install: ## set up everything: venvs, Node tools, embedded LocalStack (idempotent)
	@bash tools/dev/install.sh

bundle: install ## build the Lambda code asset (build/lambda)
	@$(PY) -m tools.dev.bundle

synth: bundle ## synthesize the stacks into cdk.out (offline; TARGET=local|aws)
	@node_modules/.bin/cdk synth --quiet --no-notices -c target=$(TARGET) && echo "synthesized ($(TARGET)): cdk.out"

up: install ## start LocalStack in the background (LOCALSTACK=embedded|docker)
ifeq ($(LOCALSTACK),docker)
	@docker compose up -d --wait && echo "LocalStack (docker) ready on 127.0.0.1:4566"
else
	@$(PY) -m tools.dev.localstack up
endif

down: ## stop LocalStack
ifeq ($(LOCALSTACK),docker)
	@docker compose down
else
	@$(PY) -m tools.dev.localstack down
endif

status: ## is LocalStack running?
	@$(PY) -m tools.dev.localstack status

deploy-orchestration: install ## deploy the Step Functions style (bundles the Lambda code first)
	@$(PY) -m tools.dev.deploy deploy --target $(TARGET) orchestration

deploy-choreography: install ## deploy the EventBridge style
	@$(PY) -m tools.dev.deploy deploy --target $(TARGET) choreography

deploy-hybrid: install ## deploy the hybrid: the Step Functions saga, its outcome on EventBridge
	@$(PY) -m tools.dev.deploy deploy --target $(TARGET) hybrid

deploy: install ## deploy every style
	@$(PY) -m tools.dev.deploy deploy --target $(TARGET) orchestration choreography hybrid

destroy: ## remove every stack
	@$(PY) -m tools.dev.deploy destroy --target $(TARGET) orchestration choreography hybrid

trigger: ## run orders: STYLE=orchestration|choreography|hybrid SCENARIO=happy|out-of-stock|declined|undeliverable
	@$(PY) -m tools.operator.trigger $(if $(STYLE),--style $(STYLE)) $(if $(SCENARIO),--scenario $(SCENARIO))

compare: ## trace every style on the scenarios (or ORDERS="style:id ..."), print the comparison, write report/; ARGS=--static: only code, resources, IAM and flow (offline)
	@$(PY) -m tools.analysis.compare $(if $(ORDERS),--orders $(ORDERS)) $(ARGS)

chaos: ## faults, duplicates, killed sagas and concurrency on every style at once; N=orders SEED= RATE=fault rate KILL=share killed IN_FLIGHT=
	@$(PY) -m tools.analysis.chaos --orders $(or $(N),40) --seed $(or $(SEED),7) --fault-rate $(or $(RATE),0.2) --kill $(or $(KILL),0.1) $(if $(IN_FLIGHT),--in-flight $(IN_FLIGHT))

stuck: ## the operator's view: open orders, orders waiting for a person, DLQ depth, alarms (JSON=1 for JSON)
	@$(PY) -m tools.operator.stuck $(if $(STYLE),--style $(STYLE)) $(if $(JSON),--json)

dlq: ## list the dead-letter queues (STYLE=); `make dlq ACTION=redrive` sends them back
	@$(PY) -m tools.operator.dlq $(or $(ACTION),list) $(if $(STYLE),--style $(STYLE))

faults: ## inject faults into deployed steps: RATE=0.3 [STYLE=…]; RATE=0 switches them off
	@$(PY) -m tools.operator.faults $(if $(filter 0,$(or $(RATE),0)),clear,set --rate $(RATE)) $(if $(STYLE),--style $(STYLE))

bench: ## benchmark every style: latency, throughput, hand-offs, memory (ORDERS=, CONCURRENCY=1,4,16, QUICK=1); writes bench/results/
	@$(PY) -m tools.analysis.bench $(if $(ORDERS),--orders $(ORDERS)) $(if $(CONCURRENCY),--concurrency $(CONCURRENCY)) $(if $(QUICK),--quick)

demo: up deploy ## the whole show: LocalStack up, every style deployed, scenarios run, records and traces compared
	@$(PY) -m tools.operator.demo
	@$(PY) -m tools.analysis.compare

lint: ## ruff (lint + format check) on the Python code, mypy on the runtime and CDK packages (pyproject.toml)
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(PY) -m mypy

test: install lint test-unit test-executor test-e2e ## every test: lint, unit, CDK templates, executor, end to end

test-unit: ## unit and CDK template tests (no LocalStack needed)
	@$(PY) -m pytest tests/unit tests/cdk

test-executor: ## the Docker-free Lambda executor's own tests
	@.venv-localstack/bin/python -m pytest tests/executor

test-e2e: install ## end to end on the embedded LocalStack (started and stopped if not running)
	@$(PY) -m pytest tests/e2e

test-aws: ## opt-in, not part of `make test`: the scenarios on the stacks deployed to a real AWS account (skipped without credentials)
	@$(PY) -m tools.dev.conformance

lock: ## re-pin requirements.txt from requirements.in
	@$(PY) -m pip install --quiet -r requirements.in && \
	  { echo "# Generated from requirements.in by \`make lock\`: every package of the project venv, pinned."; \
	    $(PY) -m pip freeze --exclude-editable; } > requirements.txt
