# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test setup setup-dev db demo worker clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

db: setup
	$(BIN)/flask check
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo

## Set up, migrate, load demo data and serve on http://127.0.0.1:5000 with gunicorn.
run: demo
	bash scripts/run.sh

## Set up and run the whole test suite (SQLite; PostgreSQL when TEST_DATABASE_URL is set).
test: setup-dev
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup-dev
	$(BIN)/python -m bench.redeem

clean:
	rm -rf $(VENV) instance
