# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test setup setup-dev db demo worker clean bench i18n

# UI text: gettext catalogs in translations/ (msgid = the Chinese text). The .mo files are built, not checked in.
CATALOGS := $(wildcard translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)
EXTRACT_OPTS := -F babel.cfg -k lazy_gettext -k N_ --add-location=file --sort-output --no-wrap --project "O2O Store" \
	--ignore-dirs ".* ._ node_modules instance static"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

$(COMPILED): %.mo: %.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

setup: $(VENV)/.installed $(COMPILED)

setup-dev: $(VENV)/.installed-dev $(COMPILED)

## After changing UI text: extract every string into translations/messages.pot, merge it into each catalog
## (new strings arrive empty, changed ones fuzzy: translate them, drop the fuzzy flag), compile.
i18n: $(VENV)/.installed
	$(BIN)/pybabel extract $(EXTRACT_OPTS) -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-wrap
	$(BIN)/pybabel compile --statistics -d translations

db: setup
	$(BIN)/flask check
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo --history

## Set up, migrate, load demo data and serve on http://127.0.0.1:5000 with gunicorn.
run: demo
	bash scripts/run.sh

## Set up and run the whole test suite (SQLite; PostgreSQL when TEST_DATABASE_URL is set).
test: setup-dev
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup-dev
	$(BIN)/python -m bench.redeem

clean:
	rm -rf $(VENV) instance $(COMPILED)
