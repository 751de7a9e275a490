"""Grade a submission, or a class: ``make grade NB=03 SUBMISSION=path``.

    python -m tools.grading 03 submissions/ada.ipynb
    python -m tools.grading 10 submissions/ada.keras     # the capstone's saved model
    python -m tools.grading 03 submissions/              # a folder: tools.gradebook

A notebook is graded by Otter-Grader (``otter run``, without Docker) against the
assignment ``make assignments`` built (``python -m tools.assignments``): the submission runs
top to bottom with the fast settings, then each checkable exercise's test checks the
last answer the notebook gave it. It runs in a separate process, in a scratch copy,
without administrator rights, within a time limit and within the memory, CPU-time and
process limits of ``tools.limits``, so that it cannot change the course's files, the
tests or the score recorded here, nor take the grading machine down. A cell that
reaches a limit is named in the report, and the rest of the notebook is still graded.

A ``.keras`` file for the capstone (the notebook named ``NN_capstone``) is graded by
:data:`CAPSTONE_RUBRIC` from its parameter count and its accuracy on the real test set,
measured in a separate process with the same limits; it is not retrained.

The per-question results come first, then what is left to grade by hand (open exercises
and the Reflection, written with the student's answers to ``_build/grades/``), and the
last line is ``score: <points> / <max>`` for what was graded automatically. A folder is
graded into a gradebook (``tools.gradebook``).
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
from tools.limits import (
    CPU,
    GB,
    MEMORY,
    PROCESSES,
    ControlGroup,
    Limits,
    cell_runs,
    install_hook,
    limits_reached,
    parse_size,
    read_log,
    rlimit_prefix,
    stopped_cell,
)
from tools.limits import available as limits_available

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
# scratch folder (the control groups' too, so that no process can leave its group), only
# a loopback network, and no capabilities left (so the submission, even as root, cannot
# remount anything writable). Arguments: the scratch folder, then the command.
CONTAIN = r"""
set -e
scratch="$1"; shift
ip link set lo up
mount --bind "$scratch" "$scratch"
for target in $(findmnt -rn -o TARGET); do
  case "$target" in
    "$scratch"|/proc|/proc/*|/sys|/dev|/dev/*) ;;
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
    cmd: list[str],
    scratch: Path,
    timeout: float,
    extra_env: dict[str, str] | None = None,
    limits: Limits | None = None,
) -> dict:
    """Run a command in ``scratch``, contained and within ``limits``, in its own process
    group and control group. Returns its exit ``code`` (None: stopped at the time-out),
    ``output``, ``seconds``, and the control group's counters (:meth:`ControlGroup.counters`).

    ``extra_env``: variables the command needs besides the kernel's few (such as
    ``PYTHONPATH``)."""
    limits = limits or Limits()
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
        **install_hook(scratch),
    }
    prefix, why_not = _containment(scratch)
    if why_not:
        print(f"warning: the submission runs without containment: {why_not}", file=sys.stderr)
    no_limits = limits_available()
    if no_limits:
        print(f"warning: the submission runs without its limits: {no_limits}", file=sys.stderr)
    group = ControlGroup(limits)
    start = time.perf_counter()
    try:
        process = subprocess.Popen(
            group.join_prefix + prefix + ([] if no_limits else rlimit_prefix(limits)) + cmd,
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
        seconds = time.perf_counter() - start
        counters = group.counters()
    finally:
        group.remove()
    return {"code": code, "output": output, "seconds": seconds, **counters}


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


#: How many times a notebook is run at most: once, and again without each cell that
#: stopped its kernel (a limit reached, or a crash), so that the rest is graded.
MAX_RUNS = 3
#: The flags of the gradebook, besides the limits' (tools.limits): short names for what
#: a teacher should look at.
TIME_OUT, NOT_A_NOTEBOOK, MACHINERY, NOT_GRADED, STOPPED = (
    "time-out",
    "not a notebook",
    "refers to the grader",
    "not graded",
    "kernel stopped",
)


def _stopped_source(reason: str) -> str:
    """What replaces a cell that stopped the kernel when the notebook is graded again."""
    return f"raise RuntimeError({('Grading stopped this cell: ' + reason)!r})"


def _first_line(source: str) -> str:
    """The cell's first line that is not an import or a comment, to name it by."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    line = next((x for x in lines if not re.match(r"(import|from|#)\b|#", x)), "")
    line = line or (lines[0] if lines else "")
    return line if len(line) <= 60 else line[:57] + "..."


def grade_notebook(
    number: str,
    submission: Path,
    timeout: float = NOTEBOOK_TIMEOUT_S,
    strict: bool = False,
    limits: Limits | None = None,
) -> dict:
    """Grade a notebook submission; returns the report that :func:`main` prints.

    ``strict`` (for the course's own tests) stops at the first cell that raises, so that
    a notebook graded without problems is one that ran without an error; a student's
    submission is graded past its errors. ``limits``: what the submission may use
    (:class:`tools.limits.Limits`; the defaults when None). A cell that stops the
    notebook's kernel is left out and the notebook graded again (at most
    :data:`MAX_RUNS` runs in all).
    """
    limits = limits or Limits()
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
        "manual_questions": {q["name"]: q["points"] for q in summary["questions"] if q["manual"]},
        "problems": [],
        "flags": [],
        "limits": limits.describe(),
    }
    nb, why = _read_notebook(submission)
    if nb is None:
        report["problems"].append(f"not graded: {why}. Submit the notebook (.ipynb) itself.")
        report["flags"].append(NOT_A_NOTEBOOK)
        return report
    source = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    touched = [what for what, pattern in TAMPERING.items() if re.search(pattern, source, re.M)]
    if touched:
        report["problems"].append(
            f"the submission's code refers to the grader's own machinery ({', '.join(touched)}): "
            "read it before trusting its score"
        )
        report["flags"].append(MACHINERY)
    report["manual"] = _manual_answers(nb, summary["questions"])
    prepared = _prepared(nb, name)
    code_cells = [cell for cell in prepared.cells if cell.cell_type == "code"]
    # The cells as the student numbers them: code cells, without the injected settings.
    numbers, count = [], 0
    for cell in code_cells:
        count += "injected-parameters" not in cell.metadata.get("tags", [])
        numbers.append(count)

    def label(index: int) -> str:
        return f"code cell {numbers[index]} ({_first_line(code_cells[index].source)!r})"

    report["seconds"] = 0.0
    report["runs"] = 0
    for run in range(1, MAX_RUNS + 1):
        result, log, results = _otter_run(prepared, name, assignment, timeout, strict, limits)
        report["seconds"] += result["seconds"]
        report["runs"] = run
        report["memory_peak"] = max(report.get("memory_peak", 0), result["memory_peak"])
        sources = [cell.source for cell in code_cells]
        runs = cell_runs(log, sources)
        reached = limits_reached(log)
        if result["oom_kills"]:
            reached.append(MEMORY)
        if result["process_refusals"]:
            reached.append(PROCESSES)
        for limit in reached:
            if limit not in report["flags"]:
                report["flags"].append(limit)
        for entry in runs:
            if entry["error"] == "MemoryError" and entry["index"] is not None:
                report["problems"].append(
                    f"{label(entry['index'])} asked for "
                    f"more memory than the limit ({limits.memory / GB:g} GB) and got a "
                    "MemoryError; the notebook went on"
                )
        if results is not None:
            _read_results(results, automatic, report)
            break
        if result["code"] is None:
            report["problems"].append(
                f"not graded: the submission did not finish within {timeout:.0f} s (an endless "
                "loop, or far more training than the exercises need)"
            )
            report["flags"].append(TIME_OUT)
            break
        stopped = stopped_cell(log, sources)
        if stopped is None or run == MAX_RUNS:
            tail = ANSI.sub("", result["output"]).strip().splitlines()[-5:]
            report["problems"].append(
                f"not graded: the grader stopped with exit code {result['code']}: "
                + " | ".join(tail)
            )
            report["flags"].append(NOT_GRADED)
            break
        why = _why_stopped(reached, limits)
        if why is None:
            report["flags"].append(STOPPED)
        report["problems"].append(
            f"{label(stopped)} "
            + (why or "stopped the notebook's kernel (a crash)")
            + ": the notebook was graded again without it, so the score is for the rest"
        )
        code_cells[stopped].source = _stopped_source(
            why or "it stopped the notebook's kernel (a crash)"
        )
    report["flags"] = list(dict.fromkeys(report["flags"]))
    return report


def _why_stopped(reached: list[str], limits: Limits) -> str | None:
    """Why the kernel stopped, in words, from the limits the run reached (None: unknown)."""
    if CPU in reached:
        return f"reached the CPU-time limit ({limits.cpu_seconds:g} s)"
    if PROCESSES in reached:
        return f"started more processes than the limit ({limits.processes})"
    if MEMORY in reached:
        return f"needed more memory than the limit ({limits.memory / GB:g} GB)"
    return None


def _otter_run(
    prepared, name: str, assignment: Path, timeout: float, strict: bool, limits: Limits
) -> tuple[dict, list[dict], dict | None]:
    """One ``otter run`` of the prepared notebook, contained: the run's result
    (:func:`_run_contained`), the kernel's log, and Otter's results (None if none)."""
    scratch = Path(tempfile.mkdtemp(prefix=f"grade-{name}-"))
    try:
        (scratch / "submission").mkdir()
        (scratch / "out").mkdir()
        nbformat.write(prepared, scratch / "submission" / f"{name}.ipynb")
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
        result = _run_contained(cmd, scratch, timeout, limits=limits)
        log = read_log(scratch / "tmp" / "cells.jsonl")
        results_path = scratch / "out" / "results.json"
        results = None
        if result["code"] == 0 and results_path.is_file():
            results = json.loads(results_path.read_text())
        return result, log, results
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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


def grade_model(
    submission: Path, timeout: float = MODEL_TIMEOUT_S, limits: Limits | None = None
) -> dict:
    """Grade the capstone's saved model by :data:`CAPSTONE_RUBRIC`, within ``limits``."""
    limits = limits or Limits()
    report = {
        "notebook": f"{capstone_name()} (saved model)",
        "submission": str(submission),
        "questions": {},
        "manual": [],
        "max": capstone_max(),
        "manual_max": 0,
        "manual_questions": {},
        "problems": [],
        "flags": [],
        "limits": limits.describe(),
    }
    top = CAPSTONE_RUBRIC["accuracy"][0][1]
    report["questions"] = {
        "test accuracy": {"points": 0.0, "max": top, "message": ""},
        "size": {"points": 0.0, "max": CAPSTONE_RUBRIC["size_points"], "message": ""},
    }
    if not submission.is_file():
        report["problems"].append(f"not graded: {submission} is not a file")
        report["flags"].append(NOT_GRADED)
        return report
    size = submission.stat().st_size
    if size > MAX_MODEL_BYTES:
        report["problems"].append(
            f"not graded: the file is {size:,} bytes, more than {MAX_MODEL_BYTES:,}"
        )
        report["flags"].append(NOT_GRADED)
        return report
    scratch = Path(tempfile.mkdtemp(prefix="grade-model-"))
    try:
        shutil.copy(submission, scratch / "model.keras")
        # This module again, as `python -m tools.grading` from the repository (read-only
        # in the containment), in the scratch folder that holds the model.
        cmd = [sys.executable, "-m", "tools.grading", "--measure", "model.keras"]
        result = _run_contained(
            cmd, scratch, timeout, extra_env={"PYTHONPATH": str(ROOT)}, limits=limits
        )
        report["seconds"] = result["seconds"]
        report["memory_peak"] = result["memory_peak"]
        code, output = result["code"], result["output"]
        last = output.strip().splitlines()[-1] if output.strip() else ""
        if code is None:
            report["problems"].append(
                f"not graded: loading and measuring took more than {timeout:.0f} s"
            )
            report["flags"].append(TIME_OUT)
        elif code != 0 or not last.startswith("{"):
            if result["oom_kills"] or "MemoryError" in output:
                report["flags"].append(MEMORY)
                last = f"measuring the model needed more than the memory limit ({limits.memory / GB:g} GB)"
            elif code in (-signal.SIGXCPU, -signal.SIGKILL):
                report["flags"].append(CPU)
                last = f"measuring the model reached the CPU-time limit ({limits.cpu_seconds:g} s)"
            report["problems"].append(f"not graded: {last or 'the model could not be measured'}")
            report["flags"].append(NOT_GRADED)
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
        "submission",
        nargs="?",
        help="the student's .ipynb (or .keras for the capstone), or a folder of them",
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds before a submission is stopped"
    )
    defaults = Limits()
    parser.add_argument(
        "--memory",
        type=parse_size,
        default=defaults.memory,
        help=f"a submission's memory, e.g. 2G (default {defaults.memory / GB:g}G)",
    )
    parser.add_argument(
        "--cpu-time",
        type=float,
        default=defaults.cpu_seconds,
        help=f"seconds of CPU time for a submission (default {defaults.cpu_seconds:g})",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=defaults.processes,
        help=f"processes and threads a submission may run at once (default {defaults.processes})",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="submissions of a folder graded at once (default: one per four cores)",
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
            "usage: make grade NB=<two-digit number> SUBMISSION=<.ipynb, .keras or a folder>"
        )
    try:
        limits = Limits(memory=args.memory, cpu_seconds=args.cpu_time, processes=args.processes)
    except ValueError as err:
        parser.error(str(err))
    submission = Path(args.submission).resolve()
    if submission.is_dir():
        from tools import gradebook  # it imports this module

        gradebook.grade_folder(
            args.notebook, submission, limits=limits, timeout=args.timeout, jobs=args.jobs
        )
        return 0
    if notebook_name(args.notebook) == capstone_name() and submission.suffix == ".keras":
        report = grade_model(submission, args.timeout or MODEL_TIMEOUT_S, limits)
    else:
        report = grade_notebook(
            args.notebook, submission, args.timeout or NOTEBOOK_TIMEOUT_S, limits=limits
        )
    folder = write_record(report)
    print(render(report).replace("\nscore:", f"\n  record: {folder}\nscore:"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
