# macformer-lra: every target installs what it needs first (a fresh clone needs no set-up).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The torch to install when the venv has none. On a plain PyPI machine this is the
# CUDA build; on machines with a local CPU wheel pip takes that file. Override with
# e.g. TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cu124".
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?=
# The lock: every dependency of the runtime and the dev extra but torch, pinned with the
# hashes of PyPI's files. LOCKED=0 installs pyproject's open ranges instead (to embed the
# harness in an environment of your own; after a locked install, `rm $(VENV)/.installed`).
LOCK ?= requirements.lock
LOCKED ?= 1

.PHONY: install lock test test-slow test-all lint clean toy bench data

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip setuptools wheel
	@# Keep an existing torch (a user's CUDA build); install TORCH_SPEC only if absent.
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install $(TORCH_SPEC)
ifeq ($(LOCKED),0)
	$(PY) -m pip install -e ".[dev]"
else
	$(PY) -m pip install --require-hashes -r $(LOCK)
	$(PY) -m pip install --no-deps -e .
endif
	touch $@

# Re-resolves the lock with uv (installed into the venv when missing), keeping the pins
# that still fit pyproject; LOCK_UPGRADE=1 moves every pin to its newest release. It is
# universal (every platform, Python from requires-python's floor up) and resolved beside
# LOCK_TORCH, which is left out with its CUDA-only dependencies (nvidia-*, cuda-*): what
# that torch pins exactly (triton) is locked at its version, so its CPU and CUDA builds fit.
LOCK_TORCH ?= $(firstword $(TORCH_SPEC))
LOCK_PYTHON ?= 3.10
LOCK_INDEX ?= https://pypi.org/simple
LOCK_UPGRADE ?= 0
UV := $(VENV)/bin/uv
LOCK_RESOLVE = pyproject.toml --extra dev --universal --python-version $(LOCK_PYTHON) \
	--no-config --index-url $(LOCK_INDEX) -c $(VENV)/lock-torch.txt -q

lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install "uv>=0.5"
	echo "$(LOCK_TORCH)" > $(VENV)/lock-torch.txt
	cuda=$$($(UV) pip compile $(LOCK_RESOLVE) --no-header --no-annotate | grep -oE '^(nvidia|cuda)-[^=]+' | sort -u); \
		$(UV) pip compile $(LOCK_RESOLVE) --generate-hashes --custom-compile-command "make lock" \
		$(if $(filter 1,$(LOCK_UPGRADE)),--upgrade) $$(printf -- ' --no-emit-package %s' torch $$cuda) -o $(LOCK)

# The fast tier: every test except the end-to-end ones marked `slow` (tests/conftest.py).
test: install
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# The slow end-to-end tier alone; `make test-all` is both tiers (CI runs them one after the other).
test-slow: install
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

# Every test, the slow end-to-end ones included.
test-all: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check src tests benchmarks

# Toy experiments (approximation error, ppSBN, variance vs theory) and the attention
# speed/memory benchmark; each takes under 15 minutes on 2 CPU cores. BENCH_ARGS, e.g.
# `make bench BENCH_ARGS="--device cuda"`, or `--targets` for the speed targets only.
TOY_ARGS ?=
BENCH_ARGS ?=

toy: install
	$(PY) benchmarks/approximation.py --out results/toy $(TOY_ARGS)

bench: install
	$(PY) benchmarks/attention_speed.py --out results/bench --verbose $(BENCH_ARGS) 2> >(grep -v "^USDT" >&2)

# How peaked each attention is beside the bound its scaling allows (why a row learns or not).
.PHONY: peakedness gpu-check
peakedness: install
	$(PY) benchmarks/attention_peakedness.py --out results/peakedness

# On one GPU: the ListOps paper protocol, softmax / rfa / rmfa causal / rmfa non-causal /
# kernelized causal side by side (~10 minutes on an H100), then the paper report.
GPU_CHECK_ARGS ?=
gpu-check: install
	$(PY) benchmarks/gpu_listops_check.py --data-dir $(DATA_DIR) --results-dir $(REPORT_DIR) $(GPU_CHECK_ARGS)

# Data: generates ListOps and Pathfinder-32 (full LRA sizes by default), fetches IMDb and
# CIFAR-10 when online, downloads the LRA release for Retrieval and Path-X when it is not
# under DATA_DIR, builds the processed caches, and prints a table of ready / missing tasks.
# DATA_ARGS, e.g. "--offline", "--no-lra-download", "--only listops pathfinder", "--force".
DATA_DIR ?= data
DATA_SEED ?= 0
LISTOPS_TRAIN ?= 96000
LISTOPS_VAL ?= 2000
LISTOPS_TEST ?= 2000
PATHFINDER_COUNT ?= 200000
DATA_ARGS ?=
# What a profile's data needs (set by reproduce-lra, e.g. --offline for smoke); DATA_ARGS adds to it.
PROFILE_DATA_ARGS ?=

