"""Grade a whole class: ``make grade NB=06 SUBMISSION=path/to/folder``.

    python -m tools.grading 06 submissions/                 # what make grade runs
    python -m tools.grading 06 submissions/ --memory 2G --cpu-time 120 --jobs 2

Every file in the folder is a submission: each ``.ipynb`` is graded as ``tools.grading``
grades one (contained, within its limits: ``tools.limits``); for the capstone each
``.keras`` is graded as its saved model too, in the same student's row. Any other file
gets a row that says it is not a notebook. Everything goes to
``_build/grades/<notebook>/``:

- ``gradebook.csv``: one row per submission (the file's stem), one column per question
  graded automatically (points), ``automatic`` and ``automatic max``, one ``hand <question>``
  column per question graded by hand (yours to fill in), ``total`` and ``max`` (the
  automatic points plus the hand-given ones), the ``flags`` that ask for a look (a limit
  reached, a time-out, code that refers to the grader, not a notebook), the ``seconds``
  grading took, and the ``file``;
- ``scores.png``: how the class scored on each question;
- ``answers/<question>.md``: every student's answer to a question graded by hand, one
  after another, so that you read and grade question by question;
- ``graded.json``: what was graded, by the content (SHA-256) of each file. Running the
  command again grades only the files that are new or changed (or all of them, after the
  assignment or the limits changed), and keeps the points you wrote in the ``hand``
  columns.

The summary printed at the end says how many were graded, the mean and spread of the
automatic points, the questions most students missed, and the submissions to look at.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tools import grading
from tools.assignments import OUT as ASSIGNMENTS
from tools.assignments import REFLECTION, build
from tools.limits import Limits

#: The model's questions in the capstone's rows, beside the notebook's.
MODEL_PREFIX = "model: "
HAND_PREFIX = "hand "


def default_jobs() -> int:
    """Submissions graded at once: one per four cores (TensorFlow uses all of them)."""
    return max(1, (os.cpu_count() or 1) // 4)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def submissions(folder: Path, capstone: bool) -> dict[str, str]:
    """The folder's files (not hidden, not in sub-folders), each with its row's name:
    its stem for a notebook (and, for the capstone, a ``.keras``), else its file name."""
    if not folder.is_dir():
        raise SystemExit(f"{folder} is not a folder; expected a folder of submissions")
    rows = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        graded_as_itself = path.suffix == ".ipynb" or (capstone and path.suffix == ".keras")
        rows[path.name] = path.stem if graded_as_itself else path.name
    return rows


def assignment_digest(name: str) -> str:
    """What the grades depend on besides the file: the assignment's questions and tests."""
    folder = ASSIGNMENTS / name
    if not (folder / "questions.json").is_file():
        build(name)
    digest = hashlib.sha256()
    for part in ("questions.json", "autograder/autograder.zip"):
        digest.update((folder / part).read_bytes())
    return digest.hexdigest()


def grade_folder(
    number: str,
    folder: Path,
    limits: Limits | None = None,
    timeout: float | None = None,
    jobs: int | None = None,
    out: Path | None = None,
    echo=print,
) -> dict:
    """Grade every submission in ``folder`` that is new or changed; write the gradebook.

    Returns ``{"rows", "columns", "summary", "folder", "graded", "reused", "seconds"}``:
    the gradebook's rows (as written), its columns, the printed summary, where it all
    went, the files graded now and those whose earlier grades were kept, and the wall
    time of this run."""
    limits = limits or Limits()
    name = grading.notebook_name(number)
    capstone = name == grading.capstone_name()
    out = out or grading.GRADES / name
    out.mkdir(parents=True, exist_ok=True)
    files = submissions(folder, capstone)
    record_path = out / "graded.json"
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    context = {"assignment": assignment_digest(name), "limits": limits.describe()}
    digests = {file: sha256(folder / file) for file in files}
    todo, reused = [], []
    for file in files:
        kept = record.get(file)
        same = kept and kept["sha256"] == digests[file] and kept["context"] == context
        (reused if same else todo).append(file)
    start = time.perf_counter()

    def grade_one(file: str) -> dict:
        path = (folder / file).resolve()
        if capstone and path.suffix == ".keras":
            return grading.grade_model(path, timeout or grading.MODEL_TIMEOUT_S, limits)
        return grading.grade_notebook(
            number, path, timeout or grading.NOTEBOOK_TIMEOUT_S, limits=limits
        )

    echo(
        f"Grading {len(todo)} of {len(files)} files in {folder} ({name}; "
        f"{len(reused)} unchanged since last graded; limits: {limits.describe()})"
    )
    with ThreadPoolExecutor(max_workers=jobs or default_jobs()) as pool:
        futures = {pool.submit(grade_one, file): file for file in todo}
        for done, future in enumerate(as_completed(futures), 1):
            file = futures[future]
            report = future.result()
            record[file] = {
                "sha256": digests[file],
                "context": context,
                "report": report,
            }
            # Written after each file: an interrupted run resumes where it stopped.
            record_path.write_text(json.dumps(record, indent=1, default=str))
            points = sum(q["points"] for q in report["questions"].values())
            flags = f"  [{', '.join(report['flags'])}]" if report["flags"] else ""
            echo(
                f"  [{done}/{len(todo)}] {file}: {points:g} / {report['max']:g} "
                f"in {report.get('seconds', 0):.1f} s{flags}"
            )
    seconds = time.perf_counter() - start
    # Files no longer in the folder leave the gradebook, and the record.
    record = {file: record[file] for file in files}
    record_path.write_text(json.dumps(record, indent=1, default=str))
    rows, columns, automatic, manual = gradebook_rows(files, record, out / "gradebook.csv")
    write_csv(out / "gradebook.csv", rows, columns)
    write_answers(out / "answers", files, record, manual)
    plot_scores(out / "scores.png", rows, automatic, name)
    problems: dict[str, list[str]] = {}
    for file, row_name in files.items():
        problems.setdefault(row_name, []).extend(record[file]["report"]["problems"])
    summary = summarize(
        rows, columns, automatic, name, len(todo), len(reused), seconds, out, problems
    )
    echo(summary)
    return {
        "rows": rows,
        "columns": columns,
        "summary": summary,
        "folder": out,
        "graded": todo,
        "reused": reused,
        "seconds": seconds,
    }


