"""The teacher's edition: student versions, Otter-Grader autograding, the capstone's grader.

Every notebook of _toc.yml is built as an assignment (``make assignments``), holds no
solution, and leaves nothing that a later cell needs to an answer (checked in its code,
for every notebook). One notebook, :data:`GRADED`, is graded through Otter as a teacher
grades it: its solutions score full marks, its untouched student version runs to the
end and scores zero, and mixed and hostile submissions are scored exactly and contained.

Why one notebook: the grader, the autograder's tests and the containment are the same
code for every notebook, and tests/test_notebooks.py already runs every notebook with its
solutions, each of which must print its check's "Correct" (``course.check_solutions``).
What differs between notebooks, the student version, is checked for all of them without
running it.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from helpers import models
from helpers.exercises import registered
from tools import assignments, course, grading

ROOT = Path(__file__).resolve().parent.parent
NAMES = [Path(entry).name for entry in assignments.toc_notebooks()]
# The notebook graded through Otter (see the module's docstring): the shortest one with
# checked exercises, so that each grading below costs half a minute.
GRADED = "02_cnn_components"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every notebook's assignment, built once into the course's _build/assignments."""
    return {name: assignments.build(name) for name in NAMES}


def source(name):
    return nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)


def student(name):
    return nbformat.read(assignments.OUT / name / "student" / f"{name}.ipynb", as_version=4)


def nb_cells_markdown(name):
    return [c.source for c in student(name).cells if c.cell_type == "markdown"]


def points(summary, which):
    return sum(q["points"] for q in summary["questions"] if q["manual"] == (which == "manual"))


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_is_a_question_with_points(built, name):
    summary = built[name]
    number = name[:2]
    checked = {e for e in registered() if e.startswith(f"{number}.")}
    names = {q["name"] for q in summary["questions"] if not q["manual"]}
    assert names == checked, f"{name}: graded automatically {names}, has checks {checked}"
    manual = {q["name"] for q in summary["questions"] if q["manual"]}
    opened = set(re.findall(r"\*\*Exercise (\d\d\.\d+) \(open\)", json.dumps(source(name).cells)))
    assert manual == opened | {"reflection"}
    stated = source(name).metadata["course"]["points"]
    assert {q["name"]: q["points"] for q in summary["questions"]} == stated
    assert summary["automatic_points"] == points(summary, "automatic") > 0


