# Quick start: `make demo` runs SiteSync end to end; `make test` runs every test.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test test-fast lint bench system-packages

# Prerequisites are made left to right: system packages (python3-venv among them) first.
.NOTPARALLEL:

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

system-packages:
	scripts/ensure-system-packages

demo: $(STAMP)
	$(BIN)/sitesync demo

# pytest's exit 5 ("no tests collected") counts as a failure.
test: system-packages $(STAMP)
	scripts/ensure-postgres
	$(BIN)/python -m pytest -q -n 2; status=$$?; [ $$status -ne 5 ] || echo "no tests collected"; \
	  [ $$status -eq 0 ]

test-fast: system-packages $(STAMP)
	scripts/ensure-postgres
	$(BIN)/python -m pytest -q -n 2 -m "not slow"; status=$$?; \
	  [ $$status -ne 5 ] || echo "no tests collected"; [ $$status -eq 0 ]

# Not part of `make test` yet.
lint: $(STAMP)
	$(BIN)/ruff check sitesync_addon server_addon tests bench examples
	$(BIN)/lint-imports
	$(BIN)/mypy sitesync_addon

bench: $(STAMP)
	$(BIN)/python bench/state_query.py
