# Muster — the two commands: `make demo` and `make test`. Both start with `make setup`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
ASSETS := src/muster/web/static/vendor/.built

.PHONY: setup demo test test-pg lint typecheck messages bench clean

setup: $(STAMP) $(ASSETS)
	@mkdir -p var
	@$(VENV)/bin/muster migrate --noinput -v 0

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	@touch $(STAMP)

$(ASSETS): package.json scripts/build_assets.py
	npm install --no-audit --no-fund --loglevel=error
	$(PYTHON) scripts/build_assets.py
	@touch $(ASSETS)

demo: setup
	$(VENV)/bin/muster demo

test: setup
	$(VENV)/bin/pytest -q

lint:
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts

typecheck:
	$(VENV)/bin/mypy src

messages:
	cd src/muster && ../../$(VENV)/bin/django-admin makemessages -l zh_Hans --no-obsolete --settings=muster.settings --pythonpath=.. && ../../$(VENV)/bin/django-admin compilemessages --settings=muster.settings --pythonpath=..

bench: setup
	$(PY) bench/import_roster.py

clean:
	rm -rf $(VENV) node_modules src/muster/web/static/vendor var
