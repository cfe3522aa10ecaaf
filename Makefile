# The council's transactional website. `make help` lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi.py

.PHONY: help run serve setup assets migrate seed test test-fast lint format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# The demo accounts sign in with a password alone: two-factor sign-in is off here (TWO_FACTOR=off), never in production.
run: export TWO_FACTOR ?= off
run: setup migrate seed ## Set everything up and serve the site on http://127.0.0.1:5000 (SQLite, sandbox services)
	@echo "Two-factor sign-in for staff is $(TWO_FACTOR) (TWO_FACTOR=$(TWO_FACTOR)); production always requires it."
	$(FLASK) worker & trap 'kill $$!' EXIT; $(FLASK) run --host $(HOST) --port $(PORT)

serve: setup migrate ## Serve the site under gunicorn with gunicorn.conf.py, as in production (README: "Running it in production")
	$(VENV)/bin/gunicorn wsgi:app

setup: $(VENV)/.runtime assets ## Create the venv and install the pinned packages and GOV.UK Frontend assets

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

assets: static/govuk/.built ## Install GOV.UK Frontend and Leaflet from npm and build the stylesheet into static/govuk

static/govuk/.built: package.json package-lock.json static/scss/app.scss
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/govuk
	cp -R node_modules/govuk-frontend/dist/govuk/assets/. static/govuk/
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/govuk/
	mkdir -p static/govuk/leaflet
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css static/govuk/leaflet/
	cp -R node_modules/leaflet/dist/images static/govuk/leaflet/
	npm run -s build:css
	touch $@

migrate: setup ## Apply the database migrations
	$(FLASK) db upgrade

seed: migrate ## Load queues, routing rules and demo data
	$(FLASK) seed

lint: $(VENV)/.dev ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev ## Format the code with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: setup $(VENV)/.dev lint ## The whole suite (set TEST_DATABASE_URL to run the database tests on PostgreSQL too)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup $(VENV)/.dev ## Print the in-process time of every page of the journeys, and how to run the other benches
	$(PY) bench/pages.py
	$(PY) bench/routing.py
	@echo "Under gunicorn (gunicorn.conf.py) and wrk, beside a constant page and a naive GOV.UK page (needs wrk):"
	@echo "  $(PY) bench/server_pages.py"
	@echo "The pothole journey, 50 residents at once, gunicorn -w 2 on PostgreSQL (a database of its own, made afresh):"
	@echo "  $(PY) bench/journeys.py [--residents 50] [--seconds 30]"
	@echo "Over a million submissions, each in a PostgreSQL database of its own (created if missing; never 'test'):"
	@echo "  $(PY) bench/queues.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_queues"
	@echo "  $(PY) bench/open311.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_open311"
	@echo "  $(PY) bench/dashboard.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_dashboard"
	@echo "  $(PY) bench/exports.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_queues   (CSV export against psql \\copy, in-process and through gunicorn; needs psql)"

clean: ## Remove the venv, node_modules and built assets
	rm -rf $(VENV) node_modules static/govuk
