"""Grade one submission: ``make grade NB=03 SUBMISSION=path/to/03_training.ipynb``.

    python -m tools.grading 03 submissions/ada.ipynb
    python -m tools.grading 10 submissions/ada.keras     # the capstone's saved model

A notebook is graded by Otter-Grader (``otter run``, without Docker) against the
assignment ``make assignments`` built (``python -m tools.assignments``): the submission runs
top to bottom with the fast settings, then each checkable exercise's test checks the
last answer the notebook gave it. It runs in a separate process, in a scratch copy, as
an unprivileged user when the grader runs as root, and within a time limit, so that it
cannot change the course's files, the tests or the score recorded here.

A ``.keras`` file for the capstone (the notebook named ``NN_capstone``) is graded by
:data:`CAPSTONE_RUBRIC` from its parameter count and its accuracy on the real test set,
measured in a separate process with the same limits; it is not retrained.

The per-question results come first, then what is left to grade by hand (open exercises
and the Reflection, written with the student's answers to ``_build/grades/``), and the
last line is ``score: <points> / <max>`` for what was graded automatically.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat
import numpy as np
from papermill.parameterize import parameterize_notebook

from helpers import data, models
from tools.assignments import OUT as ASSIGNMENTS
from tools.assignments import REFLECTION, build
from tools.course import BUILD, ROOT, kernel_env, profile_parameters, toc_notebooks

GRADES = BUILD / "grades"
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the colours of a traceback
NOTEBOOK_TIMEOUT_S = 600
MODEL_TIMEOUT_S = 180
MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_MODEL_BYTES = 50 * 2**20
# Names that only a submission trying to change its own grade would touch.
TAMPERING = {
    "last_answer": r"\blast_answer\b",
    "_ANSWERS": r"\b_ANSWERS\b",
    "_REGISTRY": r"\b_REGISTRY\b",
    "otter": r"\botter\b",
    "a new check": r"^\s*(def\s+check\s*\(|check\s*=|[\w.]+\.check\s*=)",
}

#: The capstone's rubric: (test accuracy at least, points), the highest that applies,
#: plus the points for a model of at most MAX_PARAMETERS parameters.
CAPSTONE_RUBRIC = {
    "accuracy": [
        (models.CAPSTONE_GOAL, 6),  # the capstone's goal
        (round(models.CAPSTONE_GOAL - 0.01, 2), 4),
        (round(models.CAPSTONE_GOAL - 0.03, 2), 2),
    ],
    "max_parameters": models.CAPSTONE_MAX_PARAMETERS,
    "size_points": 2,
}


def capstone_max() -> int:
    return CAPSTONE_RUBRIC["accuracy"][0][1] + CAPSTONE_RUBRIC["size_points"]


#: The notebook graded from its saved model (``.keras``) as well as from the notebook
#: itself: the one named ``NN_capstone``, whatever its number.
CAPSTONE = "capstone"


def notebook_name(number: str) -> str:
    """The notebook of _toc.yml whose name starts with the two-digit number."""
    names = [Path(entry).name for entry in toc_notebooks()]
    found = [name for name in names if name.startswith(f"{number}_")]
    if len(number) != 2 or not found:
        raise SystemExit(
            f"NB={number!r} names no notebook of the course; expected a two-digit number, "
            f"one of {', '.join(n[:2] for n in names)}"
        )
    return found[0]


def capstone_name() -> str:
    """The capstone's name in _toc.yml (``NN_capstone``)."""
    names = [Path(e).name for e in toc_notebooks() if Path(e).name.partition("_")[2] == CAPSTONE]
    if len(names) != 1:
        raise SystemExit(
            f"_toc.yml lists {len(names)} notebooks named NN_{CAPSTONE} ({names}); expected "
            "exactly one, the notebook whose saved model `make grade` grades"
        )
    return names[0]


# Run inside new mount, PID and network namespaces: every file system read-only but the
# scratch folder, only a loopback network, and no capabilities left (so the submission,
# even as root, cannot remount anything writable). Arguments: the scratch folder, then
# the command.
CONTAIN = r"""
set -e
scratch="$1"; shift
ip link set lo up
mount --bind "$scratch" "$scratch"
for target in $(findmnt -rn -o TARGET); do
  case "$target" in
    "$scratch"|/proc|/proc/*|/sys|/sys/*|/dev|/dev/*) ;;
    *) mount -o remount,ro,bind "$target" ;;
  esac
done
exec setpriv --no-new-privs --bounding-set=-all --inh-caps=-all -- "$@"
"""


