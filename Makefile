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
# glibc's malloc hands every tensor over 128 kB back to the kernel when freed and takes fresh,
# zeroed pages for the next one; training allocates such tensors every step. Keeping them in
# the heap made a CPU training epoch 1.6x faster here (52 s -> 33 s for 4 photo-network
# epochs). Numbers are unchanged: only where memory comes from. Set them to override.
export MALLOC_MMAP_THRESHOLD_ ?= 1000000000
export MALLOC_TRIM_THRESHOLD_ ?= 1000000000
export MALLOC_TOP_PAD_ ?= 100000000

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
# where each notebook's time went (inpaint_lib/timings.py; read by benchmarks/report_time.py)
TIMINGS := $(RES)/timings
# every library file, in any subpackage: a notebook re-executes on any library edit (cheap: the
# run and evaluation caches are keyed by the code that shapes them, inpaint_lib/code_version.py)
LIB := $(sort $(shell find inpaint_lib -name '*.py' -not -path '*/__pycache__/*'))
PROFILE_FILE := params/profiles/$(PROFILE).yaml
PARAMS := $(filter-out params/cae.yaml params/vit.yaml,$(wildcard params/*.yaml))
PART_A := $(patsubst params/%.yaml,$(NB_OUT)/%.ipynb,$(wildcard params/a[0-9]_*.yaml))
PHASES := $(patsubst params/%.yaml,$(NB_OUT)/%.ipynb,$(sort $(wildcard params/b[1-7]_phase*.yaml)))
PART_B := $(patsubst params/%.yaml,$(NB_OUT)/%.ipynb,$(wildcard params/b[89]_*.yaml))
SUMMARY := $(patsubst params/%.yaml,$(NB_OUT)/%.ipynb,$(wildcard params/c[0-9]_*.yaml))
BEYOND := $(patsubst params/%.yaml,$(NB_OUT)/%.ipynb,$(wildcard params/d[0-9]_*.yaml))
NOTEBOOKS := $(PART_A) $(PHASES) $(PART_B) $(SUMMARY) $(BEYOND)
COMMON := $(PROFILE_FILE) $(LIB)

# Each notebook computes with one thread per core, whatever make's -jN: a run then has the
# same bits under -j1 and -j2 (a float reduction split over another number of threads can differ
# in its last bits). Under -jN (N > 1) the N notebooks share the cores, so OpenMP's idle threads
# sleep (OMP_WAIT_POLICY=passive) instead of spinning on a core another notebook needs, and one
# notebook's single-threaded work (start-up, tables, figures) overlaps another's training. An
# OMP_NUM_THREADS or OMP_WAIT_POLICY in the environment wins. Read in the recipe: make 4.3 sets
# MAKEFLAGS's -jN only then. Each run records its threads and jobs. (nproc alone would count
# an OMP_NUM_THREADS in the environment as the cores.)
CORES := $(shell env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || echo 1)
JOBS = $(if $(filter -j,$(MAKEFLAGS)),$(CORES),$(or $(patsubst -j%,%,$(filter -j%,$(MAKEFLAGS))),1))
THREADS := $(CORES)
WAIT_POLICY = $(if $(filter 1,$(JOBS)),active,passive)
# `make report` (and publish, notebooks) runs REPORT_JOBS notebooks at a time: one by default.
# REPORT_JOBS=2 changes no number (a thread per core each) and helped on an AVX2 host training in
# fp32, but on a host training in bf16 with AMX two notebooks of two threads each on two cores
# ran a CAE epoch in 140 s instead of 2 s (2026-12-07; stopping one brought it back to 2 s).
REPORT_JOBS ?= 1
ifneq ($(filter report publish notebooks,$(MAKECMDGOALS)),)
ifeq ($(MAKELEVEL),0)  # a sub-make (publish's report) shares its parent's jobs
  MAKEFLAGS += -j$(REPORT_JOBS)
endif
endif

# papermill to a temp file, renamed only on success (a failed notebook never looks up to date).
# (papermill through inpaint_lib/report/execute.py: its command line, started 0.9 s sooner.)
# The terminal shows each notebook as it starts, every training epoch with its run and an ETA
# (inpaint_lib/progress.py writes them to the kernel's inherited stderr, not into the notebook)
# and the time each notebook took. papermill's cell counter is off, and two lines of kernel
# noise are filtered out: its TCP-encryption warning (kernel and papermill talk on localhost)
# and the KeyboardInterrupt it sometimes logs when papermill shuts it down after the last cell.
define papermill
	@mkdir -p $(@D) $(TIMINGS)
	@echo "== $*: executing $(1) with $(2) (profile $(PROFILE), $${OMP_NUM_THREADS:-$(THREADS)} threads)"
	@t0=$$(date +%s); t0_ns=$$(date +%s.%N); \
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-$(THREADS)} INPAINT_JOBS=$(JOBS) \
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-$(WAIT_POLICY)} \
	INPAINT_TIMINGS=$(TIMINGS)/$*.json INPAINT_T0=$$t0_ns \
	$(PY) -m inpaint_lib.report.execute --cwd . -k python3 --log-level WARNING --no-progress-bar \
	  -p params_file $(2) -p profile $(PROFILE) $(1) $@.tmp.ipynb 2>&1 \
	  | { grep -v --line-buffered -e 'running over TCP without encryption' \
	      -e 'KeyboardInterrupt caught in kernel' || true; } >&2 \
	  || { echo "== $*: FAILED after $$(( $$(date +%s) - t0 )) s (executed part: $@.tmp.ipynb)" >&2; exit 1; }; \
	mv $@.tmp.ipynb $@; \
	printf '{"start": %s, "end": %s, "threads": %s, "jobs": %s}\n' $$t0_ns $$(date +%s.%N) \
	  $${OMP_NUM_THREADS:-$(THREADS)} $(JOBS) > $(TIMINGS)/$*.wall.json; \
	s=$$(( $$(date +%s) - t0 )); printf '== %s: done in %d min %02d s\n' '$*' $$((s / 60)) $$((s % 60))
endef

.PHONY: help env report test lab clean validate check shared-data bench notebooks publish gpu-partb
help:
	@echo "make report   [PROFILE=smoke|quick|full]  execute every notebook, render $(RES)/report.html"
	@echo "make test                                  the test suite (offline, CPU)"
	@echo "make lab                                   JupyterLab on the project's environment (notebooks/explore.ipynb)"
	@echo "make check                                 is every dataset and weight file of the profile here?"
	@echo "make publish                               shared data -> quick report -> $(PUBLISHED) (committable)"
	@echo "make validate | clean | bench | shared-data SHARED=../shared/data"
	@echo "make gpu-partb                             prepare .gpu/ for Part B on one GPU, print the run"
	@echo "make study-scale | study-scale-status      Part A (and Part B's phase 1) at the study's scale on this machine (hours)"
	@echo "make photo-network                         retrain the inpaint tool's shipped photo network"

# The environment is installed from requirements.lock: every dependency, direct and transitive,
# at one version with its hashes (pip refuses anything else), then the project itself without
# dependencies. `make lock` re-resolves pyproject.toml's dependencies into the lock (Linux
# x86_64, Python 3.11); commit both. Hash-checked, so the same commit installs the same bytes.
# Unpacked by the lock's own uv from the indexes pip is configured with (scripts/install_lock.py:
# 19 s instead of pip's 58 s here; pip where uv cannot be installed).
# Byte-compiled by compileall on every core (-j 0) instead of pip's one-at-a-time compile
# (--no-compile): 126 s -> 90 + 15 s for this lock here. Compiled at all because Python may not
# write what it compiles on import (PYTHONDONTWRITEBYTECODE, set on this machine and CI's): then
# every process compiled torch again, 5 s of CPU each; a fresh clone's `make test` spent 809 s of
# CPU instead of 489. Left out: test folders and torch's testing internals (one is Python 3.12 only).
COMPILE = $(1) -m compileall -q -j 0 -x '/site-packages/(.+/)?tests?/|/testing/_internal/' \
	  "$$($(1) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
LOCK := requirements.lock
env: $(ENV)
# opencv-contrib-python-headless replaced opencv-python-headless (issue 34): both write cv2/, so
# an environment that still has the old one gets both removed and the lock's reinstalled
OLD_CV2 = if $(1) -m pip show -q opencv-python-headless 2>/dev/null; then \
	  $(1) -m pip uninstall --quiet -y opencv-python-headless opencv-contrib-python-headless; fi
$(VENV)/.installed: $(LOCK) pyproject.toml scripts/install_lock.py
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(call OLD_CV2,$(VENV)/bin/python)
	$(VENV)/bin/python scripts/install_lock.py $(LOCK)
	$(VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(call COMPILE,$(VENV)/bin/python)
	touch $@
$(CONDA_PREFIX)/.inpaint-installed: $(LOCK) pyproject.toml environment.yml scripts/install_lock.py
	$(call OLD_CV2,python)
	python scripts/install_lock.py $(LOCK)
	python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(call COMPILE,python)
	touch $@

.PHONY: lock
lock: | $(ENV)
	$(PY) -m uv pip compile --quiet pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --annotation-style line \
	  --upgrade -o $(LOCK)

validate: $(RES)/.validated
$(RES)/.validated: $(PARAMS) params/cae.yaml params/vit.yaml $(PROFILE_FILE) $(wildcard inpaint_lib/schema/*.py) inpaint_lib/resolve.py | $(ENV)
	@mkdir -p $(@D)
	$(PY) -m inpaint_lib validate $(PARAMS) --profile $(PROFILE)
	touch $@

# Before any notebook runs: every dataset and the VGG weights the profile needs, one line per
# missing item (what, where it looked, the fix), exit 2 in seconds. It runs again whenever a
# notebook could re-execute (its prerequisites are all the notebooks'), and is order-only,
# so a check never makes a notebook out of date.
CHECK := $(PY) -m inpaint_lib check --profile $(PROFILE) --shared $(SHARED)
check: | $(ENV)
	$(CHECK)
$(RES)/.preflight: $(PARAMS) params/cae.yaml params/vit.yaml $(wildcard notebooks/*.ipynb) $(COMMON) | $(RES)/.validated
	$(CHECK)
	touch $@
READY := $(RES)/.validated $(RES)/.preflight
# Part A's notebooks score the runs committed at the study's scale (results/full, whatever
# RESULTS says): a newly committed run (`make study-scale`, or a pull) re-executes them. Not in
# the full profile, whose own notebooks write those runs.
STUDY_SCALE_RUNS := $(if $(filter full,$(PROFILE)),,$(wildcard results/full/runs/*/scores.json))
# Part B's phase 1 at the study's scale (`make study-scale` commits it too): its phase's section shows it
STUDY_SCALE_VIT := $(filter results/full/runs/vit-%,$(STUDY_SCALE_RUNS))