# ------------------------------------------------------------------------------ the table


def _points_text(value: float) -> str:
    return f"{value:g}"


def read_hand_points(path: Path) -> dict[str, dict[str, str]]:
    """The ``hand`` columns of an earlier gradebook, by row, as written there."""
    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        return {
            row["submission"]: {k: v for k, v in row.items() if k.startswith(HAND_PREFIX)}
            for row in csv.DictReader(f)
        }


def hand_value(text: str, most: float, where: str) -> float | None:
    """A hand-given number of points, or None (blank); a warning for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = math.nan
    if not 0 <= value <= most:
        print(
            f"warning: {where} holds {text!r}; expected a number of points from 0 to "
            f"{most:g}. It is kept, but not counted: correct it in the gradebook.",
            file=sys.stderr,
        )
        return None
    return value


def _column(report: dict, question: str) -> str:
    """A question's column: the capstone's saved model has columns of its own."""
    return (MODEL_PREFIX if "saved model" in report["notebook"] else "") + question


def gradebook_rows(
    files: dict[str, str], record: dict, previous: Path
) -> tuple[list[dict], list[str], dict[str, float], dict[str, float]]:
    """The gradebook's rows and columns, and the questions graded automatically and by
    hand, each with its points."""
    automatic: dict[str, float] = {}
    manual: dict[str, float] = {}
    for file in files:
        report = record[file]["report"]
        for question, entry in report["questions"].items():
            automatic[_column(report, question)] = entry["max"]
        manual.update(report.get("manual_questions", {}))
    hand = read_hand_points(previous)
    rows: dict[str, dict] = {}
    for file, row_name in files.items():
        report = record[file]["report"]
        row = rows.setdefault(
            row_name, {"submission": row_name, "flags": [], "seconds": 0.0, "file": []}
        )
        for question, entry in report["questions"].items():
            row[_column(report, question)] = entry["points"]
        row["flags"] += [flag for flag in report["flags"] if flag not in row["flags"]]
        row["seconds"] += report.get("seconds", 0.0)
        row["file"].append(file)
    hand_columns = [HAND_PREFIX + q for q in manual]
    columns = [
        "submission",
        *automatic,
        "automatic",
        "automatic max",
        *hand_columns,
        "total",
        "max",
        "flags",
        "seconds",
        "file",
    ]
    automatic_max = sum(automatic.values())
    out = []
    for row_name, row in rows.items():
        given = hand.get(row_name, {})
        auto = sum(row.get(q, 0.0) for q in automatic)
        written = {
            "submission": row_name,
            **{q: _points_text(row.get(q, 0.0)) for q in automatic},
            "automatic": _points_text(auto),
            "automatic max": _points_text(automatic_max),
        }
        hand_total = 0.0
        for question in manual:
            column = HAND_PREFIX + question
            text = given.get(column, "")
            value = hand_value(text, manual[question], f"{row_name}'s {column!r}")
            hand_total += value or 0.0
            written[column] = text
        written["total"] = _points_text(auto + hand_total)
        written["max"] = _points_text(automatic_max + sum(manual.values()))
        written["flags"] = "; ".join(row["flags"])
        written["seconds"] = f"{row['seconds']:.1f}"
        written["file"] = " ".join(row["file"])
        out.append(written)
    return out, columns, automatic, manual


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


# --------------------------------------------------------------------------- the answers


def write_answers(
    folder: Path, files: dict[str, str], record: dict, manual: dict[str, float]
) -> list[Path]:
    """One Markdown file per hand-graded question: each student's answer under their name."""
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()
    written = []
    for question, most in manual.items():
        title = "Reflection" if question == REFLECTION else f"Exercise {question}"
        answers = [
            (row_name, text)
            for file, row_name in files.items()
            for name, text in record[file]["report"].get("manual", [])
            if name == question
        ]
        lines = [
            f"# {title}: {len(answers)} answers ({most:g} points each)\n",
            f"Write the points in the gradebook's column `{HAND_PREFIX}{question}`; "
            "grading the folder again keeps them.\n",
        ]
        for row_name, text in answers:
            lines += [f"## {row_name}\n", text.strip() or "(empty)", "", "---\n"]
        path = folder / f"{question}.md"
        path.write_text("\n".join(lines))
        written.append(path)
    return written


