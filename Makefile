# ftcost: every target sets up the virtualenv on first use.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTHON ?= python3

.PHONY: setup reports estimates pdf workshop lab notebooks bench test mutation lint format clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## Reports for every client in params/clients/: reports/<client>/ and reports/index.html.
reports: setup
	$(PY) -m ftcost_helpers report

## The same, with a PDF of each client report (Debian's Chromium: apt-get install chromium).
pdf: setup
	$(PY) -m ftcost_helpers report --pdf

## Workshop dashboard: the notebooks' panels on http://127.0.0.1:8866/ (Ctrl-C stops it).
workshop: setup
	$(PY) -m ftcost_helpers.dashboard

## JupyterLab on notebooks/, saving stored notebooks in their stored form (git stays clean).
lab: setup
	$(PY) -m ftcost_helpers.lab

## Sync each notebook with its text form (.md), re-execute and store it with example A's outputs.
notebooks: setup
	$(PY) tools/notebooks.py

## Benchmarks: Monte Carlo (vectorised vs loop) and batch reports (vs a serial papermill loop).
bench: setup
	$(PY) bench/bench_monte_carlo.py
	$(PY) bench/bench_reports.py

## Cost estimate of every example client, printed as a table.
estimates: setup
	@for file in params/clients/*.yaml; do $(PY) -m ftcost_helpers estimate "$$file" || exit 1; echo; done

## The whole test suite: lint, format, pytest (unit, property, CLI, reports, browser) and nbval.
test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

## Mutation testing (not part of `make test`): a seeded sample of MUTANTS small changes to the
## engine, the slug and the escaping helpers, each against its fast tests (pytest -x) in a
## temporary copy of the tree; prints the kill score and the survivors. MUTANTS=0: all of them.
MUTANTS ?= 150
mutation: setup
	$(PY) tools/mutation.py --max $(MUTANTS) --jobs 2

lint: setup
	$(PY) -m ruff check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
