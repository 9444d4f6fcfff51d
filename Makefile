# The commands of the README: `make bench` (the default suites), `make test` (the unit tests) and `make tox`
# (the suites under each torch version).
# Each sets up .venv on first run: torch 2.13.0 (CPU build) and xautodl without its stale numpy pin.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The data folder is one setting; a clone beside ../shared finds it there unless it is set.
export HARNESS_DATA_DIR ?= $(abspath ../shared/data)
export OMP_NUM_THREADS ?= 2
# Unit tests and the gate slice let OpenMP threads sleep while waiting, so that they keep their pace on cores
# shared with other jobs; benchmarks keep the runtime's default (see harness/__init__.py).
test gate: export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: setup test bench gate report tox clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m pip install -q --no-deps xautodl==1.0.0
	touch $@

setup: $(VENV)/.installed

# Lint, unit tests, then a small gate run: a slice of the default suites checked against the committed baselines
# (--strict: a case measured at another scale than its baseline fails too).
test: setup
	$(PY) -m ruff check --quiet .
	$(PY) -m pytest tests -q
	$(MAKE) --no-print-directory gate

GATE_SLICE := --proxies synflow,nwot --searchers random,rea --datasets cifar10
gate: setup
	$(PY) -m harness bench -q -p no:cacheprovider $(GATE_SLICE) --baseline-check --strict --benchmark-storage=file://$(CURDIR)/.benchmarks/gate

# reports/example comes from the newest run saved under the name "default" (what `make bench` saves), not from
# any other suite run.
report: setup
	@run=$$(ls -t .benchmarks/torch-$$($(PY) -c 'import torch; print(torch.__version__)')/*/*_default.json 2>/dev/null | head -1); \
	if [ -z "$$run" ]; then echo "make report: no saved default run; make bench saves one" >&2; exit 2; fi; \
	echo "report from $$run"; $(PY) -m harness report "$$run" --out reports/example

bench: setup
	$(PY) -m harness bench --benchmark-save=default

# The default suites under every torch version in tox.ini's env_list, one env after another, niced (the CPU is
# shared). Not part of `make test`: it installs a torch per env (GBs; README says how long and how much disk).
tox: setup
	nice -n 10 $(PY) -m tox $(TOX_ARGS)

clean:
	rm -rf $(VENV) .benchmarks .pytest_cache