$(PART_A): $(NB_OUT)/%.ipynb: notebooks/%.ipynb params/%.yaml params/cae.yaml $(COMMON) $(STUDY_SCALE_RUNS) | $(READY)
	$(call papermill,$<,params/$*.yaml)

$(PHASES): $(NB_OUT)/%.ipynb: params/%.yaml notebooks/vit_phase.ipynb params/vit.yaml $(COMMON) $(STUDY_SCALE_VIT) | $(READY)
	$(call papermill,notebooks/vit_phase.ipynb,$<)

$(PART_B): $(NB_OUT)/%.ipynb: notebooks/%.ipynb params/%.yaml params/vit.yaml $(wildcard params/b[1-7]_phase*.yaml) $(COMMON) | $(READY)
	$(call papermill,$<,params/$*.yaml)

# the conclusions read the other notebooks' cached runs and scores (the crossover's too): last
$(SUMMARY): $(NB_OUT)/%.ipynb: notebooks/%.ipynb params/%.yaml $(PART_A) $(PHASES) $(PART_B) $(BEYOND) $(COMMON) | $(READY)
	$(call papermill,$<,params/$*.yaml)

# beyond the study (d1_crossover): needs no other notebook's runs; the conclusions quote it. It
# scores the photo network the tool ships beside its own: `make photo-network` re-executes it
SHIPPED := $(wildcard inpaint_lib/photo_network/card.json inpaint_lib/photo_network/weights.pt)
$(BEYOND): $(NB_OUT)/%.ipynb: notebooks/%.ipynb params/%.yaml $(COMMON) $(SHIPPED) | $(READY)
	$(call papermill,$<,params/$*.yaml)