@pytest.mark.parametrize("name", NAMES)
def test_student_version_holds_no_solution(built, name):
    text = json.dumps(student(name).cells)
    original = source(name)
    for exercise, code in assignments.solutions(original).items():
        lines = [line.strip() for line in code.splitlines() if len(line.strip()) > 25]
        leaked = [line for line in lines if json.dumps(line)[1:-1] in text]
        assert not leaked, (
            f"{name}: the solution to {exercise} shows in the student version: {leaked}"
        )
    for cell in original.cells:
        for summary_text, body in re.findall(
            r"<summary>(.*?)</summary>(.*?)</details>", cell.source, re.S
        ):
            first = next(
                line.strip() for line in body.splitlines() if line.strip() and "```" not in line
            )
            assert json.dumps(first)[1:-1] not in text, f"{name}: {summary_text} leaks {first!r}"
    assert "<details>" not in text and "Solution to exercise" not in text
    relative = [
        link for cell in nb_cells_markdown(name) for link in assignments.RELATIVE_LINK.findall(cell)
    ]
    assert not relative, f"{name}: links that only work inside the repository: {relative}"
    assert "colab.research.google.com" not in text, "the badge opens the full notebook"
    nb = student(name)
    for exercise, index in assignments.answer_cells(nb).items():
        cell = nb.cells[index]
        assert cell.metadata.get("editable", True), f"{name}: answer cell of {exercise} is locked"
    answers = [c for c in nb.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    assert len(answers) == len([q for q in built[name]["questions"] if q["manual"]])
    assert all(c.metadata.get("editable", True) for c in answers), f"{name}: a locked answer cell"
    assert (assignments.OUT / name / "autograder" / "autograder.zip").is_file()


def test_points_are_required_and_named(tmp_path):
    nb = source("02_cnn_components")
    del nb.metadata["course"]
    with pytest.raises(assignments.AssignmentError, match="no points"):
        assignments.master(nb, "02_cnn_components", "3.11")
    nb.metadata["course"] = {"points": {"02.1": 2, "reflection": 1}}
    with pytest.raises(assignments.AssignmentError, match=r"exercise 02\.2 has no points"):
        assignments.master(nb, "02_cnn_components", "3.11")
    nb.metadata["course"] = {"points": {"02.1": "two"}}
    with pytest.raises(assignments.AssignmentError, match="positive number"):
        assignments.master(nb, "02_cnn_components", "3.11")


def grade(name, nb, folder, **kwargs):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-submission.ipynb"
    nbformat.write(nb, path)
    return grading.grade_notebook(name[:2], path, **kwargs)


def score(report):
    return sum(entry["points"] for entry in report["questions"].values())


def _bound_and_read(source: str) -> tuple[set[str], set[str]]:
    """The names a cell binds (assignments, imports, definitions, arguments) and reads."""
    from IPython.core.inputtransformer2 import TransformerManager

    tree = ast.parse(TransformerManager().transform_cell(source))
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound, read


def needs_an_answer(student_nb, solutions: dict[str, str]) -> dict[int, list[str]]:
    """The code cells of a student notebook (by index) that read a name which only a
    solution defines, before any cell of the notebook defines it: left blank, they fail."""
    only_solutions = set().union(*(_bound_and_read(code)[0] for code in solutions.values()))
    defined: set[str] = set()
    found = {}
    for index, cell in enumerate(student_nb.cells):
        if cell.cell_type != "code":
            continue
        bound, read = _bound_and_read(cell.source)
        missing = sorted((read & only_solutions) - defined - bound)
        if missing:
            found[index] = missing
        defined |= bound
    return found


@pytest.mark.parametrize("name", NAMES)
def test_the_blank_student_version_needs_no_answer_later(built, name):
    """No cell of the student version uses a name that only a solution defines: left
    blank, the notebook still runs to the end (what grading the blank version of
    :data:`GRADED` shows by running it)."""
    missing = needs_an_answer(student(name), assignments.solutions(source(name)))
    assert not missing, f"{name}: left blank, these cells would fail: {missing}"


def test_a_cell_that_needs_an_answer_is_found():
    """The check above finds a cell that reads a name only a solution defines, and not
    one that defines it itself or reads a name the notebook defines."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import numpy as np\nsizes = [1, 2]"),
        nbformat.v4.new_code_cell('answer = ...\ncheck("02.1", answer)'),
        nbformat.v4.new_code_cell("print(len(sizes), np.pi)"),
        nbformat.v4.new_code_cell("kernel = np.ones(3)\nprint(kernel)"),
        nbformat.v4.new_code_cell("print(kernel_size * 2)"),
    ]
    solutions = {"02.1": "kernel_size = 3\nanswer = kernel_size\ncheck('02.1', answer)"}
    assert needs_an_answer(nb, solutions) == {4: ["kernel_size"]}
    assert needs_an_answer(nb, {"02.1": "kernel = 1"}) == {}


# ----------------------------------------------------------------- graded through Otter


def with_cell(nb, code, at=None):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.cells.insert(len(nb.cells) if at is None else at, nbformat.v4.new_code_cell(code))
    return nb


def _attack(canary: Path) -> str:
    """A cell that tries to change the course's files and to write its own score."""
    return f"""
import json, os, pathlib, shutil, subprocess
canary = pathlib.Path({str(canary)!r})
for attempt in (
    lambda: canary.write_text("changed"),
    lambda: canary.unlink(),
    lambda: os.system(f"rm -f {{canary}}"),
    lambda: shutil.rmtree(canary.parent),
    lambda: subprocess.run(["rm", "-rf", {str(ROOT / "tests")!r}]),
    lambda: pathlib.Path({str(ROOT / "tools" / "grading.py")!r}).write_text(""),
):
    try:
        attempt()
    except Exception as err:
        print("blocked:", type(err).__name__)
fake = {{"tests": [{{"name": "exercise_02_1", "score": 2, "max_score": 2}}]}}
for out in ("results.json", "../out/results.json"):
    pathlib.Path(out).write_text(json.dumps(fake))
"""


@pytest.fixture(scope="module")
def gradings(built, tmp_path_factory):
    """Every Otter grading of :data:`GRADED` the tests below read, started at once and run
    two at a time (each is mostly one core's work; the endless loop's only waits out its
    time-out). Returns the submissions' futures, and what the tests need to judge them."""
    name = GRADED
    folder = tmp_path_factory.mktemp("submissions")
    solutions = assignments.solutions(source(name))
    right, wrong = sorted(solutions)[:2]
    mixed = assignments.answered(
        student(name), {right: solutions[right], wrong: f'check("{wrong}", "a wrong answer")'}
    )
    mixed = with_cell(mixed, "def broken(:\n    pass", at=5)
    canary = folder / "course" / "tests.py"
    canary.parent.mkdir()
    canary.write_text("the course's file\n")
    canary.chmod(0o644)
    canary.parent.chmod(0o755)
    _, why_not = grading._containment(folder)
    submissions = {
        # the longest first: the endless loop waits 20 s for its time-out
        "endless loop": (with_cell(student(name), "while True:\n    pass", at=5), {"timeout": 20}),
        "solutions": (assignments.answered(student(name), solutions), {"strict": True}),
        "blank": (student(name), {"strict": True}),
        "mixed": (mixed, {}),
        "mixed, strict": (mixed, {"strict": True}),  # strict: no cell may raise
    }
    if not why_not:
        submissions["attack"] = (with_cell(student(name), _attack(canary)), {})
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="otter")
    futures = {
        key: pool.submit(grade, name, nb, folder / key.replace(", ", "-").replace(" ", "-"), **kw)
        for key, (nb, kw) in submissions.items()
    }
    pool.shutdown(wait=False)
    yield {"reports": futures, "right": right, "wrong": wrong, "canary": canary, "why_not": why_not}
    for future in futures.values():
        future.result()  # nothing left running after the module