def _containment(scratch: Path) -> tuple[list[str], str]:
    """The command prefix that contains a submission, and "" or why it cannot be contained."""
    missing = [
        tool for tool in ("unshare", "setpriv", "findmnt", "ip") if shutil.which(tool) is None
    ]
    if missing:
        return [], f"{', '.join(missing)} not found (util-linux and iproute2 on Linux)"
    prefix = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--pid",
        "--fork",
        "--mount-proc",
        "--kill-child",
        "--net",
    ]
    if os.geteuid() != 0:
        prefix[1:1] = ["--user", "--map-root-user"]
    prefix += ["--", "bash", "-c", CONTAIN, "contain", str(scratch)]
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True)
    if probe.returncode:
        return [], f"Linux namespaces are not available here ({probe.stderr.strip()[:200]})"
    return prefix, ""


def _run_contained(
    cmd: list[str], scratch: Path, timeout: float, extra_env: dict[str, str] | None = None
) -> tuple[int | None, str, float]:
    """Run a command in ``scratch`` in its own process group; (exit code or None, output, s).

    ``extra_env``: variables the command needs besides the kernel's few (such as
    ``PYTHONPATH``)."""
    env = kernel_env("fast")
    keep = {
        k: env[k]
        for k in ("PATH", "FASHION_MNIST_DIR", "PYTHONHASHSEED", "TF_CPP_MIN_LOG_LEVEL", "LANG")
        if k in env
    }
    env = {
        **keep,
        **(extra_env or {}),
        "PATH": f"{Path(sys.executable).parent}:{keep.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(scratch),
        "TMPDIR": str(scratch / "tmp"),
        "MPLCONFIGDIR": str(scratch / "tmp"),
        "JUPYTER_RUNTIME_DIR": str(scratch / "tmp"),
        "COURSE_MODELS_DIR": str(scratch / "models"),
        "KERAS_HOME": str(scratch / "keras"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    (scratch / "tmp").mkdir(exist_ok=True)
    prefix, why_not = _containment(scratch)
    if why_not:
        print(f"warning: the submission runs without containment: {why_not}", file=sys.stderr)
    start = time.perf_counter()
    process = subprocess.Popen(
        prefix + cmd,
        cwd=scratch,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        code = None
    finally:
        try:  # whatever the submission started in the background goes too
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return code, output, time.perf_counter() - start


def _read_notebook(path: Path) -> tuple[object | None, str]:
    """The submission as a notebook, or None and why it is not one."""
    if not path.is_file():
        return None, f"{path} is not a file"
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return None, f"{path} is {path.stat().st_size:,} bytes, more than {MAX_NOTEBOOK_BYTES:,}"
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # not JSON, not a notebook, an invalid notebook
        return (
            None,
            f"{path.name} is not a Jupyter notebook ({type(err).__name__}: {str(err)[:200]})",
        )
    return nb, ""


def _prepared(nb, name: str):
    """The submission with the fast settings injected and the course's kernel."""
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata.setdefault("papermill", {})
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    return parameterize_notebook(nb, profile_parameters("fast", name))


def _manual_answers(nb, questions: list[dict]) -> list[tuple[str, str]]:
    """Each hand-graded question with the student's text: the answer cell after its prompt."""
    answers = []
    for q in (q for q in questions if q["manual"]):
        marker = "## Reflection" if q["name"] == REFLECTION else f"**Exercise {q['name']} (open"
        text = "(no answer cell found in the submission)"
        starts = [i for i, cell in enumerate(nb.cells) if marker in cell.source]
        for cell in nb.cells[starts[0] + 1 :] if starts else []:
            if "otter_answer_cell" in cell.metadata.get("tags", []):
                text = cell.source.strip()
                break
            if "<!-- END QUESTION -->" in cell.source:
                break
        answers.append((q["name"], text))
    return answers


def grade_notebook(
    number: str, submission: Path, timeout: float = NOTEBOOK_TIMEOUT_S, strict: bool = False
) -> dict:
    """Grade a notebook submission; returns the report that :func:`main` prints.

    ``strict`` (for the course's own tests) stops at the first cell that raises, so that
    a notebook graded without problems is one that ran without an error; a student's
    submission is graded past its errors.
    """
    name = notebook_name(number)
    assignment = ASSIGNMENTS / name
    if not (assignment / "questions.json").is_file():
        build(name)
    summary = json.loads((assignment / "questions.json").read_text())
    automatic = [q for q in summary["questions"] if not q["manual"]]
    report = {
        "notebook": name,
        "submission": str(submission),
        "questions": {
            q["name"]: {"points": 0.0, "max": q["points"], "message": ""} for q in automatic
        },
        "manual": [],
        "max": summary["automatic_points"],
        "manual_max": summary["manual_points"],
        "problems": [],
    }
    nb, why = _read_notebook(submission)
    if nb is None:
        report["problems"].append(f"not graded: {why}. Submit the notebook (.ipynb) itself.")
        return report
    source = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    touched = [what for what, pattern in TAMPERING.items() if re.search(pattern, source, re.M)]
    if touched:
        report["problems"].append(
            f"the submission's code refers to the grader's own machinery ({', '.join(touched)}): "
            "read it before trusting its score"
        )
    report["manual"] = _manual_answers(nb, summary["questions"])
    scratch = Path(tempfile.mkdtemp(prefix=f"grade-{name}-"))
    try:
        (scratch / "submission").mkdir()
        (scratch / "out").mkdir()
        nbformat.write(_prepared(nb, name), scratch / "submission" / f"{name}.ipynb")
        shutil.copy(assignment / "autograder" / "autograder.zip", scratch / "autograder.zip")
        otter = str(Path(sys.executable).parent / "otter")
        cmd = [
            otter,
            "run",
            "-a",
            "autograder.zip",
            "-o",
            "out",
            "--no-logo",
            f"submission/{name}.ipynb",
        ] + (["--debug"] if strict else [])
        code, output, seconds = _run_contained(cmd, scratch, timeout)
        report["seconds"] = seconds
        results_path = scratch / "out" / "results.json"
        if code is None:
            report["problems"].append(
                f"not graded: the submission did not finish within {timeout:.0f} s (an endless "
                "loop, or far more training than the exercises need)"
            )
        elif code != 0 or not results_path.is_file():
            tail = ANSI.sub("", output).strip().splitlines()[-5:]
            report["problems"].append(
                f"not graded: the grader stopped with exit code {code}: " + " | ".join(tail)
            )
        else:
            _read_results(json.loads(results_path.read_text()), automatic, report)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return report


def _read_results(results: dict, automatic: list[dict], report: dict) -> None:
    """Per-question points from Otter's results.json, capped at each question's points."""
    by_name = {q["otter_name"]: q for q in automatic}
    for test in results.get("tests", []):
        question = by_name.get(test.get("name", "").split(" - ")[0])
        if question is None:
            continue
        entry = report["questions"][question["name"]]
        entry["points"] = max(0.0, min(float(test.get("score") or 0.0), question["points"]))
        if entry["points"] < question["points"]:
            entry["message"] = _feedback_line(test.get("output", ""))


def _feedback_line(output: str) -> str:
    for line in output.splitlines():
        if "Exercise " in line and ("Not yet" in line or "Not attempted" in line):
            return line.strip()[:300]
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


# ------------------------------------------------------------------------ the capstone's model


def measure_model(path: str) -> dict:
    """Load a .keras file and measure it on the real test set (run in the contained process)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Keras (and TensorFlow under it) only here, in the contained process that measures a
    # saved model: grading a notebook needs neither, and importing them takes seconds.
    import keras

    if not zipfile.is_zipfile(path):
        raise ValueError("it is not a .keras archive (Keras saves models as zip files)")
    model = keras.models.load_model(path, compile=False, safe_mode=True)
    if not isinstance(model, keras.Model):
        raise TypeError(f"the file holds a {type(model).__name__}, not a Keras model")
    input_shape = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
    output_shape = (
        tuple(model.output_shape[1:]) if not isinstance(model.output_shape, list) else None
    )
    if input_shape != (28, 28, 1) or output_shape != (10,):
        raise ValueError(
            f"the model maps {model.input_shape} to {model.output_shape}; expected images "
            "(None, 28, 28, 1) to ten class probabilities (None, 10)"
        )
    (_, _), (x_test, y_test) = data.load_fashion_mnist()
    x_test = data.to_model_input(x_test)
    model.predict(x_test[:256], batch_size=256, verbose=0)  # warm-up
    start = time.perf_counter()
    probabilities = np.asarray(model.predict(x_test, batch_size=1024, verbose=0))
    seconds = time.perf_counter() - start
    if probabilities.shape != (len(y_test), 10) or not np.all(np.isfinite(probabilities)):
        raise ValueError(
            f"the model's predictions have shape {probabilities.shape} or are not finite"
        )
    return {
        "parameters": int(model.count_params()),
        "test_accuracy": float(np.mean(probabilities.argmax(axis=1) == y_test)),
        "inference_ms_per_image": 1000 * seconds / len(y_test),
    }


def capstone_points(parameters: int, accuracy: float) -> dict[str, int]:
    accuracy_points = next((p for bound, p in CAPSTONE_RUBRIC["accuracy"] if accuracy >= bound), 0)
    size_points = (
        CAPSTONE_RUBRIC["size_points"] if parameters <= CAPSTONE_RUBRIC["max_parameters"] else 0
    )
    return {"test accuracy": accuracy_points, "size": size_points}


def grade_model(submission: Path, timeout: float = MODEL_TIMEOUT_S) -> dict:
    """Grade the capstone's saved model by :data:`CAPSTONE_RUBRIC`."""
    report = {
        "notebook": f"{capstone_name()} (saved model)",
        "submission": str(submission),
        "questions": {},
        "manual": [],
        "max": capstone_max(),
        "manual_max": 0,
        "problems": [],
    }
    top = CAPSTONE_RUBRIC["accuracy"][0][1]
    report["questions"] = {
        "test accuracy": {"points": 0.0, "max": top, "message": ""},
        "size": {"points": 0.0, "max": CAPSTONE_RUBRIC["size_points"], "message": ""},
    }
    if not submission.is_file():
        report["problems"].append(f"not graded: {submission} is not a file")
        return report
    size = submission.stat().st_size
    if size > MAX_MODEL_BYTES:
        report["problems"].append(
            f"not graded: the file is {size:,} bytes, more than {MAX_MODEL_BYTES:,}"
        )
        return report
    scratch = Path(tempfile.mkdtemp(prefix="grade-model-"))
    try:
        shutil.copy(submission, scratch / "model.keras")
        # This module again, as `python -m tools.grading` from the repository (read-only
        # in the containment), in the scratch folder that holds the model.
        cmd = [sys.executable, "-m", "tools.grading", "--measure", "model.keras"]
        code, output, seconds = _run_contained(
            cmd, scratch, timeout, extra_env={"PYTHONPATH": str(ROOT)}
        )
        report["seconds"] = seconds
        last = output.strip().splitlines()[-1] if output.strip() else ""
        if code is None:
            report["problems"].append(
                f"not graded: loading and measuring took more than {timeout:.0f} s"
            )
        elif code != 0 or not last.startswith("{"):
            report["problems"].append(f"not graded: {last or 'the model could not be measured'}")
        else:
            measured = json.loads(last)
            report["measured"] = measured
            points = capstone_points(measured["parameters"], measured["test_accuracy"])
            for key, value in points.items():
                report["questions"][key]["points"] = float(value)
            report["questions"]["test accuracy"]["message"] = (
                f"{measured['test_accuracy']:.2%} on the 10,000 test images"
            )
            report["questions"]["size"]["message"] = (
                f"{measured['parameters']:,} parameters (at most {CAPSTONE_RUBRIC['max_parameters']:,} for the points)"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return report


# ---------------------------------------------------------------------------------- output


def render(report: dict) -> str:
    lines = [f"Grading {report['submission']} ({report['notebook']})"]
    for problem in report["problems"]:
        lines.append(f"  ! {problem}")
    for name, entry in report["questions"].items():
        label = f"exercise {name}" if name[0].isdigit() else name
        line = f"  {label}: {entry['points']:g} / {entry['max']:g}"
        if entry["message"]:
            line += f"  ({entry['message']})"
        lines.append(line)
    if "measured" in report:
        lines.append(
            f"  inference: {report['measured']['inference_ms_per_image']:.3f} ms per image (not scored)"
        )
    if report["manual"]:
        lines.append(
            f"  to grade by hand ({report['manual_max']:g} points): "
            + ", ".join(n for n, _ in report["manual"])
        )
    if "seconds" in report:
        lines.append(f"  graded in {report['seconds']:.1f} s")
    total = sum(entry["points"] for entry in report["questions"].values())
    lines.append(f"score: {total:g} / {report['max']:g}")
    return "\n".join(lines)


def write_record(report: dict) -> Path:
    """The report as JSON and the hand-graded answers as Markdown, under _build/grades/."""
    stem = Path(report["submission"]).stem
    folder = GRADES / report["notebook"].split()[0]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(report, indent=2, default=str))
    if report["manual"]:
        text = [f"# {stem}: answers to grade by hand ({report['notebook']})\n"]
        for name, answer in report["manual"]:
            title = "Reflection" if name == REFLECTION else f"Exercise {name}"
            text.append(f"## {title}\n\n{answer}\n")
        (folder / f"{stem}.md").write_text("\n".join(text))
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("notebook", nargs="?", help="the notebook's two-digit number, e.g. 03")
    parser.add_argument(
        "submission", nargs="?", help="the student's .ipynb (or .keras for the capstone)"
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds before the submission is stopped"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:  # inside the contained process
        try:
            print(json.dumps(measure_model(args.measure)))
        except Exception as err:
            print(f"the file is not a usable Keras model: {type(err).__name__}: {str(err)[:300]}")
            return 1
        return 0
    if not args.notebook or not args.submission:
        parser.error(
            "usage: make grade NB=<two-digit number> SUBMISSION=<path to .ipynb or .keras>"
        )
    submission = Path(args.submission).resolve()
    if notebook_name(args.notebook) == capstone_name() and submission.suffix == ".keras":
        report = grade_model(submission, args.timeout or MODEL_TIMEOUT_S)
    else:
        report = grade_notebook(args.notebook, submission, args.timeout or NOTEBOOK_TIMEOUT_S)
    folder = write_record(report)
    print(render(report).replace("\nscore:", f"\n  record: {folder}\nscore:"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
