# tei-ingest: `make ingest` builds the corpus, `make test` runs the tests.
# Both set up everything they need on a fresh machine (a virtual environment, and
# the Debian package jing for the reference validation).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SHARED ?= ../shared
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export TEI_ALL_RNG ?= $(abspath $(SHARED)/schemas/tei/tei_all.rng)

.PHONY: ingest test export lint fmt typecheck regen eval bench clean jing basex debs

ingest: $(STAMP)
	$(BIN)/tei-ingest ingest seeds -o tei

test: $(STAMP) debs
	$(BIN)/python -m pytest

# The exchange formats of the corpus (BagIt with RO-Crate, CMIF, OAI-PMH, Dublin Core).
export: ingest
	$(BIN)/tei-ingest export all --corpus tei -o export

lint: $(STAMP)
	$(BIN)/ruff check ingest tests bench
	$(BIN)/ruff format --check ingest tests bench
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format ingest tests
	$(BIN)/ruff check --fix ingest tests

# Rewrite the golden files and the committed corpus; read the diff before committing.
regen: $(STAMP)
	$(BIN)/python -m pytest --force-regen -q tests || true
	$(BIN)/tei-ingest ingest seeds -o tei

# Metadata extraction measured on the labelled development set beside the project.
eval: $(STAMP)
	@if [ -d $(SHARED)/devset/texts ]; then \
	  $(BIN)/tei-ingest eval $(SHARED)/devset/texts $(SHARED)/devset/truth $(EVAL_FLAGS); \
	else echo "no development set at $(SHARED)/devset: nothing to measure"; fi

# Speed, measured side by side with the references (jing, lxml, pandoc); see bench/.
SCALE_FLAGS ?= --count 10000
bench: $(STAMP) debs
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/throughput.py $(THROUGHPUT_FLAGS)
	$(BIN)/python bench/scale.py $(SCALE_FLAGS)
	$(BIN)/python bench/validate.py $(BENCH_FLAGS)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The Debian packages the tests use: jing (the reference RELAX NG validator) and BaseX
# (the XML database the corpus is loaded into), installed when they are missing.
debs:
	@missing=""; \
	command -v jing >/dev/null 2>&1 || missing="$$missing jing"; \
	command -v basexserver >/dev/null 2>&1 || missing="$$missing basex"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

jing basex: debs

clean:
	rm -rf $(VENV) export .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
