# Quick start: `make demo` runs SiteSync end to end; `make test` runs every test.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test test-fast bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	$(BIN)/sitesync demo

# pytest's exit 5 ("no tests collected") counts as a failure.
test: $(STAMP)
	scripts/ensure-postgres
	$(BIN)/python -m pytest -q -n 2; status=$$?; [ $$status -ne 5 ] || echo "no tests collected"; \
	  [ $$status -eq 0 ]

test-fast: $(STAMP)
	scripts/ensure-postgres
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/state_query.py