notebooks: $(NOTEBOOKS)
report: $(RES)/report.html $(RES)/methods.json
# the first screen's block compares this run's findings with the published copy's (beside it)
$(RES)/report.html: $(NOTEBOOKS) inpaint_lib/report/build.py $(wildcard docs/report.findings.json)
	@mkdir -p $(TIMINGS); t0=$$(date +%s.%N); \
	$(PY) -m inpaint_lib report --profile $(PROFILE); \
	printf '{"start": %s, "end": %s}\n' $$t0 $$(date +%s.%N) > $(TIMINGS)/report.wall.json

# the inpaint tool's default network, from the notebooks' cached evaluations (inpaint_lib/tool/ranking.py)
$(RES)/methods.json: $(NOTEBOOKS)
	$(PY) -m inpaint_lib rank-networks --profile $(PROFILE)

# The committed report: the quick report from the shared real images, figures re-encoded,
# images of sets that may not be redistributed removed, dataset credits added, and the
# findings its first screen was rendered from copied beside it (docs/report.findings.json:
# what `python -m inpaint_lib compare-published` and every rendered report compare with;
# inpaint_lib/report/publish.py). PUBLISH_PROFILE=smoke PUBLISHED=/tmp/x.html tries it quickly.
PUBLISH_PROFILE ?= quick
PUBLISHED ?= docs/report.html
publish: | $(ENV)
	$(MAKE) --no-print-directory shared-data
	$(MAKE) --no-print-directory report PROFILE=$(PUBLISH_PROFILE)
	$(PY) -m inpaint_lib publish --profile $(PUBLISH_PROFILE) --out $(PUBLISHED)

