# The course's commands. Each target sets up what it needs on a fresh machine.
#   make book   execute every notebook (full settings) and build _build/html
#   make test   run all tests: helpers, notebooks (fast settings), the book, a browser
#   make test-quick   the tests that run no notebook, build no book and open no browser
#   make lab    start JupyterLab in the course's environment
#   make bench  measure training throughput and whole-course execution time
#   make sweep  re-run the seed sweeps (helpers.sweeps.EXPERIMENTS; ~2.5 h; SWEEP=<name>: one;
#               SEEDS=0,1: those seeds only, a partial result for make sweep-merge SWEEP=<name>)
#   make budget the capstone's runs under a time budget (notebook 10; ~2 h, nothing else running)
#   make compat run the notebooks (fast) with the oldest and newest versions the helpers allow
#   make pdf    the book as one PDF (_build/pdf/fashion-mnist-cnns.pdf), with XeLaTeX
#   make assignments   student versions and Otter-Grader autograders (_build/assignments)
#   make grade NB=03 SUBMISSION=path.ipynb   grade one submission (.keras: the capstone's model;
#               a folder: a gradebook of every submission in it; ARGS="--memory 2G": limits)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.ready
SHARED_DATA := $(abspath ../shared/data/fashion-mnist)
# Use the local copy of Fashion-MNIST beside the repository when there is one.
export FASHION_MNIST_DIR ?= $(if $(wildcard $(SHARED_DATA)/*.gz),$(SHARED_DATA))
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: book test test-quick lab bench sweep budget compat pdf pdf-deps assignments grade lint lock clean

$(READY): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# The course's JupyterLab settings (jupyter/overrides.json5) in the environment's
# settings directory, where every `jupyter lab` of .venv applies them.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.d/overrides.json5
$(LAB_SETTINGS): jupyter/overrides.json5 $(READY)
	install -D -m 644 $< $@

book: $(READY)
	$(PY) -m tools.course book --profile full

test: $(READY) $(LAB_SETTINGS)
	$(PY) -m pytest

# For the edit-test loop: about two minutes on 2 cores.
test-quick: $(READY)
	$(PY) -m pytest -m "not notebooks and not book"

# The repository is JupyterLab's root (the notebooks' links to book/ work) and the
# notebooks folder the page it opens. tests/test_lab.py starts JupyterLab with these
# same arguments.
lab: $(READY) $(LAB_SETTINGS)
	$(VENV)/bin/jupyter lab --LabApp.default_url=/lab/tree/notebooks

bench: $(READY)
	$(PY) -m benchmarks

sweep: $(READY)
	$(PY) -m tools.sweep $(SWEEP) $(if $(SEEDS),--seeds $(SEEDS))

budget: $(READY)
	$(PY) -m tools.budget search
	$(PY) -m tools.budget goal --seconds 300,600
	$(PY) -m tools.budget baseline --seconds 300

# The partial results of SWEEP (each machine's `make sweep SWEEP=... SEEDS=...`), copied
# into _build/sweeps/<name>/ or named in PARTS, merged into helpers/results.
.PHONY: sweep-merge
sweep-merge: $(READY)
	@test -n "$(SWEEP)" || { echo "usage: make sweep-merge SWEEP=<name> [PARTS='folder ...']" >&2; exit 2; }
	$(PY) -m tools.sweep merge $(SWEEP) $(PARTS)

# Fresh environments outside .venv (python -m tools.compat): the helpers' wheel with the oldest
# and with the newest versions pyproject.toml allows; every notebook, fast profile.
compat: $(READY)
	$(PY) -m tools.compat

# The PDF: executes what changed (full settings), then Jupyter Book's LaTeX builder.
pdf: $(READY) pdf-deps
	$(PY) -m tools.pdf --profile full

# TeX Live for the PDF (and its test in make test), installed with apt-get where missing.
pdf-deps: $(READY)
	@need="$$($(PY) -m tools.pdf --missing-packages)"; \
	if [ -n "$$need" ]; then \
	  command -v apt-get >/dev/null || { echo "The PDF needs TeX Live with XeLaTeX, latexmk" \
	    "and xindy; install them (Debian names: $$need) and run again." >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need; \
	fi

# The teacher's edition (tools.assignments, tools.grading; the book's page for teachers).
assignments: $(READY)
	$(PY) -m tools.assignments

grade: $(READY)
	@test -n "$(NB)" -a -n "$(SUBMISSION)" || { echo "usage: make grade NB=03 SUBMISSION=path/to/03_training.ipynb (or a folder)" >&2; exit 2; }
	$(PY) -m tools.grading "$(NB)" "$(SUBMISSION)" $(ARGS)

lint: $(READY)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

lock:
	rm -rf /tmp/course-lock && $(PYTHON) -m venv /tmp/course-lock
	/tmp/course-lock/bin/pip install --quiet -r requirements.in
	/tmp/course-lock/bin/pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf _build