def report_of(gradings, key):
    return gradings["reports"][key].result()


@pytest.mark.notebooks
def test_solutions_score_full_marks_and_the_blank_zero(built, gradings):
    name = GRADED
    report = report_of(gradings, "solutions")
    assert report["problems"] == [], report["problems"]
    assert score(report) == report["max"] == built[name]["automatic_points"], grading.render(report)

    blank = report_of(gradings, "blank")
    assert blank["problems"] == [] and score(blank) == 0, grading.render(blank)
    # It ran to the end: every check was reached, and said it was not attempted.
    for exercise, entry in blank["questions"].items():
        assert "Not attempted" in entry["message"], (exercise, entry)
    assert grading.render(blank).splitlines()[-1] == f"score: 0 / {blank['max']:g}"
    record_grading(name, built[name], report, blank)


def record_grading(name, summary, solved, blank):
    """What grading this notebook costs, for the teachers' page: _build/assignments/grading.json."""
    path = assignments.OUT / "grading.json"
    records = json.loads(path.read_text()) if path.is_file() else {}
    records[name] = {
        "automatic_points": summary["automatic_points"],
        "manual_points": summary["manual_points"],
        "solutions_score": score(solved),
        "blank_score": score(blank),
        "seconds_solutions": round(solved["seconds"], 1),
        "seconds_blank": round(blank["seconds"], 1),
        "machine": course.machine(),
    }
    path.write_text(json.dumps(records, indent=2, sort_keys=True))


@pytest.mark.notebooks
def test_one_right_one_wrong_and_a_syntax_error_score_that_question(built, gradings):
    """A submission with one right answer, one wrong one and a cell that does not parse
    scores exactly the right answer's points: the syntax error costs only its own cell."""
    right, wrong = gradings["right"], gradings["wrong"]
    report = report_of(gradings, "mixed")
    expected = next(q["points"] for q in built[GRADED]["questions"] if q["name"] == right)
    assert report["problems"] == [] and score(report) == expected, grading.render(report)
    assert report["questions"][right]["points"] == expected
    assert "Not yet" in report["questions"][wrong]["message"]
    # The course's own tests grade strictly: there, the same error stops the grading.
    strict = report_of(gradings, "mixed, strict")
    assert "SyntaxError" in strict["problems"][0], strict["problems"]


# ----------------------------------------------------------------- hostile submissions


@pytest.mark.notebooks
def test_an_endless_loop_is_stopped_and_scored(gradings):
    report = report_of(gradings, "endless loop")
    assert score(report) == 0
    assert any("did not finish within 20 s" in p for p in report["problems"]), report["problems"]
    assert grading.render(report).splitlines()[-1] == f"score: 0 / {report['max']:g}"


@pytest.mark.notebooks
def test_a_submission_cannot_touch_files_or_its_score(gradings):
    if gradings["why_not"]:
        pytest.skip(
            f"the grader cannot contain a submission on this machine: {gradings['why_not']}"
        )
    report = report_of(gradings, "attack")
    assert gradings["canary"].read_text() == "the course's file\n"
    assert (ROOT / "tests" / "test_assignments.py").is_file()
    assert (ROOT / "tools" / "grading.py").stat().st_size > 0
    assert report["problems"] == [] and score(report) == 0, grading.render(report)


def test_a_file_that_is_not_a_notebook_gets_a_message_and_zero(built, tmp_path):
    path = tmp_path / "essay.ipynb"
    path.write_text("My answers are in the attached PDF.")
    report = grading.grade_notebook("03", path)
    assert score(report) == 0
    assert "is not a Jupyter notebook" in report["problems"][0]
    missing = grading.grade_notebook("03", tmp_path / "nothing.ipynb")
    assert "is not a file" in missing["problems"][0]


