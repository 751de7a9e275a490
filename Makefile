# The course's commands. Each target sets up what it needs on a fresh machine.
#   make book   execute every notebook (full settings) and build _build/html
#   make test   run all tests: helpers, notebooks (fast settings), the book, a browser
#   make lab    start JupyterLab in the course's environment
#   make bench  measure training throughput and whole-course execution time
#   make sweep  re-run the experiments of notebooks 03 and 05-07 over 5 seeds (~40 min)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.ready
SHARED_DATA := $(abspath ../shared/data/fashion-mnist)
# Use the local copy of Fashion-MNIST beside the repository when there is one.
export FASHION_MNIST_DIR ?= $(if $(wildcard $(SHARED_DATA)/*.gz),$(SHARED_DATA))
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: book test lab bench sweep lint lock clean

$(READY): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

book: $(READY)
	$(PY) tools/course.py book --profile full

test: $(READY)
	$(PY) -m pytest

lab: $(READY)
	$(VENV)/bin/jupyter lab notebooks/

bench: $(READY)
	$(PY) -m benchmarks

sweep: $(READY)
	$(PY) tools/sweep.py

lint: $(READY)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

lock:
	rm -rf /tmp/course-lock && $(PYTHON) -m venv /tmp/course-lock
	/tmp/course-lock/bin/pip install --quiet -r requirements.in
	/tmp/course-lock/bin/pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf _build
