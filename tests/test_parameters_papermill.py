"""A bad parameter given to papermill stops the notebook at the cell right after the
parameters cell, with a readable ParameterError, before any data is loaded.

The values are written as on papermill's command line (``-p EPOCHS -1``) and turned
into Python values exactly as ``-p`` does. What every notebook must do is checked in its
code: the cell right after its parameters cell passes every parameter to
``check_params``, and each bad value gives the error below. Three runs, each in a kernel
of the tests' profile (``course.kernel_env("fast")``), show that the error stops a real
run there: a bad value through papermill's Python API, the same through its command line
(what a teacher types), and a parameter the notebook does not have. Each takes a few
seconds: the error comes from the first cells. They are marked ``notebooks``.
"""

from __future__ import annotations

import subprocess
import sys

import nbformat
import papermill
import pytest
from papermill.cli import _resolve_type as resolve_cli_value  # how `-p NAME VALUE` parses VALUE
from papermill.exceptions import PapermillExecutionError

from conftest import ROOT, course

pytestmark = pytest.mark.timeout(300)

NOTEBOOKS = ROOT / "notebooks"
NAMES = [entry.split("/")[-1] for entry in course.toc_notebooks()] + ["_template"]
ERROR_CELL_TAG = "papermill-error-cell-tag"  # papermill's red banner before the failing cell

CASES = [
    # notebook, parameter, the value as typed after `-p NAME`
    ("01_data_preparation", "SEED", "five"),
    ("01_data_preparation", "BATCH_SIZE", "-1"),
    ("01_data_preparation", "VAL_FRACTION", "1000000000"),
    ("02_cnn_components", "SEED", "five"),
    ("02_cnn_components", "IMAGE_INDEX", "1000000000"),
    ("03_training", "EPOCHS", "-1"),
    ("03_training", "SEED", "five"),
    ("03_training", "TRAIN_SIZE", "1000000000"),
]


def _param(notebook: str, name: str, typed: str):
    return pytest.param(notebook, name, typed, id=f"{notebook}--p-{name}-{typed}")


def _kernel_env(monkeypatch) -> None:
    """The kernel inherits this process's environment: make it the fast profile's."""
    for key, value in course.kernel_env("fast").items():
        monkeypatch.setenv(key, value)


def _parameters_cell(nb) -> int:
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"expected one cell tagged 'parameters', found {len(tagged)}"
    return tagged[0]


def _check_preconditions(source, name: str) -> None:
    """The case is meaningful: the notebook has the parameter and validates it next."""
    nb = nbformat.read(source, as_version=4)
    p = _parameters_cell(nb)
    assert f"\n{name} =" in "\n" + nb.cells[p].source, f"{source.name} has no parameter {name}"
    check = nb.cells[p + 1].source.replace(" ", "")
    assert f"{name}={name}" in check, (
        f"{source.name}: the cell after the parameters does not check_params({name}={name})"
    )


def _assert_stopped_at_check_params(output, name: str, value) -> None:
    nb = nbformat.read(output, as_version=4)
    injected = [
        i for i, c in enumerate(nb.cells) if "injected-parameters" in c.metadata.get("tags", [])
    ]
    assert len(injected) == 1, "papermill injected the parameters"
    assert "parameters" in nb.cells[injected[0] - 1].metadata.get("tags", [])
    following = [
        (i, c)
        for i, c in enumerate(nb.cells)
        if i > injected[0] and ERROR_CELL_TAG not in c.metadata.get("tags", [])
    ]
    i, failing = following[0]
    assert failing.cell_type == "code" and "check_params(" in failing.source
    errors = [o for o in failing.outputs if o.output_type == "error"]
    assert errors and errors[0].ename == "ParameterError", "the check_params cell raised"
    assert f"{name} = {value!r}" in errors[0].evalue
    ran_later = [
        j for j, c in following[1:] if c.cell_type == "code" and (c.execution_count or c.outputs)
    ]
    assert not ran_later, f"cells {ran_later} ran after the failing check_params cell"
    ran_before = [c for c in nb.cells[: injected[0]] if c.cell_type == "code"]
    assert all(c.execution_count for c in ran_before), "the cells before it did run"


@pytest.mark.parametrize("notebook", NAMES)
def test_every_parameter_is_checked_right_after_the_parameters_cell(notebook):
    """The cell after the parameters cell passes every parameter to ``check_params``: a
    bad value stops there, and so does a parameter papermill was given that the notebook
    does not have (``check_params`` refuses any injected name it was not passed)."""
    source = NOTEBOOKS / f"{notebook}.ipynb"
    declared = list(papermill.inspect_notebook(str(source)))
    assert declared, f"{notebook} declares no parameter"
    for name in declared:
        _check_preconditions(source, name)


@pytest.mark.parametrize("notebook, name, typed", [_param(*case) for case in CASES])
def test_a_bad_value_is_refused_naming_it(notebook, name, typed):
    """Each bad value, as ``-p`` turns it into Python, gives the error the run shows."""
    from helpers.params import ParameterError, check_params

    _check_preconditions(NOTEBOOKS / f"{notebook}.ipynb", name)
    value = resolve_cli_value(typed)
    with pytest.raises(ParameterError) as err:
        check_params(**{name: value})
    message = str(err.value)
    assert f"{name} = {value!r}" in message, "names the parameter and the value received"
    assert "expected" in message, "says what is expected"
    assert "Traceback" not in message


