# Two commands matter: `make demo` and `make test`. Both build .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= sqlite:///$(CURDIR)/instance/demo.db
PORT ?= 5000
# pytest-xdist workers for `make test` (auto: one per core; 0: none, in this process).
TEST_WORKERS ?= auto

.PHONY: venv demo test lint typecheck docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	mkdir -p instance
	EXAMPLE_DATABASE_URL=$(DEMO_DB) $(BIN)/flask --app example_app seed --reset
	@echo "Open http://127.0.0.1:$(PORT)/ (API docs: http://127.0.0.1:$(PORT)/api/goals/docs)"
	EXAMPLE_DATABASE_URL=$(DEMO_DB) $(BIN)/flask --app example_app run --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check flask_wiseparts_goals example_app tests bench scripts
	$(BIN)/ruff format --check flask_wiseparts_goals example_app tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
