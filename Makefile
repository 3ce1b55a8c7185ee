# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Stage commands in dvc.yaml call `python`: it must be the project's environment.
IN_VENV := PATH="$(abspath $(BIN)):$$PATH"

.PHONY: help run test lint format venv pull repro sync push metrics benchmark benchmark-spark benchmark-quality benchmark-budget benchmark-scale clean ui serve report experiments browser java

# `make` alone lists the commands: each target's `##` note, in file order.
.DEFAULT_GOAL := help
help:  ## this list
	@awk -F ':.*## ' '/^[a-z-]+:.*## / {printf "  make %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The environment comes only from pyproject.toml + uv.lock; rebuilt when either changes.
# Bytecode is compiled once here: with PYTHONDONTWRITEBYTECODE set (as on some machines) every
# `dvc` call and stage would otherwise recompile DVC, pandas and friends from source.
# uv itself goes into a small venv of its own: a system Python (Debian's, PEP 668) refuses
# `pip install` outside one.
UV := .tools/uv/bin/uv
$(UV):
	$(PYTHON) -m venv .tools/uv
	.tools/uv/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

# The page `dvc plots show` fills (.dvc/config plots.html_template): Vega, Vega-Lite and
# vega-embed inlined from the installed vl-convert-python (~0.9 MB), so it draws offline.
PLOTS_PAGE := .dvc/offline_plots.html
$(PLOTS_PAGE): $(VENV)/.installed domain_classifier/tools/plot_templates.py
	@$(BIN)/python -m domain_classifier.tools.plot_templates --page $@ >/dev/null

venv: $(VENV)/.installed $(PLOTS_PAGE)  ## the environment (.venv) from pyproject.toml and uv.lock

# Outputs the default DVC remote (.dvc/config) holds for this dvc.lock are pulled, so
# `dvc repro` trains only what is missing; a missing or empty remote just means training all.
run: venv pull repro sync push metrics  ## set up, pull what the remote has, reproduce the pipeline, register, push, show metrics

pull: venv  ## fetch the outputs the DVC remote holds for dvc.lock
	@$(BIN)/domain-classifier remote pull

repro: venv  ## dvc repro: run the stages whose inputs changed
	$(IN_VENV) dvc repro

# A champion selected while the MLflow store was down is registered now (`dvc repro` would not
# rerun select for it); warns and goes on if the store is still down.
sync: venv  ## register the DVC champion in MLflow if a store outage left it behind
	@$(BIN)/domain-classifier registry sync

push: venv  ## send the outputs to the DVC remote
	@$(BIN)/domain-classifier remote push

metrics: venv  ## per-family macro-F1, the champion and the baseline
	@$(BIN)/python -m domain_classifier.evaluation.summary

test: venv browser java lint  ## set up and run the whole test suite (lint first)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# Style gate (ruff, configured in pyproject.toml); `make format` applies it.
lint: venv  ## style gate (ruff check, ruff format --check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Spark (predict.engine: spark, its tests) runs on a Java 17+ runtime: Debian's headless JRE.
java:  ## install a Java runtime for Spark (Debian, as root)
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y --no-install-recommends openjdk-17-jre-headless; \
	  else \
	    echo "java not found: the Spark tests will be skipped;" \
	         "install it with: sudo apt-get install --no-install-recommends openjdk-17-jre-headless" >&2; \
	  fi; }

# The offline-report test opens the report in Debian's headless Chromium (skipped without it).
browser:  ## install headless Chromium for the report test (Debian, as root)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y --no-install-recommends chromium; \
	  else \
	    echo "chromium not found: the offline report test will be skipped;" \
	         "install it with: sudo apt-get install --no-install-recommends chromium" >&2; \
	  fi; }

# report.md + report/ (PNGs, offline plots.html) against REV: what the CI comment posts.
REV ?= main
report: venv  ## report.md and report/ against REV (default main), as CI posts it
	$(IN_VENV) $(BIN)/domain-classifier report --rev $(REV)

# Experiments in 120 columns: the champion, its test macro-F1 minus the baseline's, and each
# candidate's val/test macro-F1 (dvc exp show --json underneath; EXP_ARGS go to it, e.g. -A).
experiments: venv  ## one line per experiment: champion, minus baseline, val/test per family
	@$(IN_VENV) $(BIN)/python -m domain_classifier.evaluation.summary experiments $(EXP_ARGS)

benchmark: venv  ## predict throughput, linear champion on both cores
	$(BIN)/python -m benchmarks.predict

# The whole pipeline on each catalogue in ../shared/data: champion vs baseline macro-F1, ECE.
benchmark-quality: venv  ## champion vs baseline on the shared catalogues
	$(IN_VENV) $(BIN)/python -m benchmarks.quality

# The whole pipeline at its budget on the demo and both shared samples: predicted against
# actual minutes, each family's derived settings, test macro-F1 (about 30 minutes).
benchmark-budget: venv  ## predicted vs actual minutes at the budget (about 30 minutes)
	$(IN_VENV) $(BIN)/python -m benchmarks.budget

# The whole pipeline at 100k x 100, 300k x 300 and 1M x 1,000 under profiles/scale.yaml: each
# stage's time and peak memory, macro-F1 and issue 10's targets (hours on 2 cores).
benchmark-scale: venv  ## 100k, 300k and 1M demo rows (hours)
	$(BIN)/python -m benchmarks.scale

# Local engine vs Spark local[2], linear and Keras champions, 1M and 10M demo rows (long).
benchmark-spark: venv java  ## local engine vs Spark at 1M and 10M rows (long)
	$(BIN)/python -m benchmarks.spark

# MLflow through the console script (no PATH needed): `ui` opens on the training runs with
# their macro-F1; `serve` answers POST /invocations with the registered champion (loopback only).
ui: venv  ## MLflow UI on the training runs (127.0.0.1:2020)
	$(BIN)/domain-classifier ui

serve: venv sync  ## serve the registered champion over HTTP (127.0.0.1:5000)
	$(BIN)/domain-classifier serve

clean:  ## remove the environment (.venv, .tools)
	rm -rf $(VENV) .tools
