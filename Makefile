# Two entry points, both from a fresh clone: `make demo` and `make test`.
# torch is installed first from its pinned CPU build: a bare "torch" requirement with no
# torch present would pull several GB of CUDA packages.
# The BlazePose models (body pose) are part of the product: `setup` always runs a cheap
# `avr models install pose --if-missing` (under a second when they are there and intact,
# else a 36 MB download from PyPI into $AVR_MODELS_DIR or ~/.local/share/avr-studio/models).
# Offline it warns in one line and goes on: pose features stay off until installed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0
STAMP := $(VENV)/.avr-installed
MODELS_WARNING := warning: pose models not installed, body pose features are disabled; \
install later with: $(VENV)/bin/avr models install pose

.PHONY: setup models demo test test-fast lint bench clean

setup: $(STAMP) models

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e '.[dev,cluster]'
	touch $(STAMP)

# Phony, so it runs on every `make setup`/`demo`/`test` even when the venv stamp is fresh,
# and notices models deleted or a changed $AVR_MODELS_DIR; idempotent, never fails.
models: $(STAMP)
	@$(VENV)/bin/avr models install pose --if-missing || echo "$(MODELS_WARNING)" >&2

demo: setup
	$(VENV)/bin/avr demo out/demo

# Tests run in one process per core (pytest-xdist), a test file per process at a time, so
# module fixtures (a Ray cluster, a generated library) are built once. On 2 quiet cores
# the suite took 5.2 min this way; the previous suite ran serially in 7.7 min (RESULTS).
test: setup
	$(VENV)/bin/ruff check .
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -n auto --dist loadfile

# The inner loop: the unit tests without the slow, network and GPU ones (< 2 min on 2
# cores). `make test` (what CI and the README run) stays the full suite.
test-fast: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider \
		-m "not slow and not network and not gpu" tests/unit

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: setup
	$(PY) benchmarks/bench_align.py --json out/bench_align.json

clean:
	rm -rf $(VENV) out build dist *.egg-info
