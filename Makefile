# Two commands: `make run` starts the portal, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
# Where `make run` serves the portal (make run PORT=8080 for another).
PORT ?= 8000

.PHONY: run test install install-dev migrate demo lint format e2e-deps check-deploy benchmarks clean audit

$(UV):
	$(PYTHON) -m pip install --user --quiet uv

install: $(UV)
	$(UV) sync --frozen --python $(PYTHON)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py charger_demo
	$(PY) manage.py creer_comptes_demo

# honcho gives the web process PORT from its base port (5000 unless told): tell it ours.
run: demo
	@echo "Portail : http://127.0.0.1:$(PORT)/  (Ctrl-C arrête le serveur web, le worker et beat)"
	$(VENV)/bin/honcho start --port $(PORT)

# axe-core for the accessibility tests (package.json, npm ci), installed again when package.json or its lock is newer.
# Without npm the axe tests are skipped with the reason (outside CI, where they must run).
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund; \
	else echo "npm absent : axe-core non installé, les tests d'accessibilité seront ignorés"; fi

test: install node_modules/.package-lock.json
	$(PY) -m pytest -n $${PYTEST_WORKERS:-2} --dist loadfile $(PYTEST_ARGS)

# Known vulnerabilities in the locked dependencies (pip-audit on uv.lock, every group): none allowed. Exits 3, with a
# clear message, when the vulnerability service cannot be reached (scripts/audit_dependances.py).
audit: install
	$(PY) scripts/audit_dependances.py --uv "$(UV)" $(AUDIT_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-deploy: install
	DEBUG=false SECRET_KEY=$$(openssl rand -hex 40) ALLOWED_HOSTS=referentiel-ad.example \
	  CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0} CACHE_URL=$${CACHE_URL:-redis://127.0.0.1:6379/1} \
	  $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf .data/staticfiles .pytest_cache
