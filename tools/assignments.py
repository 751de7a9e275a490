"""The teacher's edition: every notebook of the course as an Otter-Grader assignment.

    python -m tools.assignments            # make assignments: every notebook of _toc.yml
    python -m tools.assignments 03_training

For each notebook listed in ``_toc.yml`` this writes, under ``_build/assignments/<name>/``:

- ``student/<name>.ipynb``: the notebook without any solution: no solution code, no
  model answer of an open exercise, the answers left as ``...``; the checks still give
  instant feedback, and each exercise states its points;
- ``autograder/autograder.zip``: Otter-Grader's grading configuration (its tests call
  the course's checks), used by ``make grade`` (``python -m tools.grading``);
- ``autograder/<name>.ipynb``: the same notebook with the model answers of the open
  exercises, for grading those by hand;
- ``questions.json``: every question, its points and whether it is graded by hand.

The assignment is derived from the notebook itself, so a new notebook needs nothing but
its entry in ``_toc.yml`` and its points in its metadata (``"course": {"points": ...}``,
one entry per exercise id and one for ``"reflection"``). A checkable exercise (a
``check("NN.K", ...)`` cell) is graded automatically: its test is the exercise's check
applied to the last answer the notebook gave it. Open exercises and the Reflection are
graded by hand, with their prompts intact.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import posixpath
import re
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
import yaml

from tools.course import BUILD, SOLUTION, toc_notebooks

ROOT = Path(__file__).resolve().parent.parent

OUT = BUILD / "assignments"
# The prompt of an exercise: "**Exercise 03.2.**" (checked) or "**Exercise 03.4 (open).**".
PROMPT = re.compile(r"\*\*Exercise (\d\d\.\d+)( \(open\))?\.\*\*")
DETAILS = re.compile(r"<details>\s*<summary>(.*?)</summary>(.*?)</details>", re.S)
RELATIVE_LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s]+)\)")
CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d\d\.\d+)["']""")
REFLECTION = "reflection"
# What the notebooks say of their solutions, and what the student version says instead.
SOLUTIONS_BELOW = re.compile(
    r"Each solution is in the closed block under its exercise: click to open it\.|"
    r"Open exercises have a model answer in a closed\s+block below them: try first, then compare\."
)
STUDENT_INSTRUCTIONS = (
    "Open exercises and the Reflection are graded by hand: write your answer in the cell "
    "under each."
)


class AssignmentError(ValueError):
    """A notebook that cannot be made into an assignment: names it and what is missing."""


@dataclass(frozen=True)
class Question:
    name: str  # "03.2" or "reflection"
    points: float
    manual: bool

    @property
    def otter_name(self) -> str:
        """Otter's name for the question (a file name of its tests): "exercise_03_2"."""
        return REFLECTION if self.name == REFLECTION else "exercise_" + self.name.replace(".", "_")


def points_of(nb, name: str) -> dict[str, float]:
    """The points of every question of a notebook, as its metadata states them once."""
    points = nb.metadata.get("course", {}).get("points")
    if not isinstance(points, dict) or not points:
        raise AssignmentError(
            f'{name}: its metadata has no points; expected "course": {{"points": '
            '{"NN.1": 2, ..., "reflection": 2}} with one entry per exercise and one for the '
            "Reflection. Add them (JupyterLab: the notebook's metadata in the property "
            "inspector) and run again."
        )
    for key, value in points.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise AssignmentError(
                f"{name}: points of {key!r} must be a positive number, got {value!r}"
            )
    return dict(points)


def _markdown_parts(source: str) -> list[tuple[str, str, str]]:
    """A Markdown cell cut into ("text", text, "") and ("details", summary, body) parts."""
    parts, at = [], 0
    for match in DETAILS.finditer(source):
        before = source[at : match.start()].strip()
        if before:
            parts.append(("text", before, ""))
        parts.append(("details", match.group(1).strip(), match.group(2).strip()))
        at = match.end()
    rest = source[at:].strip()
    if rest:
        parts.append(("text", rest, ""))
    return parts