@pytest.mark.notebooks
def test_bad_parameter_stops_at_check_params(tmp_path, monkeypatch):
    """A run with ``-p EPOCHS -1`` stops at the check, before notebook 03 trains anything."""
    notebook, name, typed = "03_training", "EPOCHS", "-1"
    source = NOTEBOOKS / f"{notebook}.ipynb"
    _check_preconditions(source, name)
    value = resolve_cli_value(typed)
    parameters = {**course.profile_parameters("fast", notebook), name: value}
    _kernel_env(monkeypatch)
    output = tmp_path / f"{notebook}.ipynb"
    with pytest.raises(PapermillExecutionError) as err:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=parameters,
            cwd=str(NOTEBOOKS),
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=120,
        )
    error = err.value
    assert error.ename == "ParameterError"
    assert f"{name} = {value!r}" in error.evalue, "names the parameter and the value received"
    assert "expected" in error.evalue, "says what is expected"
    assert "-p option given to papermill" in error.evalue, "says what to do"
    assert "Traceback" not in error.evalue
    assert "check_params(" in error.source, "the failing cell is the check_params cell"
    _assert_stopped_at_check_params(output, name, value)


@pytest.mark.notebooks
def test_papermill_command_line(tmp_path, monkeypatch):
    """The command a teacher types: `papermill ... -p SEED five` exits non-zero, readably."""
    notebook = "01_data_preparation"
    source = NOTEBOOKS / f"{notebook}.ipynb"
    _check_preconditions(source, "SEED")
    output = tmp_path / f"{notebook}.ipynb"
    cmd = [sys.executable, "-m", "papermill", str(source), str(output)]
    cmd += ["-p", "SEED", "five", "-p", "PROFILE", "fast", "--cwd", str(NOTEBOOKS)]
    cmd += ["-k", "python3", "--no-progress-bar", "--execution-timeout", "120"]
    result = subprocess.run(
        cmd, env=course.kernel_env("fast"), capture_output=True, text=True, timeout=280
    )
    assert result.returncode != 0
    assert "ParameterError" in result.stderr
    assert "SEED = 'five' (str); expected a whole number" in result.stderr
    _assert_stopped_at_check_params(output, "SEED", "five")


@pytest.mark.notebooks
def test_a_parameter_the_notebook_does_not_have_stops_it(tmp_path, monkeypatch):
    """`-p EPOCH 1` (a misspelling) fails at once, naming EPOCH and the real parameters;
    papermill on its own only warns and runs the whole notebook with its defaults."""
    import time

    notebook = "02_cnn_components"
    source = NOTEBOOKS / f"{notebook}.ipynb"
    declared = list(papermill.inspect_notebook(str(source)))
    assert "EPOCH" not in declared
    _kernel_env(monkeypatch)
    output = tmp_path / f"{notebook}.ipynb"
    start = time.perf_counter()
    with pytest.raises(PapermillExecutionError) as err:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters={"PROFILE": "fast", "EPOCH": 1},
            cwd=str(NOTEBOOKS),
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=120,
        )
    seconds = time.perf_counter() - start
    error = err.value
    assert error.ename == "ParameterError"
    assert "no parameter EPOCH" in error.evalue and "-p EPOCH" in error.evalue
    assert all(name in error.evalue for name in declared), "lists the notebook's parameters"
    assert "check_params(" in error.source, "the failing cell is the check_params cell"
    nb = nbformat.read(output, as_version=4)
    failing = next(i for i, c in enumerate(nb.cells) if c.source == error.source)
    ran_later = [c for c in nb.cells[failing + 1 :] if c.cell_type == "code" and c.execution_count]
    assert not ran_later, "cells ran after the failing check_params cell"
    assert seconds < 60, f"took {seconds:.0f} s to fail; expected within seconds"


def test_the_course_tool_refuses_an_unknown_parameter_before_starting_a_kernel(monkeypatch):
    monkeypatch.setattr(course, "profile_parameters", lambda profile, name: {"EPOCH": 1})
    monkeypatch.setattr(course, "BUILD", course.BUILD / "unknown-parameter-test")
    with pytest.raises(course.NotebookFailed, match="01_data_preparation: has no parameter EPOCH"):
        course.execute("fast", ["01_data_preparation"], force=True)


def test_injected_names_reads_papermills_cell():
    from helpers.params import injected_names

    history = ["import sys", "# Parameters\nEPOCH = 1\nPROFILE = 'fast'\n", "x = 2"]
    assert injected_names(history) == ["EPOCH", "PROFILE"]
    assert injected_names(["SEED = 0"]) == []
    assert injected_names([]) == []


def test_boolean_and_string_rules(monkeypatch):
    from helpers import params

    monkeypatch.setitem(params._RULES, "AUGMENT", params._Rule(bool, description="True or False"))
    monkeypatch.setitem(
        params._RULES,
        "POOLING",
        params._Rule(str, choices=("max", "average"), description="'max' or 'average'"),
    )
    params.check_params(AUGMENT=True, POOLING="max")
    params.check_params(AUGMENT=False, POOLING="average")
    with pytest.raises(params.ParameterError, match=r"AUGMENT = 1 \(int\); expected True or False"):
        params.check_params(AUGMENT=1)
    with pytest.raises(params.ParameterError, match="POOLING = 'min'; expected 'max' or 'average'"):
        params.check_params(POOLING="min")
    with pytest.raises(params.ParameterError, match=r"SEED = True \(bool\)"):
        params.check_params(SEED=True)
