# make book   build the HTML book in _build/html (sets up .venv and the web assets itself)
# make test   unit tests (with the Binder environment test), strict nbval on every notebook
#             under book/, then the book build, an offline check of its links and execution
#             statistics, and a headless-Chromium check (with axe-core) of every page
# make clean  remove _build

SHELL := /bin/bash
.DEFAULT_GOAL := book

PYTHON3 ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
BROWSER_STAMP := $(VENV)/.browser-installed
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

# The tests of the built book run last, on the book just built (never on an older
# one, hence --ignore in the first run): the offline link check and the execution
# statistics (test_links.py), then the browser test, whose screenshots go to
# _build/screenshots (look at them: they are the test's artifacts). The browser
# test also needs the test-only assets (axe-core in _assets/test), hence
# $(ASSETS_STAMP) here too. QNB_REQUIRE_*: a missing book or browser fails, never skips.
test: $(STAMP) $(BROWSER_STAMP) $(ASSETS_STAMP)
	$(PY) -m pytest -p no:cacheprovider --doctest-modules qnb tests --ignore=tests/test_browser.py --ignore=tests/test_links.py
	$(PY) -m pytest -p no:cacheprovider --nbval --nbval-cell-timeout=600 --nbval-sanitize-with tests/nbval_sanitize.cfg book/
	$(MAKE) book
	QNB_REQUIRE_BOOK=1 QNB_REQUIRE_BROWSER=1 $(PY) -m pytest -p no:cacheprovider tests/test_links.py tests/test_browser.py

env: $(STAMP)

assets: $(ASSETS_STAMP)

$(PY):
	$(PYTHON3) -m venv $(VENV)

$(STAMP): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

# Debian's Chromium (CI runs as root) and Playwright to drive it; never `playwright install`.
$(BROWSER_STAMP): tests/requirements-browser.txt | $(STAMP)
	command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(PY) -m pip install --quiet -r tests/requirements-browser.txt
	@touch $@

$(ASSETS_STAMP): tools/fetch_web_assets.py tools/widgets-config.js
	$(PYTHON3) tools/fetch_web_assets.py --dest $(ASSETS)

clean:
	rm -rf _build
