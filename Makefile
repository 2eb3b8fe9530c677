# The pipeline: environment -> validate params -> papermill each notebook -> one HTML report.
# Targets are files, so an unchanged pipeline re-runs in seconds; the run cache
# (results/<profile>/runs) means a re-executed notebook never retrains.
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
.DELETE_ON_ERROR:
.SUFFIXES:

PROFILE ?= quick
PYTHON ?= python3
VENV ?= .venv
SHARED ?= ../shared/data
export PYTHONUNBUFFERED := 1

# A conda env named "inpaint" (environment.yml) is used when active; otherwise a .venv.
ifeq ($(CONDA_DEFAULT_ENV),inpaint)
  PY := python
  ENV := $(CONDA_PREFIX)/.inpaint-installed
else
  PY := $(VENV)/bin/python
  ENV := $(VENV)/.installed
endif

RESULTS ?= results
export INPAINT_RESULTS_DIR := $(abspath $(RESULTS))
RES := $(RESULTS)/$(PROFILE)
NB_OUT := $(RES)/notebooks
LIB := $(wildcard inpaint_lib/*.py)
PROFILE_FILE := params/profiles/$(PROFILE).yaml
PARAMS := $(filter-out params/cae.yaml params/vit.yaml,$(wildcard params/*.yaml))
PART_A := $(patsubst params/%.yaml,$(NB_OUT)/%.ipynb,$(wildcard params/a[0-9]_*.yaml))
PHASES := $(patsubst params/%.yaml,$(NB_OUT)/%.ipynb,$(sort $(wildcard params/b[1-7]_phase*.yaml)))
PART_B := $(patsubst params/%.yaml,$(NB_OUT)/%.ipynb,$(wildcard params/b8_*.yaml))
SUMMARY := $(patsubst params/%.yaml,$(NB_OUT)/%.ipynb,$(wildcard params/c[0-9]_*.yaml))
NOTEBOOKS := $(PART_A) $(PHASES) $(PART_B) $(SUMMARY)
COMMON := $(PROFILE_FILE) $(LIB)

# papermill to a temp file, renamed only on success (a failed notebook never looks up to date)
define papermill
	@mkdir -p $(@D)
	$(PY) -m papermill --cwd . -k python3 --log-level WARNING \
	  -p params_file $(2) -p profile $(PROFILE) $(1) $@.tmp.ipynb
	mv $@.tmp.ipynb $@
endef

.PHONY: help env report test lab clean validate shared-data bench notebooks
help:
	@echo "make report   [PROFILE=smoke|quick|full]  execute every notebook, render $(RES)/report.html"
	@echo "make test                                  the test suite (offline, CPU)"
	@echo "make lab                                   JupyterLab on the project's environment"
	@echo "make validate | clean | bench | shared-data SHARED=../shared/data"

env: $(ENV)
$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $@
$(CONDA_PREFIX)/.inpaint-installed: pyproject.toml environment.yml
	python -m pip install --quiet -e '.[dev]'
	touch $@

validate: $(RES)/.validated
$(RES)/.validated: $(PARAMS) params/cae.yaml params/vit.yaml $(PROFILE_FILE) inpaint_lib/schema.py inpaint_lib/resolve.py | $(ENV)
	@mkdir -p $(@D)
	$(PY) -m inpaint_lib validate $(PARAMS) --profile $(PROFILE)
	touch $@

$(PART_A): $(NB_OUT)/%.ipynb: notebooks/%.ipynb params/%.yaml params/cae.yaml $(COMMON) | $(RES)/.validated
	$(call papermill,$<,params/$*.yaml)

$(PHASES): $(NB_OUT)/%.ipynb: params/%.yaml notebooks/vit_phase.ipynb params/vit.yaml $(COMMON) | $(RES)/.validated
	$(call papermill,notebooks/vit_phase.ipynb,$<)

$(PART_B): $(NB_OUT)/%.ipynb: notebooks/%.ipynb params/%.yaml params/vit.yaml $(wildcard params/b[1-7]_phase*.yaml) $(COMMON) | $(RES)/.validated
	$(call papermill,$<,params/$*.yaml)

# the conclusions read the other notebooks' cached runs and scores: executed last
$(SUMMARY): $(NB_OUT)/%.ipynb: notebooks/%.ipynb params/%.yaml $(PART_A) $(PHASES) $(PART_B) $(COMMON) | $(RES)/.validated
	$(call papermill,$<,params/$*.yaml)

notebooks: $(NOTEBOOKS)
report: $(RES)/report.html
$(RES)/report.html: $(NOTEBOOKS) inpaint_lib/report.py
	$(PY) -m inpaint_lib report --profile $(PROFILE)

test: $(ENV)
	$(PY) -m pytest -q

lab: $(ENV)
	$(PY) -m ipykernel install --sys-prefix --name inpaint --display-name "Python (inpaint)"
	$(PY) -m jupyter lab notebooks/

bench: $(ENV)
	$(PY) -m benchmarks.bench --try-compile --out results/bench

shared-data: $(ENV)
	$(PY) -m inpaint_lib unpack-shared $(SHARED)

clean:
	rm -rf $(RES)
