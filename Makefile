# campaignflow — `make demo` and `make test` are the whole quickstart; both set up .venv if needed.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.campaignflow-installed

export CAMPAIGNFLOW_HOME ?= $(CURDIR)/var
export AIRFLOW_HOME ?= $(CAMPAIGNFLOW_HOME)/airflow
export AIRFLOW__CORE__DAGS_FOLDER ?= $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER ?= $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
export GX_ANALYTICS_ENABLED ?= False

PYTEST_ARGS ?=

.PHONY: setup demo test test-unit lint style bench bench-features bench-generate bench-orchestration-1m bench-real airflow lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints/constraints-py3.11.txt scripts/install.sh scripts/install_torch.sh
	bash scripts/install.sh

## demo: generate a sample shop, load its history, run the daily DAG for its last 3 days, print results
demo: setup
	$(BIN)/campaignflow demo

## test: lint, then the whole suite, tier by tier (tests/<tier>/: see TIERS in tests/conftest.py), slowest 25 listed
test: setup lint
	$(BIN)/python -m pytest --durations=25 $(PYTEST_ARGS)

## test-unit: the unit tier alone (no JVM, no Airflow database, no server)
test-unit: setup
	$(BIN)/python -m pytest tests/unit --durations=10 $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check plugins jobs dags tests bench
	$(BIN)/ruff check dags --select AIR
	$(BIN)/mypy

style: setup
	$(BIN)/ruff check --fix plugins jobs dags tests bench
	$(BIN)/ruff format plugins jobs dags tests bench

## bench: benchmarks (numbers go into docs/benchmarks.md); BENCH_CUSTOMERS/BENCH_DAYS scale the generator run
bench: setup
	$(BIN)/python bench/bench_generate.py --customers $${BENCH_CUSTOMERS:-1000000} --days $${BENCH_DAYS:-365}
	$(BIN)/python bench/bench_pipeline.py --customers $${BENCH_PIPELINE_CUSTOMERS:-20000}
	$(BIN)/python bench/bench_orchestration.py --customers $${BENCH_ORCH_CUSTOMERS:-20000} --history-days 365 --backfill-days 30 \
	  --max-active-runs 3 --dag-max-active-runs ingest_features=30 --out $(CAMPAIGNFLOW_HOME)/bench-orchestration
	$(BIN)/python bench/bench_recommender.py --customers $${BENCH_REC_CUSTOMERS:-1000000} --products 20000 --days 120 \
	  --out $(CAMPAIGNFLOW_HOME)/bench-recommender
	for shop in full lines orders; do \
	  $(BIN)/python bench/bench_models.py --customers $${BENCH_MODEL_CUSTOMERS:-20000} --days 400 --shop $$shop --score-rows $${BENCH_SCORE_ROWS:-1000000} \
	    --out $(CAMPAIGNFLOW_HOME)/bench-models-$$shop || exit 1; \
	done

## bench-features: the feature layer at 1 M customers and 2 years (over an hour on 2 cores; ~25 GB disk)
bench-features: setup
	CAMPAIGNFLOW_SPARK_DRIVER_MEMORY=$${CAMPAIGNFLOW_SPARK_DRIVER_MEMORY:-10g} CAMPAIGNFLOW_SHUFFLE_PARTITIONS=16 \
	  $(BIN)/python bench/bench_features.py --customers $${BENCH_CUSTOMERS:-1000000} --days 761 --out $(CAMPAIGNFLOW_HOME)/bench-features

## bench-orchestration-1m: one daily run of the suite for 1 M customers with a year of history, through a real scheduler
## (two tasks at a time: two million-customer pandas tasks fill 24 GB; tokens for hour-long tasks on a loaded machine)
bench-orchestration-1m: setup
	$(BIN)/python bench/bench_orchestration.py --customers 1000000 --history-days 365 --backfill-days 0 \
	  --driver-memory 10g --shuffle-partitions 16 \
	  --set CAMPAIGNFLOW_SNAPSHOT_COUNT=2 --set CAMPAIGNFLOW_CHURN_CANDIDATES=churn_lgbm \
	  --set AIRFLOW__CORE__PARALLELISM=2 --set AIRFLOW__EXECUTION_API__JWT_EXPIRATION_TIME=3600 \
	  --out $(CAMPAIGNFLOW_HOME)/bench-orchestration-1m

## bench-real: onboard the real public logs in ../shared/data/ end to end (import, run the last day, summary)
bench-real: setup
	$(BIN)/python bench/real_shops.py --data $${BENCH_REAL_DATA:-$(CURDIR)/../shared/data} --out $(CAMPAIGNFLOW_HOME)/bench-real

## airflow: the Airflow UI (api-server, scheduler, dag-processor, triggerer) on the same data as `make demo`;
## every task attaches to one warm local Spark Connect server (`campaignflow spark stop` ends it)
airflow: setup
	$(BIN)/campaignflow airflow-init >/dev/null
	@echo "Airflow UI: http://localhost:8080  (login: see $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated)"
	PATH="$(CURDIR)/$(BIN):$$PATH" CAMPAIGNFLOW_SPARK=$${CAMPAIGNFLOW_SPARK:-connect-local} $(BIN)/airflow standalone

## lock: refresh the constraints file from the current .venv
lock:
	{ head -3 constraints/constraints-py3.11.txt; $(BIN)/pip freeze --exclude-editable | grep -viE '^(torch|campaignflow)[=@ ]'; } > constraints/.new
	mv constraints/.new constraints/constraints-py3.11.txt

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
