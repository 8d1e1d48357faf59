# pebs — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint unit bench schema-fuzz docs clean browser calibrate sim-validation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,bench,sim]'
	touch $(STAMP)

## run: the trial platform with the demo study (SQLite ./pebs.db) on http://127.0.0.1:8000
##      (another port: make run PORT=8080)
run: PORT ?= 8000
run: $(STAMP)
	$(BIN)/pebs db upgrade
	$(BIN)/pebs demo seed --if-empty
	$(BIN)/pebs user demo-logins
	@echo "pebs: to try the laboratory import, write a synthetic genotype batch of the kits shipped"
	@echo "  or received and not genotyped yet, then import it (or upload it at"
	@echo "  http://127.0.0.1:$(PORT)/lab/batches, logged in as demo-laboratory with its password"
	@echo "  and TOTP code above):"
	@echo "  $(BIN)/pebs demo lab-batch --study mypebs-demo -o demo-batch.vcf.gz"
	@echo "  $(BIN)/pebs lab import demo-batch.vcf.gz --study mypebs-demo --as demo-laboratory"
	$(BIN)/pebs serve --host 127.0.0.1 --port $(PORT)

## test: lint, then the whole test suite (PostgreSQL and browser tests included)
test: lint browser unit

## test-fast: the inner loop: the tests not marked slow, on SQLite only (no lint, PostgreSQL,
##            browser or Schemathesis)
test-fast: $(STAMP)
	PEBS_TEST_BACKENDS=sqlite $(BIN)/python -m pytest -q -m "not slow"

## browser: Debian's Chromium for the end-to-end tests and poppler-utils' pdftotext, the
##          independent reader of the letters' PDF text (installed once)
browser:
	@command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || { \
		echo "installing Debian's chromium and poppler-utils for the browser and letter tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
			poppler-utils >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/python -m pytest -q

## schema-fuzz: Schemathesis for longer than in `make test` (every phase and check, every role,
##             random search, SQLite and PostgreSQL; about 30 minutes), figures printed per role
schema-fuzz: $(STAMP)
	PEBS_SCHEMA_FUZZ_EXAMPLES=30 PEBS_SCHEMA_FUZZ_STEPS=25 PEBS_SCHEMA_FUZZ_RANDOM=1 \
	PEBS_SCHEMA_FUZZ_BACKENDS=sqlite,postgresql \
	$(BIN)/python -m pytest -q -s -p no:cacheprovider tests/api/test_schemathesis.py

## bench: speed and memory against the peers (see benchmarks/README.md)
bench: $(STAMP)
	$(BIN)/python -m benchmarks

## calibrate: fit the simulator's free parameters to the European targets (100,000 women, a few
##            minutes); writes build/calibration/ (copy parameters.toml to src/pebs/sim/parameters-europe.toml)
calibrate: $(STAMP)
	$(BIN)/pebs simulate calibrate europe --women 100000 -o build/calibration

## sim-validation: regenerate docs/simulation-validation.md and its plots (a few minutes), next to
##                 the figures of the earlier parameter set 2.1.0-europe
sim-validation: $(STAMP)
	$(BIN)/python scripts/sim_validation_report.py --previous docs/simulation-validation-2.1.0-europe.json

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .hypothesis
