# factkit: every target creates .venv on first use and installs the project into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data
OUT    ?= dist
FORMAT ?= text
BASE   ?= origin/main
# Extra options for `factkit validate`, e.g. FACTKIT_ARGS="--changed-since origin/main".
FACTKIT_ARGS ?=
# A git ref: `make summary REVIEW=origin/main` adds the facts changed since it (factkit review).
REVIEW ?=

.PHONY: help validate validate-changed summary review schema-gate export test lint typecheck docs bench bench-large clean

help:
	@echo "make export     validate data/ and write the tables to dist/"
	@echo "make validate   validate data/ (FORMAT=text|json|github|junit|sarif|markdown)"
	@echo "make validate-changed  report only what changed since BASE (default origin/main)"
	@echo "make summary    the Markdown summary of a validation (for a CI job page); REVIEW=REF adds the facts changed"
	@echo "make review     the facts added, changed and removed since BASE, with their evidence"
	@echo "make schema-gate  fail on a schema change that breaks readers, compared with BASE"
	@echo "make test       run the test suite"
	@echo "make lint       ruff check and format check"
	@echo "make typecheck  mypy on toolkit/"
	@echo "make docs       regenerate docs/codebook.md"
	@echo "make bench      benchmark 100k and 1M facts (bench/README.md); bench-large: 10M"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

validate: $(STAMP)
	$(BIN)/python -m toolkit validate $(DATA) --format $(FORMAT) $(FACTKIT_ARGS)

validate-changed: $(STAMP)
	$(BIN)/python -m toolkit validate $(DATA) --format $(FORMAT) --changed-since $(BASE) $(FACTKIT_ARGS)

# Exit 1 (invalid data) still writes the summary; only a failed run (exit 2) fails this target.
# With REVIEW=REF the facts the change adds, changes and removes follow, beside their evidence.
summary: $(STAMP)
	@$(BIN)/python -m toolkit validate $(DATA) --format markdown $(FACTKIT_ARGS) || [ $$? -eq 1 ]
	@if [ -n "$(REVIEW)" ]; then echo; $(BIN)/python -m toolkit review $(DATA) --base "$(REVIEW)" --format markdown; fi

review: $(STAMP)
	$(BIN)/python -m toolkit review $(DATA) --base $(BASE) --format $(FORMAT)

schema-gate: $(STAMP)
	$(BIN)/python -m toolkit schema diff $(BASE) .

export: $(STAMP)
	$(BIN)/python -m toolkit export $(DATA) --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests bench
	$(BIN)/ruff format --check toolkit tests bench

typecheck: $(STAMP)
	$(BIN)/mypy toolkit

docs: $(STAMP)
	$(BIN)/python -m toolkit codebook --out docs/codebook.md

# Benchmarks (bench/README.md): synthetic data in .bench/, medians of 3 runs, under ~30 min.
bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-large: $(STAMP)
	$(BIN)/python bench/run.py --large

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
