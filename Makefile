# `make test` sets up everything the suite needs on a fresh machine, then runs it.
PYTHON ?= python3

.PHONY: install test lint bench

install:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[test]'

test: install
	bash scripts/install-browser.sh
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check searchkit tests web

bench:
	$(PYTHON) tests/bench/bench.py