data: install
	$(PY) -m macformer.data.prepare --data-dir $(DATA_DIR) --seed $(DATA_SEED) \
		--listops-train $(LISTOPS_TRAIN) --listops-val $(LISTOPS_VAL) --listops-test $(LISTOPS_TEST) \
		--pathfinder-count $(PATHFINDER_COUNT) $(PROFILE_DATA_ARGS) $(DATA_ARGS)

# The aggregator: every results/runs/**/summary.json -> one folder per profile,
# results/<profile>/{accuracy,efficiency,published}.{md,csv}, accuracy.png, efficiency.png
# and curves_<task>.png; it fails, writing nothing, when there is no summary to report.
# REPORT_ARGS, e.g. "--format latex", "--profile cpu" (only results/cpu/) or "--wandb" (each
# profile's tables, plots and curves as one W&B run in the sweep's group).
.PHONY: report
RUNS_DIR ?= results/runs
REPORT_DIR ?= results
REPORT_ARGS ?=

report: install
	$(PY) -m macformer.report --runs $(RUNS_DIR) --out $(REPORT_DIR) $(REPORT_ARGS)

# Everything from a fresh clone: install, data (at the profile's generated sizes), the
# sweep (resumes when re-run), the report. PROFILE=auto: paper with a CUDA GPU, else cpu;
# PROFILE=smoke is a ~3-minute wiring check. REPRODUCE_ARGS, e.g. "--tasks listops"
# or "logger=wandb" (Hydra overrides for every run). DATA_ARGS adds to the profile's own.
.PHONY: reproduce-lra
PROFILE ?= auto
REPRODUCE_ARGS ?=
PROFILES := auto $(sort $(basename $(notdir $(wildcard conf/profile/*.yaml))))

# An unknown PROFILE stops make at once, before install or data (not a full-size `make data`).
ifneq ($(filter reproduce-lra plan verify,$(MAKECMDGOALS)),)
ifeq ($(filter $(PROFILE),$(PROFILES)),)
$(error PROFILE=$(PROFILE) is not a profile; choose from $(PROFILES))
endif
endif

reproduce-lra: install
	@profile=$$($(PY) -m macformer.reproduce --profile $(PROFILE) --print-profile) || exit 2; \
		echo "reproduce-lra: PROFILE=$(PROFILE) resolves to $$profile"
	@vars=$$($(PY) -m macformer.reproduce --profile $(PROFILE) --print-data-vars) || exit 2; \
		eval $(MAKE) --no-print-directory data $$vars
	$(PY) -m macformer.reproduce --profile $(PROFILE) --data-dir $(DATA_DIR) \
		--results-dir $(REPORT_DIR) $(REPRODUCE_ARGS)

# The costed plan of `make reproduce-lra`, measured on this device (calibrations are cached
# in results/calibration/), without running it; e.g. REPRODUCE_ARGS="--sweep core,ablations".
.PHONY: plan
plan: install
	$(PY) -m macformer.reproduce --profile $(PROFILE) --data-dir $(DATA_DIR) \
		--results-dir $(REPORT_DIR) --plan $(REPRODUCE_ARGS)

# Check a committed report: re-run its cheapest completed cell (or CELL=task/row/seedK) from
# the cell's recorded command line in a temporary folder and compare steps and accuracy with
# its committed summary (exit 1 when they differ), e.g. make verify PROFILE=cpu.
.PHONY: verify
CELL ?=
verify: install
	@profile=$$($(PY) -m macformer.reproduce --profile $(PROFILE) --print-profile) || exit 2; \
		$(PY) -m macformer.reproduce --verify $(REPORT_DIR)/$$profile --data-dir $(DATA_DIR) \
		$(if $(CELL),--cell $(CELL))

clean:
	rm -rf $(VENV) .pytest_cache

# Train one configuration (or a sweep with ARGS="-m ..."), e.g.
#   make train ARGS="task=listops attention=rmfa kernel=inverse profile=cpu"
# The same as `$(VENV)/bin/macformer-train ARGS` (console scripts: macformer-train,
# macformer-report, macformer-reproduce, macformer-data).
ARGS ?=
.PHONY: train
train: install
	$(VENV)/bin/macformer-train $(ARGS)

# On one GPU, in about a minute: the attention speed table (bf16 inputs, N = 1K ... 64K,
# rmfa on its Triton and reference paths), kernel launches and the ListOps
# training-throughput table at N = 2048 and 4096, every target as PASS/FAIL, in results/gpu-speed/.
.PHONY: gpu-speed
GPU_SPEED_ARGS ?=
gpu-speed: install
	$(PY) benchmarks/gpu_speed.py --out results/gpu-speed $(GPU_SPEED_ARGS)
