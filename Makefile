# Parlor. `make run` to try it on this machine, `make test` for what CI runs.
# The real work is in scripts/, so each step can also be run by hand.

SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.installed
PY := $(VENV)/bin/python

# `make test PYTEST_ARGS='-k booking'` reaches scripts/test.sh.
export PYTEST_ARGS

.DEFAULT_GOAL := help
.PHONY: help run test bench lint migrations-check services stop clean backup restore

help:
	@echo "make run               start everything at http://127.0.0.1:8000/ (Ctrl-C stops it all)"
	@echo "make test              lint, format, migrations check and pytest (PYTEST_ARGS=...)"
	@echo "make bench             time the staff pages on a generated parlor (BENCH_SCALE=0.1; 1 = a chain's size)"
	@echo "make lint              ruff check and ruff format --check"
	@echo "make migrations-check  fail if a model change has no migration"
	@echo "make backup            the database and the uploaded scans into var/backups/parlor-<time>.tar"
	@echo "make restore FILE=...  put a backup back (asks first; replaces the database and the scans)"
	@echo "make services          start the local PostgreSQL and Redis and print their URLs"
	@echo "make stop              stop the local PostgreSQL and Redis (data kept in var/)"
	@echo "make clean             stop them and delete var/, .venv and build products"

run: $(STAMP)
	@scripts/run.sh

test: $(STAMP)
	@scripts/test.sh

# Timings never gate `make test`; see bench/README.md.
bench: $(STAMP)
	@scripts/bench.sh

lint: $(STAMP)
	@rc=0; $(VENV)/bin/ruff check . || rc=1; $(VENV)/bin/ruff format --check . || rc=1; exit $$rc

migrations-check: $(STAMP)
	@scripts/with-services.sh $(PY) manage.py makemigrations --check --dry-run

backup:
	@scripts/backup.sh

restore:
	@scripts/restore.sh $(FILE)

services:
	@scripts/services.sh start
	@scripts/services.sh env

stop:
	@scripts/services.sh stop

clean:
	@scripts/services.sh clean
	rm -rf var $(VENV) staticfiles test-results .pytest_cache .ruff_cache
	find . -path ./.git -prune -o -name '*.mo' -type f -print -exec rm -f {} +

# Reinstall only when a requirements file changed since the last install.
$(STAMP): requirements.txt requirements-dev.txt
	@scripts/venv.sh
