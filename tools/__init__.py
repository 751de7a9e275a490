"""The course's tools, each a module of this package, run from the repository root as
``python -m tools.<name>`` (``--help`` says how); the Makefile's targets call them so.

- ``tools.course``: execute the notebooks (fast or full settings) and build the book
  (``make book``); the tests import it for the same work
- ``tools.claims``: the checks of what each notebook's text says about its numbers,
  one file per notebook, run by ``tools.course`` after each execution
- ``tools.sweep``: re-run the seed sweeps, or some seeds of them, and merge the parts
  (``make sweep``)
- ``tools.budget``: train notebook 10's capstone for a time budget: the search, the goal
  runs and the baseline's curve (``make budget``)
- ``tools.pdf``: the book as one PDF, checked for every chapter, figure and character
  (``make pdf``)
- ``tools.assignments``: the teacher's edition: a student version and an Otter-Grader
  autograder of every notebook (``make assignments``)
- ``tools.limits``: the memory, CPU-time and process limits a graded submission runs
  within, and the log that names the cell that reached one
- ``tools.grading``: grade one submission, a notebook or the capstone's saved model
  (``make grade``)
- ``tools.gradebook``: grade a folder of submissions into a gradebook, a summary, a figure
  and the open answers question by question (``make grade`` with a folder); the teachers'
  page's example class
- ``tools.compat``: run the notebooks with the oldest and the newest versions the helpers
  allow (``make compat``)
- ``tools.notebook_header``: write each notebook's Colab badge and set-up cell from
  ``_config.yml``
- ``tools.renumber``: after a notebook is inserted into ``_toc.yml``, rename the notebooks
  whose place changed and rewrite every reference to their numbers

This list is the one list of the tools: the README and CONTRIBUTING.md refer to it, and a
test checks that it names every module of the package. The tools import each other as
``from tools import course``, and the tests import them the same way; nothing edits
``sys.path``, so a process holds one copy of each.
"""
