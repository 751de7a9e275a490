"""Every exercise that says "change X in the parameters cell and run the notebook" works
as written.

The notebooks' text asks the student to rerun a notebook with other parameters
(``Try `IMAGE_INDEX = 7` ``, ``Train again with `BATCH_SIZE = 128` ``). Each such
instruction is found in the notebook's markdown, and must have an entry in
:data:`EXERCISES`; a new instruction without one fails
:func:`test_every_change_and_run_instruction_has_a_test`. Each entry executes the
notebook with papermill as the student would run it: ``PROFILE = "full"`` (the
parameters cell's default), the change the text asks for, and smaller sizes where the
change alone would take long. The run must reach the end; where the notebook compares
its run with a shipped seed sweep it says in one line that these are not the book's
settings; and the outputs show what the exercise asks about.

The executions are marked ``notebooks`` (each takes a minute or a few on two cores).
"""

from __future__ import annotations

import ast
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, course

NOTEBOOKS = ROOT / "notebooks"
NAMES = [entry.split("/")[-1] for entry in course.toc_notebooks()]
# PROFILE = "fast" is run for every notebook by tests/test_notebooks.py.
NOT_AN_EXERCISE = {"PROFILE"}
NOT_THE_BOOKS = "Not the book's settings ("
ASSIGNMENT = re.compile(r"`([A-Z][A-Z0-9_]*) *= *([^`\n]+?)`")
FENCE = re.compile(r"```.*?```", re.DOTALL)


def _value(text: str):
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()


# --------------------------------------------------------------------------- what each run shows


def _found(text: str, wanted: dict[str, str]) -> list[str]:
    """The descriptions in ``wanted`` (description: regex) whose regex ``text`` lacks."""
    return [what for what, pattern in wanted.items() if not re.search(pattern, text, re.I | re.M)]


def _image_shown(text: str, p: dict) -> list[str]:
    # the text: "Try `IMAGE_INDEX = 7`, a checked shirt"
    return _found(
        text,
        {f"test image {p['IMAGE_INDEX']} is a shirt": rf"image {p['IMAGE_INDEX']}\b.*\bShirt\b"},
    )


def _batch_size_shown(text: str, p: dict) -> list[str]:
    # "What happens to the number of steps per epoch, the time per epoch and the validation
    # accuracy?"
    steps = math.ceil(p["TRAIN_SIZE"] / p["BATCH_SIZE"])
    return _found(
        text,
        {
            f"batches of {p['BATCH_SIZE']}": rf"batches of {p['BATCH_SIZE']}\b",
            f"{steps} steps per epoch": rf"\b{steps:,} steps per epoch",
            "the time per epoch": rf"(\d+(\.\d+)? ?s per epoch|^{steps}/{steps} - \d+(\.\d+)?m?s\b)",
            "the validation accuracy": r"val_accuracy: \d\.\d+",
        },
    )


DROPOUT_VARIANTS = ["no dropout", "dense 0.5", "conv 0.5", "conv+dense 0.5", "conv+dense 0.2"]


def _gap_shown(text: str, p: dict) -> list[str]:
    # "Does dropout still help?" (the solution: training and validation accuracies
    # stay close together): the gap and the validation accuracy of every variant
    wanted = {
        f"{p['TRAIN_SIZE']} training images": rf"\b{p['TRAIN_SIZE']}\b|\b{p['TRAIN_SIZE']:,}\b",
        "the gap between training and validation accuracy": r"gap \(train\s*[−-]\s*validation\)",
        "the validation accuracy": r"validation accuracy",
    }
    wanted |= {f"the variant {v}": rf"^\s*{re.escape(v)}\s+\d" for v in DROPOUT_VARIANTS}
    return _found(text, wanted)


def _small_batches_shown(text: str, p: dict) -> list[str]:
    # "How do the batch statistics behave with such small batches, and what do you expect
    # for the model with batch normalization?": the BN model's accuracy and moving statistics
    steps = math.ceil(p["TRAIN_SIZE"] / p["BATCH_SIZE"])
    return _found(
        text,
        {
            "the model with batch normalization": r"^\s*BN, lr 0\.001\s+\d",
            "the moving variance after each epoch": r"recorded moving variance",
            f"how much of the start is left after one epoch of {steps} steps": (
                rf"share of the start left after one epoch: {0.99**steps:.3f}"
            ),
        },
    )


@dataclass(frozen=True)
class Exercise:
    notebook: str
    asks: dict  # the change the text asks for, as it writes it
    shows: Callable[[str, dict], list[str]]  # what the outputs lack of what the exercise asks about
    smaller: dict = field(default_factory=dict)  # sizes that keep the run short
    why: str = ""

    @property
    def id(self) -> str:
        return f"{self.notebook}:" + ",".join(f"{k}={v}" for k, v in self.asks.items())

    @property
    def parameters(self) -> dict:
        return {"PROFILE": "full", **self.asks, **self.smaller}


EXERCISES = [
    Exercise("02_cnn_components", {"IMAGE_INDEX": 7}, _image_shown),
    Exercise(
        "03_training",
        {"BATCH_SIZE": 128},
        _batch_size_shown,
        smaller={"TRAIN_SIZE": 3000, "EPOCHS": 1},
        why="exercise 03.4",
    ),
    Exercise(
        "06_dropout",
        {"TRAIN_SIZE": 54000, "EPOCHS": 5},
        _gap_shown,
        smaller={"EPOCHS": 1, "TEST_SIZE": 1000},
        why="exercise 06.5",
    ),
    Exercise(
        "07_batch_normalization",
        {"BATCH_SIZE": 8},
        _small_batches_shown,
        smaller={"TRAIN_SIZE": 2000, "EPOCHS": 1, "TEST_SIZE": 1000, "VAL_SIZE": 1000},
        why="exercise 07.5",
    ),
]