# two pytest workers, one file each at a time (pytest-xdist), the files in the order tests/conftest.py
# collects them (--no-loadscope-reorder: not the most tests first): the smoke report's tests
# (tests/test_smoke_report.py, one build shared) on one core, the rest of the suite on the other
test: $(ENV)
	$(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder

# JupyterLab refuses to run as root (a container, a cloud notebook machine) without --allow-root
lab: $(ENV)
	$(PY) -m ipykernel install --sys-prefix --name inpaint --display-name "Python (inpaint)"
	$(PY) -m jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

# the benchmarks measure peak memory as resident-set growth, which a heap that keeps freed
# memory would understate: they run with glibc's default allocator, as their saved results did
bench: $(ENV)
	env -u MALLOC_MMAP_THRESHOLD_ -u MALLOC_TRIM_THRESHOLD_ -u MALLOC_TOP_PAD_ \
	  $(PY) -m benchmarks.bench --try-compile --out results/bench

shared-data: $(ENV)
	$(PY) -m inpaint_lib unpack-shared $(SHARED)

# Every run of the profile trained as parallel Dask jobs (inpaint_lib/jobs.py; Part B phases
# chained), WORKERS worker processes here; `make report` afterwards only reads the run cache.
WORKERS ?= 2
.PHONY: train-all
train-all: $(RES)/.validated
	$(PY) -m inpaint_lib jobs --profile $(PROFILE) --workers $(WORKERS)

# Part A at the study's own scale on this machine (inpaint_lib/study_scale.py; README "Part A at
# the study's scale"), and Part B's phase 1 (the study's ViT at 224 px, inpaint_lib/study_scale_vit.py):
# the sixteen planned full-profile runs that are missing, one at a time, from
# the commit pinned in results/full/study-scale.json (a worktree in .study-scale/), each process
# recorded beside its run (segments.json), each run recorded in study-scale.json and committed
# under results/full/runs/ when it finishes, if every process came from the pinned commit. Stop it
# at any moment; run it again to continue.
# One torch thread by default: a background job with two threads stalls whenever anything else
# holds a core (each parallel step waits for its starved thread); STUDY_THREADS=2 on a quiet
# machine. Its idle OpenMP threads sleep rather than spin (OMP_WAIT_POLICY=passive): beside other
# work, a spinning thread burns the core the other one needs (a 2-thread CAE epoch 2-3x slower
# here under load; the bits do not depend on it).
STUDY_THREADS ?= 1
.PHONY: study-scale study-scale-status
study-scale: | $(ENV)
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-passive} nice -n 19 $(PY) -m inpaint_lib study-scale --commit --threads $(STUDY_THREADS)
study-scale-status: | $(ENV)
	$(PY) -m inpaint_lib study-scale --status

