# Muster — the two commands: `make demo` and `make test`. Both start with `make setup`.
#
#   make setup   .venv/ with the project installed (.venv/bin/muster), front-end assets, database migrated
#   make demo    setup, load the demo organization, serve on http://127.0.0.1:8000 (prints the logins)
#   make test    setup, then the whole test suite (installs Debian's chromium for the browser test if root)
#
# `make setup` is idempotent: the venv is rebuilt only when pyproject.toml changes, the assets only when
# package.json / package-lock.json / scripts/build_assets.py change.

# Python 3.11: python3.11 if on PATH, else python3 when it is 3.11.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || { python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null && command -v python3; })
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
VENDOR := src/muster/web/static/vendor
ASSETS := $(VENDOR)/.built
CHROMIUM := /usr/bin/chromium
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends

.PHONY: setup demo test chromium test-pg lint typecheck messages bench clean

setup: $(STAMP) $(ASSETS)
	@mkdir -p var
	@$(VENV)/bin/muster migrate --noinput -v 0

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Muster needs Python 3.11 (python3.11, or a python3 that is 3.11)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	@touch $(STAMP)

$(ASSETS): package.json package-lock.json scripts/build_assets.py | $(STAMP)
	npm install --no-audit --no-fund --loglevel=error
	$(PY) scripts/build_assets.py
	@touch $(ASSETS)

demo: setup
	$(VENV)/bin/muster demo

# PYTHONDONTWRITEBYTECODE= (empty: unset) lets pytest cache its assert-rewritten test modules and Python
# its bytecode: collection per process falls from ~27 s to ~10 s on the next run.
test: setup chromium
	PYTHONDONTWRITEBYTECODE= $(VENV)/bin/pytest -q -n auto --dist loadfile

# The browser test drives Debian's chromium through Playwright.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium (for the browser test)"; \
	    $(APT_INSTALL) chromium || { apt-get update && $(APT_INSTALL) chromium; }; \
	  else \
	    echo "warning: $(CHROMIUM) is missing and this is not root: the browser test will fail"; \
	  fi; \
	fi

# The suite against a PostgreSQL database (see .ci/run for a local cluster).
test-pg: setup chromium
	DATABASE_URL=$${DATABASE_URL:-postgresql://muster:muster@127.0.0.1:5432/muster} $(VENV)/bin/pytest -q

lint:
	$(VENV)/bin/ruff check src tests bench scripts deploy
	$(VENV)/bin/ruff format --check src tests bench scripts deploy
	$(VENV)/bin/lint-imports

typecheck:
	$(VENV)/bin/mypy src

messages:
	cd src/muster && ../../$(VENV)/bin/django-admin makemessages -l zh_Hans --no-obsolete --settings=muster.settings --pythonpath=.. && ../../$(VENV)/bin/django-admin compilemessages --settings=muster.settings --pythonpath=..

bench: setup
	$(PY) bench/import_roster.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
