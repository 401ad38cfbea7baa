# The course's commands. Each bootstraps .venv from requirements.txt when it is missing or stale.
#   make book       build the HTML into _build/html
#   make test       lint, unit tests, every notebook under nbval, hygiene, strict build, browser tests,
#                   and a --quick smoke run of the benchmarks
#   make notebooks  re-execute every notebook in place with clean outputs (and refresh book/status.md)
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

.PHONY: help venv book test lint unit nbval hygiene build browser notebooks bench bench-quick lab clean

help:
	@sed -n '2,8p' Makefile

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is in _build/html: open file://$(CURDIR)/_build/html/index.html"

# make test: each step stops the run on failure, in this order.
test: lint unit nbval hygiene build browser bench-quick
	@echo "make test: all steps passed"

lint: $(STAMP)
	$(BIN)/ruff check mathcore tests tests_browser tools benchmarks book/_ext

unit: $(STAMP)
	$(BIN)/python -m pytest tests -n 2 --dist loadfile -q --ignore=tests/test_notebook_hygiene.py

nbval: $(STAMP)
	$(BIN)/python -m pytest $(NB) -n 2 --dist loadfile -q --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600

hygiene: $(STAMP)
	$(BIN)/python -m pytest tests/test_notebook_hygiene.py -q

build: $(STAMP)
	rm -rf _build/html
	$(BIN)/jupyter-book build . -W -n --keep-going

browser: $(STAMP)
	$(BIN)/python -m pytest tests_browser -q

notebooks: $(STAMP)
	$(BIN)/python tools/run_notebooks.py $(NB)

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run_all.py --quick

lab: $(STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name mathcore-course --display-name "Logistic regression course"
	$(BIN)/jupyter lab book/

clean:
	rm -rf _build