# The photo network the inpaint tool ships (inpaint_lib/photo_network/: weights, card with
# its crossover tables and provenance): retrained from scratch at the full photo profile (the pet
# training photos less the 10% held out whole for validation, 2 crops of each, 40 epochs; about
# an hour on 2 cores here, README), scored on the validation photos (where choices are made) and
# on the test photos (the tool's table).
.PHONY: photo-network
photo-network: | $(ENV)
	$(MAKE) --no-print-directory shared-data
	nice -n 10 $(PY) -m inpaint_lib photo-network --profile full

clean:
	rm -rf $(RES)

# Part B at the study's scale on one GPU (inpaint_lib/gpu_partb.py; README "Part B at the
# study's scale on one GPU"): .gpu/ (ignored) gets the wheels of pydantic and its needs at this
# environment's versions for the GPU machine's Python 3.12, and the pets and boats squashed to
# 224x224 and re-encoded as JPEG quality GPU_QUALITY; then the device `run` call is printed.
GPU_DIR := .gpu
GPU_QUALITY ?= 80
GPU_EPOCH_SCALE ?= 0.45
GPU_WHEELS = $(shell $(PY) -c "import importlib.metadata as m; print(' '.join(n + '==' + m.version(n) for n in ('pydantic', 'pydantic-core', 'annotated-types', 'typing-inspection', 'typing-extensions')))")
GPU_RUN = python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site $(GPU_DIR)/whl/*.whl && export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 && python3 -m inpaint_lib gpu-partb run --pack $(GPU_DIR) --out $$OUT --epoch-scale $(GPU_EPOCH_SCALE)
gpu-partb: | $(ENV)
	$(MAKE) --no-print-directory shared-data
	rm -rf $(GPU_DIR)/whl && mkdir -p $(GPU_DIR)/whl
	$(PY) -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
	  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
	  -d $(GPU_DIR)/whl $(GPU_WHEELS)
	$(PY) -m inpaint_lib gpu-partb pack --dest $(GPU_DIR) --quality $(GPU_QUALITY)
	@echo "== the device call (timeout_s 600, carry [\"$(GPU_DIR)\"]):"
	@echo '$(GPU_RUN)'
	@echo "== then: $(PY) -m inpaint_lib gpu-partb collect FILES_AT   (into results/full-gpu/)"
