# The two commands of the README: `make demo` runs calldesk, `make test` checks all of it.
# Each creates .venv when missing; nothing is installed outside it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# calldesk alone, for `make demo`; with its test tools too, for everything else.
RUNTIME := $(VENV)/.runtime
INSTALLED := $(VENV)/.installed
# mypy cannot follow setuptools' editable import hook, so it reads the layers through a
# tree that nests them under calldesk/ as the wheel does (ADR/0001).
TYPECHECK_TREE := build/typecheck
# Branch-coverage floors, a little under what the whole suite measures (README): a test
# run that covers less of a layer fails.
COVERAGE_FLOORS := domain:96 apps:93

.PHONY: demo test lint typecheck

demo: $(RUNTIME)
	$(BIN)/calldesk demo

test: lint typecheck
	$(BIN)/pytest --cov --cov-report=
	$(BIN)/coverage report
	@for floor in $(COVERAGE_FLOORS); do \
		layer=$${floor%%:*}; least=$${floor#*:}; \
		total=$$($(BIN)/coverage report --include="$$layer/*" --format=total); \
		$(BIN)/coverage report --include="$$layer/*" --format=total --fail-under=$$least \
			>/dev/null \
			|| { echo "$$layer/: $$total% of lines and branches, under its floor of $$least%"; \
			exit 1; }; \
		echo "$$layer/: $$total% of lines and branches covered (floor $$least%)"; \
	done

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	mkdir -p $(TYPECHECK_TREE)/calldesk
	for layer in domain ports adapters apps testing replica; do \
		ln -sfn ../../../$$layer $(TYPECHECK_TREE)/calldesk/$$layer; done
	MYPYPATH=$(TYPECHECK_TREE) $(BIN)/mypy -p calldesk
# Tests import their support code from tests/, benchmarks theirs from bench/, as each
# runs (pytest's pythonpath, python bench/x.py); their module names start there.
	MYPYPATH=$(TYPECHECK_TREE):tests:bench $(BIN)/mypy --explicit-package-bases tests bench

$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=69"
	$(BIN)/python -m pip install --quiet --editable .
	touch $@

$(INSTALLED): $(RUNTIME)
	$(BIN)/python -m pip install --quiet --editable ".[test]"
	touch $@