# ------------------------------------------------------------------------ the summary


def summarize(
    rows: list[dict],
    columns: list[str],
    automatic: dict[str, float],
    name: str,
    graded: int,
    reused: int,
    seconds: float,
    out: Path,
    problems: dict[str, list[str]] | None = None,
) -> str:
    """What a teacher reads first: the class's scores, the questions missed most, the
    submissions to look at (with what the grader found in each), and where everything
    went."""
    notebooks = [row for row in rows if grading.NOT_A_NOTEBOOK not in row["flags"]]
    totals = [float(row["automatic"]) for row in rows]
    top = sum(automatic.values())
    lines = [
        f"{name}: {len(rows)} submissions in the gradebook ({graded} graded now in "
        f"{seconds:.0f} s, {reused} unchanged)"
    ]
    if totals:
        spread = statistics.stdev(totals) if len(totals) > 1 else 0.0
        lines.append(
            f"  automatic points: mean {statistics.mean(totals):.1f} / {top:g}, "
            f"standard deviation {spread:.1f}, median {statistics.median(totals):g}, "
            f"from {min(totals):g} to {max(totals):g}"
        )
    missed = sorted(
        ((sum(float(row[q]) < most for row in notebooks), q) for q, most in automatic.items()),
        key=lambda item: (-item[0], item[1]),
    )
    if notebooks and missed and missed[0][0]:
        lines.append(
            "  missed most (fewer than full points): "
            + ", ".join(f"{q} by {n} of {len(notebooks)}" for n, q in missed[:3] if n)
        )
    flagged = [row for row in rows if row["flags"]]
    if flagged:
        lines.append("  look at by hand:")
        for row in flagged:
            lines.append(f"    {row['submission']}: {row['flags']}")
            lines += [
                f"      - {problem}" for problem in (problems or {}).get(row["submission"], [])
            ]
    hand = [c for c in columns if c.startswith(HAND_PREFIX)]
    if hand and notebooks:
        complete = sum(all(row[c].strip() for c in hand) for row in notebooks)
        lines.append(
            f"  hand points given in full for {complete} of {len(notebooks)} notebooks; "
            f"the answers to read: {out / 'answers'}"
        )
    lines.append(f"  gradebook: {out / 'gradebook.csv'}  (figure: {out / 'scores.png'})")
    return "\n".join(lines)


