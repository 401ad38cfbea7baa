# The course's commands. Each bootstraps .venv from requirements.txt when it is missing or stale.
#   make book       build the HTML into _build/html (the Korean edition into _build/html/ko)
#   make test       lint, unit tests, every notebook under nbval (on this machine's kernels, then on
#                   foreign ones), hygiene, strict build, browser tests, the PDF, the reader's path
#                   (every notebook in a fresh unpinned environment) and a --quick benchmark run
#   make floors     unit tests with every dependency at the lowest version pyproject.toml allows
#   make notebooks  re-execute every notebook in place with clean outputs (and refresh book/status.md)
#   make pdf        the whole book as one PDF in _build/pdf/ (printed offline by Chromium), checked
#   make bench      run the benchmarks (results in benchmarks/results/)
#   make lab        open JupyterLab in the course environment

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Single-threaded BLAS: printed digits must not depend on the core count.
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export PYTHONHASHSEED := 0
unexport MPLBACKEND
NB ?= book/*.ipynb

.PHONY: help venv book pdf test lint unit nbval portability hygiene build browser reader-path floors notebooks \
	gpu-wheels gpu-check bench bench-quick lab clean

help:
	@sed -n '2,11p' Makefile

# Where pip takes torch from. Empty (default): the configured index. On PyPI, Linux x86-64 gets the CUDA
# build (several GB). For the CPU-only build: make book TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
TORCH_INDEX_URL ?=
TORCH_VERSION := $(shell sed -n 's/^torch==//p' requirements.txt)

$(STAMP): requirements.txt requirements-triton.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(if $(TORCH_INDEX_URL),$(BIN)/python -m pip install --quiet torch==$(TORCH_VERSION) --index-url $(TORCH_INDEX_URL))
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -c "import triton" 2>/dev/null || $(BIN)/python -m pip install --quiet -r requirements-triton.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

# Both editions: English in _build/html, Korean (locales/ko, tools/i18n.py) in _build/html/ko.
book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	$(BIN)/python tools/i18n.py build
	@echo "The book is in _build/html: open file://$(CURDIR)/_build/html/index.html (Korean: ko/index.html)"

# make test: each step stops the run on failure, in this order.
test: lint unit nbval portability hygiene build browser pdf reader-path bench-quick
	@echo "make test: all steps passed"

lint: $(STAMP)
	$(BIN)/ruff check mathcore tests tests_browser tools benchmarks book/_ext
	$(BIN)/python tools/lint_notebooks.py

# The docstring examples of mathcore run as tests too (--doctest-modules).
unit: $(STAMP)
	$(BIN)/python -m pytest tests mathcore --doctest-modules -n 2 --dist loadfile -q \
		--ignore=tests/test_notebook_hygiene.py

nbval: $(STAMP)
	$(BIN)/python -m pytest $(NB) -n 2 --dist loadfile -q --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600

# The stored outputs must not depend on the numeric kernels that produced them: run every notebook again
# under PyTorch's non-vectorised CPU kernels, an OpenBLAS core type other than this machine's and two
# threads. A failure names the notebook and cell whose stored output is not portable.
CORETYPE := $(if $(filter aarch64 arm64,$(shell uname -m)),ARMV8,Prescott)
FOREIGN_KERNELS := ATEN_CPU_CAPABILITY=default OPENBLAS_CORETYPE=$(CORETYPE) OMP_NUM_THREADS=2 \
	MKL_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
portability: $(STAMP)
	$(FOREIGN_KERNELS) $(BIN)/python -m pytest $(NB) -n 2 --dist loadfile -q --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600

hygiene: $(STAMP)
	$(BIN)/python -m pytest tests/test_notebook_hygiene.py -q

build: $(STAMP)
	rm -rf _build/html
	$(BIN)/jupyter-book build . -W -n --keep-going
	$(BIN)/python tools/i18n.py build

# One PDF of the whole book: a single-page HTML build printed by headless Chromium, then checked
# (pages, every chapter title, no raw LaTeX, a CJK font embedded). See tools/build_pdf.py.
pdf: $(STAMP)
	$(BIN)/python tools/build_pdf.py

browser: $(STAMP)
	$(BIN)/python -m pytest tests_browser -q

# Every notebook as a reader runs it: a fresh environment, no pins, the first cell installing mathcore.
reader-path: $(STAMP)
	$(BIN)/python tools/check_reader_path.py

# The unit tests with each dependency at its floor in pyproject.toml (torch stays at the CPU build
# 2.13.0: older releases on PyPI are multi-GB CUDA builds).
floors: $(STAMP)
	$(BIN)/python tools/check_floors.py

notebooks: $(STAMP)
	$(BIN)/python tools/run_notebooks.py $(NB)

# The GPU check (tools/gpu_check.py): `make gpu-wheels` here fetches what the GPU machine lacks into
# .whl/; `make gpu-check` runs the check (on a CPU-only machine: a rehearsal that skips the GPU parts).
gpu-wheels: $(STAMP)
	$(BIN)/python tools/gpu_check.py prepare

gpu-check: $(STAMP)
	$(BIN)/python tools/gpu_check.py run --out _build/gpu-check

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run_all.py --quick

lab: $(STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name mathcore-course --display-name "Logistic regression course"
	$(BIN)/jupyter lab book/

clean:
	rm -rf _build
