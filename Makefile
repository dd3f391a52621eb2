# factkit: every target creates .venv on first use and installs the project into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data
OUT    ?= dist
FORMAT ?= text

.PHONY: help validate export test lint typecheck docs bench bench-large clean

help:
	@echo "make export     validate data/ and write the tables to dist/"
	@echo "make validate   validate data/ (FORMAT=text|json|github)"
	@echo "make test       run the test suite"
	@echo "make lint       ruff check and format check"
	@echo "make typecheck  mypy on toolkit/"
	@echo "make docs       regenerate docs/codebook.md"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

validate: $(STAMP)
	$(BIN)/python -m toolkit validate $(DATA) --format $(FORMAT)

export: $(STAMP)
	$(BIN)/python -m toolkit export $(DATA) --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests
	$(BIN)/ruff format --check toolkit tests

typecheck: $(STAMP)
	$(BIN)/mypy toolkit

docs: $(STAMP)
	$(BIN)/python -m toolkit codebook --out docs/codebook.md

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