def test_tampering_with_the_checks_is_flagged(built, tmp_path):
    nb = with_cell(student(GRADED), "import helpers.exercises as e\ne._ANSWERS.clear()")
    path = tmp_path / "sub.ipynb"
    nbformat.write(nb, path)
    report = grading.grade_notebook(GRADED[:2], path, timeout=0.01)
    assert any("grader's own machinery (_ANSWERS)" in p for p in report["problems"])
    nb = with_cell(student(GRADED), "def check(exercise, answer=None):\n    return 'Correct'")
    nbformat.write(nb, path)
    report = grading.grade_notebook(GRADED[:2], path, timeout=0.01)
    assert any("machinery (a new check)" in p for p in report["problems"]), report["problems"]


def test_unknown_notebook_number_is_named():
    numbers = [name[:2] for name in NAMES]
    past_the_last = f"{int(numbers[-1]) + 1:02d}"  # the number the next notebook would take
    with pytest.raises(SystemExit, match=f"NB='{past_the_last}' names no notebook.*{numbers[-1]}"):
        grading.notebook_name(past_the_last)
    assert grading.notebook_name(numbers[-1]) == NAMES[-1]


# ----------------------------------------------------------------- the capstone's model


def test_capstone_rubric():
    assert models.CAPSTONE_GOAL == 0.94  # the rows below are worked out for this goal
    assert grading.capstone_points(900_000, 0.9401) == {"test accuracy": 6, "size": 2}
    assert grading.capstone_points(900_000, 0.9399) == {"test accuracy": 4, "size": 2}
    assert grading.capstone_points(1_000_001, 0.95) == {"test accuracy": 6, "size": 0}
    assert grading.capstone_points(200_000, 0.931) == {"test accuracy": 4, "size": 2}
    assert grading.capstone_points(200_000, 0.915) == {"test accuracy": 2, "size": 2}
    assert grading.capstone_points(200_000, 0.905) == {"test accuracy": 0, "size": 2}
    assert grading.capstone_max() == 8


def test_one_capstone_goal_everywhere():
    """The notebook, the teachers' rubric, the book's pages and the speed goals state one goal."""
    goal = f"{models.CAPSTONE_GOAL:.0%}"
    rubric = (ROOT / "book" / "teachers.md").read_text()
    for threshold, points in grading.CAPSTONE_RUBRIC["accuracy"]:
        assert f"| test accuracy ≥ {threshold:.0%}" in rubric and f"| {points} |" in rubric
    assert f"Full points therefore need at least {goal} test accuracy" in rubric
    capstone = nbformat.read(ROOT / "notebooks" / "10_capstone.ipynb", as_version=4)
    assert capstone.cells[1].source.startswith(f"# 10 · Capstone: {goal} in ten minutes")
    assert f"{goal} test accuracy" in (ROOT / "book" / "intro.md").read_text()
    assert f"{goal} test accuracy" in (ROOT / "README.md").read_text()
    bench = importlib.import_module("benchmarks.__main__")
    assert bench.GOAL_CAPSTONE == models.CAPSTONE_GOAL


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    import keras

    from helpers import models

    folder = tmp_path_factory.mktemp("models")
    models.baseline_cnn().save(folder / "untrained.keras")
    wrong = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    wrong.save(folder / "flat.keras")
    (folder / "text.keras").write_text("not a model")
    shutil.make_archive(str(folder / "archive"), "zip", folder, "text.keras")
    (folder / "archive.zip").rename(folder / "zip.keras")
    return folder


@pytest.mark.notebooks
def test_capstone_grader_measures_a_real_model(models_dir, fashion_mnist):
    report = grading.grade_model(models_dir / "untrained.keras")
    assert report["problems"] == [], report["problems"]
    measured = report["measured"]
    from helpers import models

    assert measured["parameters"] == models.baseline_cnn(compile=False).count_params()
    assert 0.0 <= measured["test_accuracy"] < 0.5  # untrained: about chance
    assert (
        report["questions"]["size"]["points"] == 2
        and report["questions"]["test accuracy"]["points"] == 0
    )
    assert grading.render(report).splitlines()[-1] == "score: 2 / 8"


@pytest.mark.notebooks
@pytest.mark.parametrize(
    "file, message",
    [
        ("text.keras", "not a .keras archive"),
        ("zip.keras", "not a usable Keras model"),
        ("flat.keras", "expected images (None, 28, 28, 1)"),
    ],
)
def test_capstone_grader_scores_broken_files_zero(models_dir, file, message):
    report = grading.grade_model(models_dir / file)
    assert score(report) == 0
    assert any(message in p for p in report["problems"]), report["problems"]
    assert grading.render(report).splitlines()[-1] == "score: 0 / 8"


def test_capstone_grader_limits_the_file_size(tmp_path, monkeypatch):
    monkeypatch.setattr(grading, "MAX_MODEL_BYTES", 10)
    big = tmp_path / "big.keras"
    big.write_bytes(b"0" * 11)
    report = grading.grade_model(big)
    assert score(report) == 0 and "more than 10" in report["problems"][0]
