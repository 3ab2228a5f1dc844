# make book   build the HTML book in _build/html (sets up .venv and the web assets itself)
# make test   unit tests, then strict nbval on every notebook under book/
# make clean  remove _build

SHELL := /bin/bash
.DEFAULT_GOAL := book

PYTHON3 ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
ASSETS  := _assets
ASSETS_STAMP := $(ASSETS)/versions.json

# Deterministic hashing; no stray matplotlib backend from the caller's shell
# (ipykernel then picks its inline backend, plain Python picks Agg when headless).
export PYTHONHASHSEED := 0
unexport MPLBACKEND
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: book test env assets clean

# --all: re-read every page, so every notebook is executed again (execute_notebooks:
# force only acts on pages Sphinx reads; without --all an unchanged notebook would
# keep outputs computed with an older qnb) and _static is refreshed.
book: $(STAMP) $(ASSETS_STAMP)
	$(VENV)/bin/jupyter-book build . --all -W -n --keep-going
	@echo "$(abspath _build/html/index.html)"

test: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider --doctest-modules qnb tests
	$(PY) -m pytest -p no:cacheprovider --nbval --nbval-cell-timeout=600 --nbval-sanitize-with tests/nbval_sanitize.cfg book/

env: $(STAMP)

assets: $(ASSETS_STAMP)

$(PY):
	$(PYTHON3) -m venv $(VENV)

$(STAMP): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

$(ASSETS_STAMP): tools/fetch_web_assets.py tools/widgets-config.js
	$(PYTHON3) tools/fetch_web_assets.py --dest $(ASSETS)

clean:
	rm -rf _build