def _absolute_links(text: str) -> str:
    """Relative links (the glossary, other notebooks) as links into the course's repository:
    a student version is handed out on its own, away from the repository's folders."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    base = f"{config['url'].rstrip('/')}/blob/{config.get('branch', 'main')}"

    def absolute(match: re.Match) -> str:
        target, _, anchor = match.group(1).partition("#")
        path = posixpath.normpath(posixpath.join("notebooks", target))
        return f"]({base}/{path}" + (f"#{anchor}" if anchor else "") + ")"

    return RELATIVE_LINK.sub(absolute, text)


def _raw(text: str):
    return nbformat.v4.new_raw_cell(text)


def _with_points(prompt: str, exercise: str, question: Question) -> str:
    unit = "point" if question.points == 1 else "points"
    amount = f"{question.points:g} {unit}"
    marker = f"**Exercise {exercise} (open).**" if question.manual else f"**Exercise {exercise}.**"
    inside = "open, " if question.manual else ""
    return prompt.replace(marker, f"**Exercise {exercise} ({inside}{amount}).**", 1)


def _test_cell(question: Question):
    """Otter's exception-based test: the course's check of the last answer given."""
    exercise = question.name
    return nbformat.v4.new_code_cell(
        f"def test_{question.otter_name}(env):\n"
        "    from helpers.exercises import check, last_answer\n\n"
        f'    feedback = check("{exercise}", last_answer("{exercise}"))\n'
        "    assert feedback.correct, str(feedback)\n\n\n"
        f"test_{question.otter_name}(globals())"
    )


def master(nb, name: str, python_version: str) -> tuple[object, list[Question]]:
    """The notebook in Otter Assign's format, and its questions in order."""
    points = points_of(nb, name)
    cells = [
        _raw(
            "# ASSIGNMENT CONFIG\n"
            + json.dumps(
                {
                    "name": name,
                    "python_version": python_version,
                    "init_cell": False,
                    "check_all_cell": False,
                    "export_cell": False,
                    "run_tests": False,
                    "tests": {"files": True},
                    "generate": {"pdf": False, "zips": False},
                },
                indent=1,
            )
        )
    ]
    questions: list[Question] = []
    open_question: Question | None = None

    def question(exercise: str, manual: bool) -> Question:
        if exercise not in points:
            raise AssignmentError(
                f"{name}: exercise {exercise} has no points in the notebook's metadata "
                f'("course": {{"points": {{"{exercise}": ...}}}}); it has {sorted(points)}'
            )
        q = Question(exercise, float(points[exercise]), manual)
        questions.append(q)
        config = {"name": q.otter_name, "points": q.points, "manual": manual}
        if not manual:
            config["check_cell"] = False
        cells.append(_raw("# BEGIN QUESTION\n" + json.dumps(config)))
        return q

    def close() -> None:
        nonlocal open_question
        if open_question is not None:
            if open_question.manual:
                # An open exercise whose model answer is missing: the student answers here.
                cells.append(
                    nbformat.v4.new_markdown_cell("_Type your answer here, replacing this text._")
                )
            cells.append(_raw("# END QUESTION"))
            open_question = None

    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "colab-badge" in tags:
            continue  # it opens the full notebook, solutions included
        if cell.cell_type == "code":
            cells.append(nbformat.v4.new_code_cell(cell.source, metadata=dict(cell.metadata)))
            continue
        if cell.source.startswith("## Reflection"):
            close()
            if REFLECTION not in points:
                raise AssignmentError(
                    f'{name}: the Reflection has no points ("reflection" in its metadata)'
                )
            q = Question(REFLECTION, float(points[REFLECTION]), True)
            questions.append(q)
            cells.append(
                _raw(
                    "# BEGIN QUESTION\n"
                    + json.dumps({"name": q.otter_name, "points": q.points, "manual": True})
                )
            )
            heading, _, rest = _absolute_links(cell.source).partition("\n")
            rest = rest.replace("in this cell:", "in the cell below:")
            cells.append(
                nbformat.v4.new_markdown_cell(
                    f"{heading}\n\n*{q.points:g} points, graded by hand.*\n{rest}"
                )
            )
            cells.append(
                nbformat.v4.new_markdown_cell(
                    "_Type your reflection here, replacing this text._",
                    metadata={"tags": ["otter_answer_cell"]},
                )
            )
            cells.append(_raw("# END QUESTION"))
            continue
        for kind, text, body in _markdown_parts(cell.source):
            if kind == "details":
                solved = re.fullmatch(r"Solution to exercise (\d\d\.\d+)", text)
                if solved:  # a checked exercise's solution: its test takes its place
                    if open_question is None or open_question.name != solved.group(1):
                        raise AssignmentError(
                            f"{name}: the solution to exercise {solved.group(1)} does not follow "
                            "its exercise's check cell"
                        )
                    cells += [_raw("# BEGIN TESTS"), _test_cell(open_question), _raw("# END TESTS")]
                    cells.append(_raw("# END QUESTION"))
                    open_question = None
                elif open_question is not None and open_question.manual:
                    cells += [
                        _raw("# BEGIN SOLUTION"),
                        nbformat.v4.new_markdown_cell(body),
                        _raw("# END SOLUTION"),
                    ]
                    cells.append(_raw("# END QUESTION"))
                    open_question = None
                else:
                    raise AssignmentError(
                        f"{name}: a <details> block {text!r} belongs to no exercise"
                    )
                continue
            text = _absolute_links(SOLUTIONS_BELOW.sub(STUDENT_INSTRUCTIONS, text))
            prompt = PROMPT.search(text)
            if prompt is None:
                close()
                cells.append(nbformat.v4.new_markdown_cell(text))
                continue
            close()
            before = text[: prompt.start()].strip()
            if before:
                cells.append(nbformat.v4.new_markdown_cell(before))
            open_question = question(prompt.group(1), manual=bool(prompt.group(2)))
            cells.append(
                nbformat.v4.new_markdown_cell(
                    _with_points(text[prompt.start() :], prompt.group(1), open_question)
                )
            )
    close()
    unused = sorted(set(points) - {q.name for q in questions})
    if unused:
        raise AssignmentError(
            f"{name}: its metadata gives points to {unused}, which it does not have"
        )
    out = nbformat.v4.new_notebook(cells=cells, metadata=dict(nb.metadata))
    return out, questions


