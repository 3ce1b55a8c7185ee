# Two commands for a newcomer: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Stage commands in dvc.yaml call `python`: it must be the project's environment.
IN_VENV := PATH="$(abspath $(BIN)):$$PATH"

.PHONY: run test venv repro metrics benchmark clean

# The environment comes only from pyproject.toml + uv.lock; rebuilt when either changes.
$(VENV)/.installed: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(PYTHON) -m uv sync --frozen
	@touch $@

venv: $(VENV)/.installed

run: venv repro metrics

repro: venv
	$(IN_VENV) dvc repro

metrics: venv
	@$(BIN)/python -m domain_classifier.summary

test: venv
	$(BIN)/python -m pytest

benchmark: venv
	$(BIN)/python -m domain_classifier.benchmark

clean:
	rm -rf $(VENV)
