# 乡治 Xiangzhi. The two commands: `make demo` and `make test` (see README).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The test suite's fixed environment: no TLS on the test client, a key that is not the production one.
TEST_ENV := DEBUG=0 SECURE_HTTPS=0 SECRET_KEY=test-only-secret-key-for-the-suite-0123456789abcdef ALLOWED_HOSTS=127.0.0.1,localhost,testserver
# Two workers: the suite's slow parts (browser, subprocess and seed tests) overlap on the two cores.
PYTEST_ARGS ?= -n 2 --durations=25
# Tests marked `serial` share global Redis state (the rollup lock, the rollups queue, progress keys, the
# default Celery queue its workers take tasks from):
# they run after the parallel pass, in one process.
SERIAL_ARGS ?= --durations=10
DEMO_ENV := DEBUG=0 SECURE_HTTPS=0 SECRET_KEY=$${SECRET_KEY:-demo-only-secret-key-not-for-production-0123456789} ALLOWED_HOSTS=$${ALLOWED_HOSTS:-127.0.0.1,localhost}

.PHONY: help venv demo demo-pg test lint typecheck format bench bench-import bench-industry-import bench-smoke messages lock vendor clean fuzz drills backup restore audit soak

help:
	@echo "make demo    install, migrate, seed the demo county and serve http://127.0.0.1:8000 (SQLite, eager Celery)"
	@echo "make demo-pg the same demo on PostgreSQL and Redis with its rollups, a Celery worker and beat: the dashboard shows figures"
	@echo "make test    install, then ruff, mypy, migrations check and the whole pytest suite on PostgreSQL and Redis"
	@echo "make bench   benchmarks in bench/ against gunicorn on PostgreSQL; writes docs/benchmarks.md"
	@echo "make lint    ruff and mypy;  make messages  refresh translation catalogues;  make lock  re-pin"

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed: $(PYTHON) was not found on PATH."; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	unset DATABASE_URL REDIS_URL; export $(DEMO_ENV); \
	$(BIN)/python manage.py migrate --noinput && \
	$(BIN)/python manage.py collectstatic --noinput -v0 && \
	$(BIN)/python manage.py seed_demo && \
	echo "乡治演示已启动：http://127.0.0.1:8000  (Ctrl-C 停止)" && \
	exec $(BIN)/gunicorn config.wsgi:application --bind 127.0.0.1:8000 --workers 2 --threads 4 --access-logfile -

# The demo on PostgreSQL and Redis (found or started by scripts/services.py, database "xiangzhi"): the same
# county, its rollups built, a Celery worker with beat keeping them current — the dashboard shows figures.
demo-pg: $(STAMP)
	export $(DEMO_ENV); $(BIN)/python scripts/services.py $(SERVICES_ARGS) -- bash -c '\
	  $(BIN)/python manage.py migrate --noinput && \
	  $(BIN)/python manage.py collectstatic --noinput -v0 && \
	  $(BIN)/python manage.py seed_demo && \
	  $(BIN)/python manage.py rollup --full && \
	  { $(BIN)/celery -A config worker -B -Q celery,rollups -c 2 --loglevel=WARNING & } && \
	  trap "kill $$! 2>/dev/null" EXIT && \
	  echo "乡治演示（PostgreSQL）已启动：http://127.0.0.1:8000  (Ctrl-C 停止)" && \
	  $(BIN)/gunicorn config.wsgi:application --bind 127.0.0.1:8000 --workers 2 --threads 4 --access-logfile -'

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/mypy .
	$(BIN)/python scripts/services.py $(SERVICES_ARGS) -- bash -c 'export $(TEST_ENV); \
	  $(BIN)/python manage.py makemigrations --check --dry-run && \
	  $(BIN)/python manage.py collectstatic --noinput -v0 && \
	  $(BIN)/pytest $(PYTEST_ARGS) -m "not serial" && \
	  $(BIN)/pytest $(SERIAL_ARGS) -m serial'

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/mypy .

typecheck: lint

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Hardening (issue 9, docs/reliability.md): schema fuzzing as every demo role, fault drills on private
# PostgreSQL and Redis instances, backup and restore of the database and uploaded media, dependency audit.
fuzz: $(STAMP)
	export $(TEST_ENV); $(BIN)/python scripts/services.py $(SERVICES_ARGS) -- $(BIN)/python -m hardening.fuzz $(FUZZ_ARGS)

drills: $(STAMP)
	export $(TEST_ENV); $(BIN)/python -m hardening.drills $(DRILLS_ARGS)

backup: $(STAMP)
	$(BIN)/python manage.py backup $(BACKUP_ARGS)

restore: $(STAMP)
	$(BIN)/python manage.py restore $(RESTORE_ARGS)

soak: $(STAMP)
	$(BIN)/python scripts/services.py $(SERVICES_ARGS) -- $(BIN)/python -m hardening.soak $(SOAK_ARGS)

audit: $(STAMP)
	$(BIN)/python -m hardening.audit $(AUDIT_ARGS)

bench: $(STAMP)
	$(BIN)/python scripts/services.py -- $(BIN)/python bench/run.py $(BENCH_ARGS)

bench-import: $(STAMP)
	$(BIN)/python scripts/services.py -- $(BIN)/python bench/import_bench.py $(BENCH_ARGS)

bench-industry-import: $(STAMP)
	$(BIN)/python scripts/services.py -- $(BIN)/python bench/industry_import.py $(BENCH_ARGS)

bench-smoke: $(STAMP)
	$(BIN)/python scripts/services.py -- $(BIN)/python bench/run.py --quick

messages: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py makemessages -l en --no-obsolete --no-wrap --ignore=.venv --ignore=staticfiles --ignore=static/vendor
	DEBUG=1 $(BIN)/python manage.py makemessages -d djangojs -l en --no-obsolete --no-wrap --ignore=.venv --ignore=staticfiles --ignore=static/vendor
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

vendor:
	scripts/vendor.sh

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache
