# factkit: every target creates .venv on first use and installs into it only what it needs.
# Exporting and validating need the project alone; tests, linters and the docs add their tools.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# One stamp per layer, so adding the dev tools later leaves the base install as it is.
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev
DOCS   := $(VENV)/.installed-docs
DATA   ?= data
OUT    ?= dist
FORMAT ?= text
BASE   ?= origin/main
# Extra options for `factkit validate`, e.g. FACTKIT_ARGS="--changed-since origin/main".
FACTKIT_ARGS ?=
# Where the checks run: `make export ENGINE=duckdb` (polars, duckdb, spark; docs/engines.md).
# DuckDB and Spark are extras, installed on first use (Spark also needs Java 17 or 21).
ENGINE ?=
ENGINE_ARG := $(if $(ENGINE),--engine $(ENGINE))
ENGINE_EXTRA := $(if $(filter duckdb spark,$(ENGINE)),$(VENV)/.installed-$(ENGINE))
# A git ref: `make summary REVIEW=origin/main` adds the facts changed since it (factkit review).
REVIEW ?=
# mkdocs-material prints a banner about MkDocs 2 on every build; the build itself is what counts.
export NO_MKDOCS_2_WARNING := 1

.PHONY: help validate validate-changed summary review schema-gate export test lint typecheck docs bench bench-large clean

help:
	@echo "make export     validate data/ and write the tables to dist/"
	@echo "make validate   validate data/ (FORMAT=text|json|github|junit|sarif|markdown)"
	@echo "                ENGINE=duckdb|spark runs the checks there (export and validate)"
	@echo "make validate-changed  report only what changed since BASE (default origin/main)"
	@echo "make summary    the Markdown summary of a validation (for a CI job page); REVIEW=REF adds the facts changed"
	@echo "make review     the facts added, changed and removed since BASE, with their evidence"
	@echo "make schema-gate  fail on a schema change that breaks readers, compared with BASE"
	@echo "make test       run the test suite"
	@echo "make lint       ruff check and format check"
	@echo "make typecheck  mypy on toolkit/"
	@echo "make docs       regenerate docs/codebook.md and docs/codes.md, build the site in site/"
	@echo "make bench      benchmark 100k and 1M facts on polars, DuckDB and Spark, state issue #13's bounds"
	@echo "                (bench/README.md; BENCH_ARGS=\"--engines duckdb\" leaves Spark out); bench-large: 10M"

# The base: the project and its runtime dependencies, no extra.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# Test runner, linters, type checker, notebook kernel, the docs tools (a test builds the site)
# and the other engines (tests compare their reports with polars).
$(DEV): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,docs,duckdb,spark]'
	touch $(DEV)

$(DOCS): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $(DOCS)

# An engine's extra, for ENGINE=duckdb or ENGINE=spark.
$(VENV)/.installed-duckdb $(VENV)/.installed-spark: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[$(subst $(VENV)/.installed-,,$@)]'
	touch $@

validate: $(STAMP) $(ENGINE_EXTRA)
	$(BIN)/python -m toolkit validate $(DATA) --format $(FORMAT) $(ENGINE_ARG) $(FACTKIT_ARGS)

validate-changed: $(STAMP) $(ENGINE_EXTRA)
	$(BIN)/python -m toolkit validate $(DATA) --format $(FORMAT) --changed-since $(BASE) $(ENGINE_ARG) $(FACTKIT_ARGS)

# Exit 1 (invalid data) still writes the summary; only a failed run (exit 2) fails this target.
# With REVIEW=REF the facts the change adds, changes and removes follow, beside their evidence.
summary: $(STAMP)
	@$(BIN)/python -m toolkit validate $(DATA) --format markdown $(FACTKIT_ARGS) || [ $$? -eq 1 ]
	@if [ -n "$(REVIEW)" ]; then echo; $(BIN)/python -m toolkit review $(DATA) --base "$(REVIEW)" --format markdown; fi

review: $(STAMP)
	$(BIN)/python -m toolkit review $(DATA) --base $(BASE) --format $(FORMAT)

schema-gate: $(STAMP)
	$(BIN)/python -m toolkit schema diff $(BASE) .

export: $(STAMP) $(ENGINE_EXTRA)
	$(BIN)/python -m toolkit export $(DATA) --out $(OUT) $(ENGINE_ARG)

test: $(DEV)
	$(BIN)/python -m pytest

lint: $(DEV)
	$(BIN)/ruff check toolkit tests bench
	$(BIN)/ruff format --check toolkit tests bench

typecheck: $(DEV)
	$(BIN)/mypy toolkit

docs: $(DOCS)
	$(BIN)/python -m toolkit codebook --out docs/codebook.md
	$(BIN)/python -m toolkit.codes_page docs/codes.md
	$(BIN)/mkdocs build --strict --site-dir site

# Benchmarks (bench/README.md): synthetic data in .bench/, medians of 3 runs, validate on
# polars, DuckDB and a local Spark session in turn; about 20-30 min on a quiet machine.
# bench-large: 10M facts, once each (about an hour). Both rewrite the bounds of issue #13 in
# bench/README.md. Options of bench/run.py go in BENCH_ARGS, e.g. BENCH_ARGS="--engines ''".
BENCH_ARGS ?=
bench: $(DEV)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-large: $(DEV)
	$(BIN)/python bench/run.py --large $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(OUT) site .pytest_cache .mypy_cache .ruff_cache
