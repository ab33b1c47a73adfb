# si-survey: the two commands of the README.
#   make run   -> creates .venv if absent, installs si-survey, runs the main job on the demo data
#   make test  -> creates .venv if absent, installs si-survey with test extras, runs the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test setup lab clean-outputs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/si-survey run

test: setup
	$(BIN)/python -m pytest

lab: setup
	$(BIN)/jupyter lab notebooks/

clean-outputs:
	rm -rf data/processed/* reports/*
	touch data/processed/.gitkeep reports/.gitkeep