def solutions(nb) -> dict[str, str]:
    """The solution code of every checked exercise of a course notebook."""
    found = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found.update(dict(SOLUTION.findall(cell.source)))
    return found


def answer_cells(student) -> dict[str, int]:
    """Where each checked exercise's answer cell is in a student notebook (its index)."""
    return {
        match.group(1): index
        for index, cell in enumerate(student.cells)
        if cell.cell_type == "code"
        for match in [CHECK_CALL.search(cell.source)]
        if match
    }


def answered(student, answers: dict[str, str]):
    """A copy of a student notebook with code appended to given exercises' answer cells.

    ``answers`` maps an exercise id to code (a solution, or a wrong answer) that the
    answer cell then runs after its own code, as a student's answer would be written
    there. The grader checks an exercise right after its answer cell has run.
    """
    nb = nbformat.from_dict(json.loads(json.dumps(student)))
    where = answer_cells(nb)
    for exercise, code in answers.items():
        cell = nb.cells[where[exercise]]
        cell.source = f"{cell.source}\n\n{code}"
    return nb


def build(name: str, out: Path = OUT) -> dict:
    """Build one notebook's assignment; return its summary (written as questions.json)."""
    source = ROOT / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(source, as_version=4)
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assign_nb, questions = master(nb, name, python_version)
    target = out / name
    shutil.rmtree(target, ignore_errors=True)
    work = target / "master"
    work.mkdir(parents=True)
    master_path = work / f"{name}.ipynb"
    nbformat.write(assign_nb, master_path)
    # `otter assign --no-run-tests`, called in this process: the command would start
    # Python and import Otter again for each notebook (about 6 s against 0.2 s). Imported
    # here, not at the top: Otter takes seconds to import, and grading a submission
    # (tools.grading imports this module) does not need it.
    from otter.assign import main as otter_assign

    output = io.StringIO()
    here = os.getcwd()
    try:
        os.chdir(work)
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            otter_assign(str(master_path), str(target / "dist"), no_run_tests=True)
    except Exception as err:  # Otter raises plain exceptions for a malformed master
        raise AssignmentError(
            f"{name}: otter assign failed: {err}\n{output.getvalue()[-3000:]}"
        ) from err
    finally:
        os.chdir(here)
    dist = target / "dist"
    shutil.move(dist / "student", target / "student")
    shutil.move(dist / "autograder", target / "autograder")
    shutil.rmtree(dist)
    shutil.rmtree(work)
    zips = list((target / "autograder").glob("*.zip"))
    if len(zips) != 1:
        raise AssignmentError(f"{name}: otter assign wrote {len(zips)} autograder zips, expected 1")
    zips[0].rename(target / "autograder" / "autograder.zip")
    shutil.rmtree(target / "student" / "tests", ignore_errors=True)  # the student needs none
    _unlock(target / "student" / f"{name}.ipynb")
    summary = {
        "notebook": name,
        "questions": [asdict(q) | {"otter_name": q.otter_name} for q in questions],
        "automatic_points": sum(q.points for q in questions if not q.manual),
        "manual_points": sum(q.points for q in questions if q.manual),
    }
    (target / "questions.json").write_text(json.dumps(summary, indent=2))
    return summary


def _unlock(path: Path) -> None:
    """Let the student edit every code cell and every answer cell: Otter locks a question's
    cells against editing, and these are the cells students fill in."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" or "otter_answer_cell" in cell.metadata.get("tags", []):
            cell.metadata.pop("editable", None)
            cell.metadata.pop("deletable", None)
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "notebooks", nargs="*", help="only these notebooks (names without .ipynb); default: all"
    )
    names = parser.parse_args(argv).notebooks or [Path(e).name for e in toc_notebooks()]
    for name in names:
        try:
            summary = build(name)
        except AssignmentError as err:
            print(err, file=sys.stderr)
            return 1
        print(
            f"{name}: {len(summary['questions'])} questions, {summary['automatic_points']:g} points "
            f"graded automatically, {summary['manual_points']:g} by hand -> {OUT / name}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
