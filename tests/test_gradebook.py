"""Grading a class (tools.gradebook): the example class of the teachers' page, seven
submissions of one notebook, graded in one command into the expected gradebook.

The class holds a full-marks submission, a blank one, one with exactly one right answer,
one that asks for more memory than its limit, one that starts more processes than its
limit, one that loops forever, and a file that is not a notebook. Each limit costs its
submission only the cell that reached it; the flags name what to look at. Grading the
folder again grades nothing new, keeps the points given by hand, and grades a changed
file alone. The teachers' page shows the gradebook this class was given
(``book/gradebook_example/``); it must be the one measured here, up to the seconds.
"""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from tools import assignments, gradebook, grading, limits

pytestmark = pytest.mark.notebooks

NAME = grading.notebook_name(gradebook.EXAMPLE_NOTEBOOK)


def read_csv(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def questions():
    summary = assignments.build(NAME)
    automatic = {q["name"]: q["points"] for q in summary["questions"] if not q["manual"]}
    manual = {q["name"]: q["points"] for q in summary["questions"] if q["manual"]}
    return automatic, manual


@pytest.fixture(scope="module")
def graded(questions, tmp_path_factory):
    """The example class, graded two submissions at a time as `make grade` grades it."""
    folder = tmp_path_factory.mktemp("class") / "submissions"
    shows = gradebook.example_class(folder)
    printed: list[str] = []
    result = gradebook.grade_folder(
        gradebook.EXAMPLE_NOTEBOOK,
        folder,
        limits=gradebook.EXAMPLE_LIMITS,
        out=folder.parent / "grades",
        jobs=2,
        echo=printed.append,
    )
    return {**result, "submissions": folder, "shows": shows, "printed": printed}


def by_name(rows):
    return {row["submission"]: row for row in rows}


def test_the_class_is_graded_into_the_expected_gradebook(graded, questions):
    automatic, manual = questions
    rows = by_name(graded["rows"])
    first = sorted(automatic)[0]
    full = {q: points for q, points in automatic.items()}
    expected = {
        "ada": (full, ""),
        "blaise": ({q: 0 for q in automatic}, ""),
        "carl": ({q: automatic[q] if q == first else 0 for q in automatic}, ""),
        "dorothy": (full, limits.MEMORY),
        "emmy": (full, limits.PROCESSES),
        "grace": (full, limits.CPU),
        "hedy.pdf": ({q: 0 for q in automatic}, grading.NOT_A_NOTEBOOK),
    }
    assert set(rows) == set(expected)
    assert graded["columns"] == [
        "submission",
        *automatic,
        "automatic",
        "automatic max",
        *(f"hand {q}" for q in manual),
        "total",
        "max",
        "flags",
        "seconds",
        "file",
    ]
    for who, (points, flag) in expected.items():
        row = rows[who]
        assert {q: float(row[q]) for q in automatic} == points, row
        assert float(row["automatic"]) == float(row["total"]) == sum(points.values()), row
        assert float(row["automatic max"]) == sum(automatic.values())
        assert float(row["max"]) == sum(automatic.values()) + sum(manual.values())
        # A limit reached flags it (the fork bomb's copies may reach the memory too).
        assert (flag in row["flags"].split("; ")) if flag else row["flags"] == "", row
    assert rows["hedy.pdf"]["file"] == "hedy.pdf" and float(rows["hedy.pdf"]["seconds"]) == 0
    # The loop ran until its CPU time was spent: single-threaded, that is as long in wall time.
    assert float(rows["grace"]["seconds"]) > 0.9 * gradebook.EXAMPLE_LIMITS.cpu_seconds
    record = json.loads((graded["folder"] / "graded.json").read_text())
    for who, limit in (("dorothy", "MemoryError"), ("emmy", "processes"), ("grace", "CPU-time")):
        problems = " ".join(record[f"{who}.ipynb"]["report"]["problems"])
        assert limit in problems, problems
    assert record["grace.ipynb"]["report"]["runs"] == 2  # graded again without the loop
    assert record["dorothy.ipynb"]["report"]["runs"] == 1  # the cell failed; the rest ran


def test_the_summary_says_what_to_look_at(graded, questions):
    automatic, _ = questions
    text = "\n".join(graded["printed"])
    summary = graded["summary"]
    assert summary in text and "[7/7]" in text
    assert summary.startswith(f"{NAME}: 7 submissions in the gradebook (7 graded now in ")
    totals = [float(row["automatic"]) for row in graded["rows"]]
    mean = sum(totals) / len(totals)
    assert f"mean {mean:.1f} / {sum(automatic.values()):g}" in summary
    # blaise misses every question, carl all but the first: the others are missed by 2 of 6.
    later = sorted(automatic)[1:4]
    assert (
        "missed most (fewer than full points): " + ", ".join(f"{q} by 2 of 6" for q in later)
        in summary
    )
    look = summary.split("look at by hand:")[1]
    for who in ("dorothy", "emmy", "grace", "hedy.pdf"):
        assert f"    {who}: " in look
    assert "ada:" not in look and "blaise:" not in look
    png = (graded["folder"] / "scores.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_open_answers_are_collected_question_by_question(graded, questions):
    _, manual = questions
    answers = graded["folder"] / "answers"
    assert sorted(p.stem for p in answers.glob("*.md")) == sorted(manual)
    text = (answers / f"{sorted(manual)[0]}.md").read_text()
    notebooks = ["ada", "blaise", "carl", "dorothy", "emmy", "grace"]
    positions = [text.index(f"## {who}\n") for who in notebooks]
    assert positions == sorted(positions), "one student after another, in the gradebook's order"
    assert gradebook._OPEN_ANSWERS["ada"][sorted(manual)[0]] in text
    assert "Type your answer here" in text.split("## blaise")[1].split("## carl")[0]
    assert "hedy" not in text


def test_the_teachers_page_shows_this_gradebook(graded):
    """book/gradebook_example/ holds the gradebook measured here (the seconds aside):
    after a change to the grader, `python -m tools.gradebook example` writes it again."""
    shipped = by_name(read_csv(gradebook.EXAMPLE / "gradebook.csv"))
    measured = by_name(graded["rows"])
    assert list(read_csv(gradebook.EXAMPLE / "gradebook.csv")[0]) == graded["columns"]
    for who, row in measured.items():
        keep = [c for c in graded["columns"] if c not in ("seconds", "flags")]
        assert {c: shipped[who][c] for c in keep} == {c: row[c] for c in keep}, who
        assert set(shipped[who]["flags"].split("; ")) >= set(row["flags"].split("; ")) - {
            limits.MEMORY
        }, who
    summary = (gradebook.EXAMPLE / "summary.txt").read_text()
    assert "[7/7]" in summary and "/tmp" not in summary
    assert (gradebook.EXAMPLE / "scores.png").read_bytes()[:4] == b"\x89PNG"


def test_grading_again_keeps_hand_points_and_grades_only_what_changed(graded, questions, tmp_path):
    _, manual = questions
    folder = tmp_path / "submissions"
    shutil.copytree(graded["submissions"], folder)
    out = tmp_path / "grades"
    shutil.copytree(graded["folder"], out)
    hand = [f"hand {q}" for q in manual]

    def again():
        return gradebook.grade_folder(
            gradebook.EXAMPLE_NOTEBOOK,
            folder,
            limits=gradebook.EXAMPLE_LIMITS,
            out=out,
            echo=lambda text: None,
        )

    # The teacher gives hand points to ada, and writes a word where carl's points go.
    rows = read_csv(out / "gradebook.csv")
    for row in rows:
        if row["submission"] == "ada":
            row[hand[0]], row[hand[1]] = "2", "1.5"
        if row["submission"] == "carl":
            row[hand[0]] = "good"
    gradebook.write_csv(out / "gradebook.csv", rows, list(rows[0]))

    result = again()
    assert result["graded"] == [] and len(result["reused"]) == 7
    rows = by_name(result["rows"])
    assert (rows["ada"][hand[0]], rows["ada"][hand[1]]) == ("2", "1.5")
    assert float(rows["ada"]["total"]) == float(rows["ada"]["automatic"]) + 3.5
    assert rows["carl"][hand[0]] == "good"  # kept, not counted, and warned about
    assert float(rows["carl"]["total"]) == float(rows["carl"]["automatic"])
    assert by_name(read_csv(out / "gradebook.csv"))["ada"][hand[1]] == "1.5"

    # A changed file and a new one are graded; one taken away leaves the gradebook.
    (folder / "hedy.pdf").write_bytes(b"%PDF-1.4\n% printed again\n%%EOF\n")
    (folder / "ida.txt").write_text("I could not open the notebook.")
    (folder / "emmy.ipynb").unlink()
    result = again()
    assert sorted(result["graded"]) == ["hedy.pdf", "ida.txt"]
    rows = by_name(result["rows"])
    assert "emmy" not in rows and rows["ida.txt"]["flags"] == grading.NOT_A_NOTEBOOK
    assert rows["ada"][hand[0]] == "2"
    assert "emmy.ipynb" not in json.loads((out / "graded.json").read_text())


def test_a_changed_assignment_or_limit_grades_everything_again(graded, tmp_path):
    """The record holds what the grades depend on besides the files."""
    record = json.loads((graded["folder"] / "graded.json").read_text())
    context = record["ada.ipynb"]["context"]
    assert context == {
        "assignment": gradebook.assignment_digest(NAME),
        "limits": gradebook.EXAMPLE_LIMITS.describe(),
    }
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(graded["submissions"] / "hedy.pdf", folder)
    out = tmp_path / "grades"
    out.mkdir()
    (out / "graded.json").write_text(json.dumps({"hedy.pdf": record["hedy.pdf"]}))
    kept = gradebook.grade_folder("02", folder, gradebook.EXAMPLE_LIMITS, out=out, echo=print)
    assert kept["graded"] == []
    other = limits.Limits(memory=2 * limits.GB, cpu_seconds=90)
    regraded = gradebook.grade_folder("02", folder, other, out=out, echo=print)
    assert regraded["graded"] == ["hedy.pdf"]


def test_a_folder_that_is_not_there_is_named(tmp_path):
    with pytest.raises(SystemExit, match="is not a folder; expected a folder of submissions"):
        gradebook.submissions(tmp_path / "missing", capstone=False)


def _report(notebook, questions, manual=None, flags=(), seconds=1.0):
    return {
        "report": {
            "notebook": notebook,
            "questions": {
                q: {"points": p, "max": m, "message": ""} for q, (p, m) in questions.items()
            },
            "manual_questions": manual or {},
            "manual": [],
            "problems": [],
            "flags": list(flags),
            "seconds": seconds,
        }
    }


def test_a_capstone_students_notebook_and_model_share_one_row(tmp_path):
    """For the capstone, ada.ipynb and ada.keras are one student: the model's questions
    are columns of their own, beside the notebook's, and the points and seconds add up.
    (A hand-made record: no grading runs here.)"""
    files = {"ada.ipynb": "ada", "ada.keras": "ada", "bob.ipynb": "bob", "notes.txt": "notes.txt"}
    record = {
        "ada.ipynb": _report("10_capstone", {"10.1": (2, 2), "10.2": (0, 2)}, {"10.4": 2}),
        "ada.keras": _report(
            "10_capstone (saved model)", {"test accuracy": (4, 6), "size": (2, 2)}, seconds=3.0
        ),
        "bob.ipynb": _report("10_capstone", {"10.1": (2, 2), "10.2": (2, 2)}, {"10.4": 2}),
        "notes.txt": _report(
            "10_capstone", {"10.1": (0, 2), "10.2": (0, 2)}, flags=[grading.NOT_A_NOTEBOOK]
        ),
    }
    rows, columns, automatic, manual = gradebook.gradebook_rows(
        files, record, tmp_path / "none.csv"
    )
    assert columns[:7] == [
        "submission",
        "10.1",
        "10.2",
        "model: test accuracy",
        "model: size",
        "automatic",
        "automatic max",
    ]
    assert automatic == {"10.1": 2, "10.2": 2, "model: test accuracy": 6, "model: size": 2}
    assert manual == {"10.4": 2}
    rows = by_name(rows)
    assert set(rows) == {"ada", "bob", "notes.txt"}
    ada = rows["ada"]
    assert (ada["automatic"], ada["automatic max"], ada["max"]) == ("8", "12", "14")
    assert ada["file"] == "ada.ipynb ada.keras" and ada["seconds"] == "4.0"
    # bob handed in no model: its questions count as 0 of their points
    assert rows["bob"]["model: test accuracy"] == "0" and rows["bob"]["automatic"] == "4"
    assert rows["notes.txt"]["flags"] == grading.NOT_A_NOTEBOOK