def plot_scores(path: Path, rows: list[dict], automatic: dict[str, float], name: str) -> None:
    """One panel per automatic question and one for their sum: how many submissions
    scored each number of points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [*automatic, "automatic"]
    most = {**automatic, "automatic": sum(automatic.values())}
    columns = min(len(panels), 4)
    lines = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(
        lines, columns, figsize=(3 * columns, 2.4 * lines), squeeze=False, sharey=True
    )
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        scores = [float(row[panel]) for row in rows]
        values = sorted(set(scores))
        ax.bar(values, [scores.count(v) for v in values], width=0.6, color="#4477aa")
        # Every whole number of points from 0 to the most, so that the panels compare.
        ax.set_xticks(range(int(most[panel]) + 1))
        ax.set_xlim(-0.6, most[panel] + 0.6)
        title = "all automatic points" if panel == "automatic" else panel
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("points")
        ax.yaxis.get_major_locator().set_params(integer=True)
    for ax in axes[:, 0]:
        ax.set_ylabel("submissions")
    fig.suptitle(f"{name}: {len(rows)} submissions, points per question", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------- the example class

#: The example class of the teachers' page (``book/gradebook_example/``) and of the
#: course's tests: submissions of this notebook, each showing one thing a teacher meets.
EXAMPLE_NOTEBOOK = "02"
#: The CPU-time limit the example is graded with, so that the endless loop is stopped
#: after 90 s rather than the default 300 s (the honest submissions need about 25 s).
EXAMPLE_LIMITS = Limits(cpu_seconds=90)
EXAMPLE = Path(__file__).resolve().parent.parent / "book" / "gradebook_example"
_HOSTILE = {
    "dorothy": "# a 6 GiB array\nimport numpy as np\nbig = np.ones(6 * 2**30 // 8)",
    "emmy": "import subprocess\n"
    "sleepers = [subprocess.Popen(['sleep', '600']) for _ in range(2000)]",
    "grace": "while True:\n    pass",
}
_OPEN_ANSWERS = {
    "ada": {
        "02.5": "The pooled maps of the shifted and the original image are almost the same: "
        "within each 2x2 window the largest response survives wherever it sits, so a "
        "one-pixel shift often stays inside the window. What it throws away is where, "
        "inside the window, the feature was.",
        REFLECTION: "I will remember that a convolution is the same small dot product at "
        "every position, and how padding and stride set the output size. I used no AI tool.",
    },
    "carl": {
        "02.5": "Max pooling keeps the maximum so the shift doesn't matter much.",
        REFLECTION: "Convolutions were new to me; stride was the hardest part.",
    },
}


def example_class(folder: Path) -> dict[str, str]:
    """Write the example class into ``folder``; returns each file with what it shows."""
    import nbformat

    from tools import assignments

    name = grading.notebook_name(EXAMPLE_NOTEBOOK)
    if not (ASSIGNMENTS / name / "student" / f"{name}.ipynb").is_file():
        build(name)
    student = nbformat.read(ASSIGNMENTS / name / "student" / f"{name}.ipynb", as_version=4)
    source = nbformat.read(assignments.ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    solutions = assignments.solutions(source)
    first = sorted(solutions)[0]

    def written(nb, who: str):
        """The open answers of ``who`` in the cells marked for them."""
        cells = [c for c in nb.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
        questions = [q for q in _OPEN_ANSWERS.get(who, {})]
        for cell, question in zip(cells, questions, strict=False):
            cell.source = _OPEN_ANSWERS[who][question]
        return nb

    def with_cell(nb, code: str):
        """``code`` in a new cell just after the first answer cell."""
        at = assignments.answer_cells(nb)[first] + 1
        nb.cells.insert(at, nbformat.v4.new_code_cell(code))
        return nb

    folder.mkdir(parents=True, exist_ok=True)
    shows = {
        "ada.ipynb": "every answer right, the open answers written",
        "blaise.ipynb": "handed in as given out: no answer",
        "carl.ipynb": f"only {first} answered (right)",
        "dorothy.ipynb": "every answer right, and a cell that asks for 6 GiB of memory",
        "emmy.ipynb": "every answer right, and a cell that starts 2,000 processes",
        "grace.ipynb": "every answer right, and a cell that loops forever",
        "hedy.pdf": "a PDF instead of the notebook",
    }
    notebooks = {
        "ada": written(assignments.answered(student, solutions), "ada"),
        "blaise": student,
        "carl": written(assignments.answered(student, {first: solutions[first]}), "carl"),
        **{
            who: with_cell(assignments.answered(student, solutions), code)
            for who, code in _HOSTILE.items()
        },
    }
    for who, nb in notebooks.items():
        nbformat.write(nb, folder / f"{who}.ipynb")
    (folder / "hedy.pdf").write_bytes(b"%PDF-1.4\n% the notebook printed as a PDF\n%%EOF\n")
    return shows


def write_example(out: Path = EXAMPLE) -> dict:
    """Grade the example class and keep its gradebook, summary and figure in ``out``."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="example-class-") as scratch:
        folder = Path(scratch) / "submissions"
        example_class(folder)
        lines: list[str] = []

        def echo(text: str) -> None:
            print(text)
            lines.append(text)

        result = grade_folder(
            EXAMPLE_NOTEBOOK,
            folder,
            limits=EXAMPLE_LIMITS,
            out=Path(scratch) / "grades",
            jobs=1,
            echo=echo,
        )
        out.mkdir(parents=True, exist_ok=True)
        for part in ("gradebook.csv", "scores.png"):
            shutil.copy(result["folder"] / part, out / part)
        # The printed text, with the scratch folder's paths as a teacher's would read.
        text = "\n".join(lines).replace(str(folder), "submissions")
        name = grading.notebook_name(EXAMPLE_NOTEBOOK)
        text = text.replace(str(result["folder"]), f"_build/grades/{name}")
        (out / "summary.txt").write_text(text + "\n")
    return result


if __name__ == "__main__":
    if sys.argv[1:] != ["example"]:
        raise SystemExit("usage: python -m tools.gradebook example   (the teachers' page's class)")
    write_example()
