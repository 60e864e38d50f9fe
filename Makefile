# relance: `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install system-deps services demo test test-sqlite test-postgres unit check bench messages clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## Install relance and its tools into .venv

system-deps: ## Install the system packages the tests and PDF letters need (Chromium, poppler, gettext, Pango, DejaVu) when missing
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v msgmerge >/dev/null || missing="$$missing gettext"; \
	for pkg in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; do \
	  dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	case "$$(/sbin/ldconfig -p)" in *libharfbuzz-subset.so.0*) ;; *) missing="$$missing libharfbuzz-subset0";; esac; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

services: ## Start PostgreSQL and Redis on this machine if they are down
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; pg_isready -h 127.0.0.1 -p 5432
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /tmp

demo: install ## Install, migrate, load the demo ledger, run today's cycle, serve http://$(HOST):$(PORT)
	$(BIN)/relance init
	$(BIN)/relance demo
	$(BIN)/relance run --date $$(date +%F) | tail -n 1
	$(BIN)/relance forecast --from $$(date +%F) --to $$(date -d +29days +%F) --store
	@echo "Staff UI on http://$(HOST):$(PORT)/ - log in as admin / relance-demo (Ctrl-C stops)"
	$(BIN)/relance serve --host $(HOST) --port $(PORT)

test: install system-deps services ## Run the whole suite on SQLite, then on PostgreSQL
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite: install ## Run the suite on SQLite
	env -u DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install ## Run the suite on PostgreSQL ($(PG_URL))
	DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS)

unit: install ## The fast loop: domain tests in seconds, without Django, quick Hypothesis profile
	HYPOTHESIS_PROFILE=quick $(BIN)/pytest -p no:django -W ignore::pytest.PytestConfigWarning tests/domain $(PYTEST_ARGS)

check: install ## Lint, format check, types and the architecture contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy relance bench
	$(BIN)/lint-imports

bench: install ## Benchmarks: import, dunning cycle, go-live projection, delivery (SMTP, letters), staff pages under gunicorn, KPIs, the REST API: figures and ratios against same-run baselines
	$(PY) bench/import_bench.py
	$(PY) bench/cycle_bench.py
	$(PY) bench/golive_bench.py
	$(PY) bench/delivery_bench.py
	$(PY) bench/web_bench.py
	$(PY) bench/kpi_bench.py
	$(PY) bench/api_bench.py

messages: install ## Update the French .po from the code and compile it (needs GNU gettext)
	cd relance && DJANGO_SETTINGS_MODULE=relance.settings ../$(BIN)/django-admin makemessages -l fr --no-location --ignore "*/migrations/*"
	cd relance && DJANGO_SETTINGS_MODULE=relance.settings ../$(BIN)/django-admin compilemessages

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