# --------------------------------------------------------------------------- the instructions


def _defaults(name: str) -> dict:
    import papermill

    declared = papermill.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))
    return {key: _value(p["default"]) for key, p in declared.items()}


def instructions(name: str) -> list[dict]:
    """The changes of parameters the notebook's text asks for: in each exercise (and in the
    prose before the first), the backticked `NAME = value` whose NAME is a parameter of the
    notebook and whose value is not its default."""
    defaults = _defaults(name)
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for part in re.split(r"(?=\*\*Exercise )", FENCE.sub("", cell.source)):
            change = {
                key: _value(value)
                for key, value in ASSIGNMENT.findall(part)
                if key in defaults and key not in NOT_AN_EXERCISE and _value(value) != defaults[key]
            }
            if change:
                found.append(change)
    return found


def test_the_instructions_are_found():
    """The finder reads what the text says (a check of the finder itself)."""
    assert {"IMAGE_INDEX": 7} in instructions("02_cnn_components")
    assert instructions("01_data_preparation") == [], "`VAL_FRACTION = 0.1` is the default"


def test_every_change_and_run_instruction_has_a_test():
    in_text = sorted(
        (name, sorted(change.items())) for name in NAMES for change in instructions(name)
    )
    in_table = sorted((e.notebook, sorted(e.asks.items())) for e in EXERCISES)
    assert in_text == in_table, (
        "the notebooks' instructions to change a parameter and run differ from EXERCISES:\n"
        f"  in the text only:  {[x for x in in_text if x not in in_table]}\n"
        f"  in the table only: {[x for x in in_table if x not in in_text]}"
    )


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_the_run_changes_only_parameters_the_notebook_has(exercise):
    defaults = _defaults(exercise.notebook)
    unknown = sorted(set(exercise.parameters) - set(defaults))
    assert not unknown, f"{exercise.notebook} has no parameters {unknown}"
    for key, value in exercise.smaller.items():
        if key in exercise.asks:
            assert value < exercise.asks[key], f"{key}: the smaller run asks for more"


# --------------------------------------------------------------------------- the runs


def _outputs(nb) -> str:
    """Everything the code cells printed or displayed as text, in order."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            else:
                parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _compares_with_a_sweep(name: str) -> bool:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    return any(c.cell_type == "code" and "sweeps.load(" in c.source for c in nb.cells)


def _run_as_written(exercise: Exercise, env: dict[str, str]) -> tuple[Path, Path, str]:
    """Execute the notebook as the student would, in a process of its own, with the
    student's own models folder and record (the course's are left alone). Returns the
    executed notebook, the record file, and the failing cell's error ('' if none)."""
    from helpers import claims
    from tools import compat

    folder = Path(tempfile.mkdtemp(prefix=f"as-written-{exercise.notebook}-"))
    output = folder / f"{exercise.notebook}.ipynb"
    record = folder / f"{exercise.notebook}.record.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            str(NOTEBOOKS / f"{exercise.notebook}.ipynb"),
            str(output),
            "--parameters_yaml",
            json.dumps(exercise.parameters),
            "--cwd",
            str(NOTEBOOKS),
            "--kernel",
            "python3",
            "--execution-timeout",
            "1200",
            "--no-progress-bar",
        ],
        env={**env, "COURSE_MODELS_DIR": str(folder / "models"), claims.RECORD_ENV: str(record)},
        capture_output=True,
        text=True,
    )
    error = ""
    if proc.returncode:
        nb = nbformat.read(output, as_version=4) if output.is_file() else None
        error = (compat.describe_error(nb) if nb is not None else "") or proc.stderr[-2000:]
    return output, record, error


def start_in_background(items, background) -> None:
    """Start the runs of the selected exercises in the test run's background workers
    (called by conftest.py once the tests are collected): each takes a minute or a few,
    and runs while other tests do."""
    env = course.kernel_env("fast")
    for item in items:
        if getattr(item, "originalname", "") == "test_the_exercise_runs_as_written":
            exercise = item.callspec.params["exercise"]
            background.submit(exercise.id, _run_as_written, exercise, env)


@pytest.mark.notebooks
@pytest.mark.timeout(1500)
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_the_exercise_runs_as_written(exercise, background):
    from helpers import claims

    run = background.submit(exercise.id, _run_as_written, exercise, course.kernel_env("fast"))
    output, record, error = run.result()
    try:
        if error:
            pytest.fail(f"{exercise.id}: {error}", pytrace=False)
        text = _outputs(nbformat.read(output, as_version=4))
        recorded = claims.load(record) if record.is_file() else {}
    finally:
        shutil.rmtree(output.parent, ignore_errors=True)

    said = [line for line in text.splitlines() if line.startswith(NOT_THE_BOOKS)]
    if _compares_with_a_sweep(exercise.notebook):
        assert len(said) == 1, (
            f"{exercise.id}: expected one line {NOT_THE_BOOKS!r}...', found {said}"
        )
        if "same_settings" in recorded:
            assert recorded["same_settings"] is False
    else:
        assert not said, f"{exercise.id} compares with no shipped sweep, yet printed {said}"

    missing = exercise.shows(text, exercise.parameters)
    assert not missing, (
        f"{exercise.id} ({exercise.why or 'the text'}): the run does not show {missing}"
    )
