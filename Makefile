# `make test` sets up everything the suite needs on a fresh machine, then runs it.
PYTHON ?= python3

.PHONY: install test lint bench

install:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[test]'

# Lint first: the tests run only on code whose layers hold (see README "How the code is laid out").
test: install lint
	bash scripts/install-browser.sh
	bash scripts/install-xapian.sh
	$(PYTHON) -m pytest

# ruff, then the import layers declared in pyproject.toml ([tool.importlinter]).
lint:
	$(PYTHON) -m ruff check searchkit tests web
	$(PYTHON) -c "from importlinter.cli import lint_imports_command; lint_imports_command()"

# Relevance and speed beside SQLite FTS5 and naive Whoosh; relevance on every set (XQuAD-vi alone and beside
# news, known items over the whole news corpus, common news phrases) beside them; accent restoration (and
# Telex and VNI keys) beside pyvi; the ranking weights tuned on half of XQuAD-vi and of the known items and
# reported on the other half; acronyms, autocompletion and related articles; the server's throughput with one
# worker and two; the news corpus over 1, 2 and 3 Xapian shards beside the embedded index; and what one 15 MB
# article costs to index, search and show; typo'd known items beside Typesense; query latency as the news grows
# to 4,000, 35,425 and 100,000 articles beside FTS5 (see docs/benchmarks.md).
bench:
	$(PYTHON) tests/bench/bench.py --out bench-results.json
	$(PYTHON) tests/bench/bench.py --growth 4000,35425,100000 --out growth-results.json
	$(PYTHON) tests/bench/relevance.py --out relevance-results.json
	$(PYTHON) tests/bench/load.py --out load-results.json
	$(PYTHON) tests/bench/restore.py --out restore-results.json
	$(PYTHON) tests/bench/tune.py --out tune-results.json
	$(PYTHON) tests/bench/ways.py --out ways-results.json
	$(PYTHON) tests/bench/shards.py --out shards-results.json
	$(PYTHON) tests/bench/large.py --out large-results.json
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(PYTHON) tests/bench/typos.py --out typos-results.json
