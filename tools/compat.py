"""Run the course against the oldest and the newest versions its helpers allow.

    python -m tools.compat                  # both environments (what `make compat` runs)
    python -m tools.compat oldest           # one of them
    python -m tools.compat --setup-only     # only build the wheel and the environments
    python -m tools.compat --reuse          # reuse the environments; reinstall only the helpers

The helpers (`fashion-cnn-course`) declare ranges, not pins, so that installing them on
Colab keeps Colab's own TensorFlow and Keras. This command checks that those ranges are
true. For each environment it

1. builds the helpers as a wheel and installs it, not editable, into a fresh virtual
   environment under the work directory, together with TensorFlow (`tensorflow-cpu`)
   and what executing a notebook needs (papermill, ipykernel, nbformat):
   - **oldest**: every dependency of pyproject.toml at its lower bound (`keras>=3.5.0`
     is installed as `keras==3.5.0`, and the `tf` extra's bound as `tensorflow-cpu`);
   - **newest**: the newest versions the ranges allow;
2. executes every notebook of `_toc.yml` with the fast profile and its solutions
   (`course.with_solutions`), with papermill and the kernel of that environment, from a
   copy of the notebooks outside the repository; an inserted first cell checks that
   `helpers` is imported from the environment's site-packages, not from the repository;
   the two environments run side by side, each its notebooks in book order (notebook
   04 reads the model 03 saved in the same environment);
3. counts a notebook as failed if a cell raises, a solution does not pass its check, or
   Keras warns that training stopped early (its results would be wrong);
4. writes `report.json` (with every warning the notebooks printed) and prints the
   versions, each notebook's result and its time.

It exits non-zero if any notebook fails, naming the environment, the notebook, the cell
and the error. Installing downloads about 1 GB the first time (pip's cache keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from packaging.requirements import Requirement

from tools import course

ROOT = course.ROOT
ENVIRONMENTS = ("oldest", "newest")
DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "fashion-cnn-course-compat"
KERNEL_PREFIX = "fashion-cnn-course-compat"
# What executing the notebooks needs besides the helpers' own dependencies. Unpinned:
# they run the notebooks but are not imported by them.
RUNNER = ["papermill", "ipykernel", "nbformat"]
# The TensorFlow build installed for the helpers' `tf` extra: the CPU build is the same
# code as `tensorflow`, 300 MB smaller and without CUDA (a laptop, CI).
TF_EXTRA = "tf"
TF_DIST = "tensorflow-cpu"
# The packages whose versions the report lists.
KEY_PACKAGES = ["tensorflow-cpu", "keras", "numpy", "pandas", "matplotlib", "seaborn"]
# Files the wheel is built from (pyproject.toml names them); copied out of the repository
# so that building leaves nothing behind in it.
WHEEL_SOURCES = ["pyproject.toml", "README.md", "LICENSE", "helpers"]

CHECK_CELL = """\
# Inserted by `python -m tools.compat`: the helpers come from the installed wheel, in this kernel's
# environment, and not from the repository.
import importlib.metadata
import json
import sys
import sysconfig
from pathlib import Path

import helpers

_site = Path(sysconfig.get_paths()["purelib"]).resolve()
_found = Path(helpers.__file__).resolve()
assert Path(sys.prefix).resolve() == Path({prefix!r}).resolve(), (
    f"the kernel runs in {{sys.prefix}}, expected the environment {prefix!r}"
)
assert _found.is_relative_to(_site), (
    f"helpers was imported from {{_found}}, expected the installed wheel in {{_site}}"
)
print("COMPAT", json.dumps({{
    "helpers": str(_found),
    "versions": {{name: importlib.metadata.version(name) for name in {packages!r}}},
}}))
"""


# Warnings that mean a notebook ran but its results are wrong: Keras stopped training
# early (Keras 3.0 with steps_per_execution), so the run counts as failed.
WRONG_RESULTS = ("Your input ran out of data",)
WARNING = re.compile(r"\b(\w*Warning: .*)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colours in IPython's tracebacks


class CompatFailed(RuntimeError):
    """An environment could not be set up, or a notebook failed in it."""


def declared(pyproject: Path = ROOT / "pyproject.toml") -> list[Requirement]:
    """The helpers' requirements, with the `tf` extra's TensorFlow as `tensorflow-cpu`."""
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    for line in project.get("optional-dependencies", {}).get(TF_EXTRA, []):
        req = Requirement(line)
        if req.name.lower() == "tensorflow":
            req.name = TF_DIST
        requirements.append(req)
    return requirements


def lower_bound(req: Requirement) -> str:
    """The version of a `>=` bound, e.g. '3.0.0' for keras>=3.0.0,<4."""
    bounds = [spec.version for spec in req.specifier if spec.operator == ">="]
    if len(bounds) != 1:
        raise CompatFailed(
            f"pyproject.toml: {req} has {len(bounds)} '>=' bounds; expected exactly one, "
            f"such as '{req.name}>=1.2.3', so that the oldest environment can install it"
        )
    return bounds[0]


def constraints(env: str) -> list[str]:
    """pip constraints of an environment: the lower bounds (oldest) or the ranges (newest)."""
    reqs = declared()
    if env == "oldest":
        return [f"{req.name}=={lower_bound(req)}" for req in reqs]
    return [f"{req.name}{req.specifier}" for req in reqs]


def _run(cmd: list, what: str, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; on failure raise with what it was for and the end of its output."""
    print("$", " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, check=False, **kwargs
    )
    if result.returncode:
        tail = (result.stdout + result.stderr).strip()[-3000:]
        raise CompatFailed(f"{what} failed (exit {result.returncode}):\n{tail}")
    return result


def build_wheel(workdir: Path) -> Path:
    """Build the helpers' wheel from a copy of the sources; return its path."""
    src, dist = workdir / "src", workdir / "dist"
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(dist, ignore_errors=True)
    src.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in WHEEL_SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", dist, src],
        "building the helpers' wheel",
    )
    wheels = sorted(dist.glob("fashion_cnn_course-*.whl"))
    if len(wheels) != 1:
        raise CompatFailed(f"expected one wheel in {dist}, found {[w.name for w in wheels]}")
    return wheels[0]


def venv_python(workdir: Path, env: str) -> Path:
    return workdir / env / "venv" / "bin" / "python"


def kernel_name(env: str) -> str:
    return f"{KERNEL_PREFIX}-{env}"


def setup(workdir: Path, env: str, wheel: Path) -> None:
    """A fresh virtual environment with the wheel, the environment's versions and a kernel."""
    venv = workdir / env / "venv"
    shutil.rmtree(workdir / env, ignore_errors=True)
    (workdir / env).mkdir(parents=True)
    _run([sys.executable, "-m", "venv", venv], f"[{env}] creating {venv}")
    python = venv_python(workdir, env)
    _run(
        [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        f"[{env}] upgrading pip",
    )
    pins = workdir / env / "constraints.txt"
    pins.write_text("\n".join(constraints(env)) + "\n")
    print(f"[{env}] constraints: {', '.join(constraints(env))}", flush=True)
    _run(
        [python, "-m", "pip", "install", "--quiet", "-c", pins, wheel, TF_DIST, *RUNNER],
        f"[{env}] installing the helpers' wheel with {pins.read_text().split()}",
    )
    _run([python, "-m", "pip", "check"], f"[{env}] pip check")
    # A kernel spec inside the environment (--sys-prefix) under its own name, so that no
    # `python3` kernel of another environment (e.g. ~/.local/share/jupyter) is picked.
    _run(
        [python, "-m", "ipykernel", "install", "--sys-prefix", "--name", kernel_name(env)],
        f"[{env}] installing its Jupyter kernel",
    )
    freeze = _run([python, "-m", "pip", "freeze"], f"[{env}] pip freeze").stdout
    (workdir / env / "freeze.txt").write_text(freeze)


def refresh(workdir: Path, env: str, wheel: Path) -> None:
    """Reinstall only the helpers' wheel into an environment set up before."""
    python = venv_python(workdir, env)
    if not python.is_file():
        raise CompatFailed(
            f"[{env}] there is no environment at {python.parent.parent} to reuse; run "
            "without --reuse to create it"
        )
    _run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", wheel],
        f"[{env}] reinstalling the helpers' wheel",
    )
    _run([python, "-m", "pip", "check"], f"[{env}] pip check")
    freeze = _run([python, "-m", "pip", "freeze"], f"[{env}] pip freeze").stdout
    (workdir / env / "freeze.txt").write_text(freeze)


def key_versions(freeze: str) -> dict[str, str]:
    pinned = {}
    for line in freeze.splitlines():
        if "==" in line:
            name, version = line.split("==", 1)
            pinned[re.sub(r"[-_.]+", "-", name).lower()] = version
    return {name: pinned.get(name, "not installed") for name in KEY_PACKAGES}


def prepare(nb, prefix: Path):
    """The notebook as the tests run it (with its solutions), plus the import check first."""
    nb = course.with_solutions(nb)
    check = nbformat.v4.new_code_cell(
        CHECK_CELL.format(prefix=str(prefix), packages=KEY_PACKAGES),
        metadata={"tags": ["compat-check"]},
    )
    nb.cells.insert(0, check)
    return nb


def describe_error(nb) -> str:
    """The first cell of an executed notebook that raised: its number, first line, error."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                exercise = cell.metadata.get("course", {}).get("solution")
                first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
                what = f"the solution to exercise {exercise}" if exercise else repr(first[:80])
                # The line that raised, as IPython marks it: "---> 21 print(...)".
                marked = [
                    ANSI.sub("", line)
                    for frame in output.get("traceback", [])
                    for line in frame.splitlines()
                    if ANSI.sub("", line).startswith("--->")
                ]
                number, _, code = marked[0][4:].strip().partition(" ") if marked else ("", "", "")
                at = f"; line {number}: {code.strip()[:100]}" if marked else ""
                return (
                    f"cell [{cell.get('execution_count')}] ({what}{at}) raised "
                    f"{output.get('ename')}: {output.get('evalue')}"
                )
    return ""


def warnings_shown(nb) -> list[tuple[int | None, str]]:
    """Each distinct warning a cell printed, with the cell's execution count."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("name") == "stderr":
                for match in WARNING.finditer(output.get("text", "")):
                    entry = (cell.get("execution_count"), match.group(1).strip()[:200])
                    if entry[1] not in {text for _, text in found}:
                        found.append(entry)
    return found


def solution_problems(nb) -> list[str]:
    """course.check_solutions, with warnings on stderr left out so the verdict shows."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        if "outputs" in cell:
            cell.outputs = [o for o in cell.outputs if o.get("name") != "stderr"]
    return course.check_solutions(nb)


def run_notebooks(workdir: Path, env: str, names: list[str] | None = None) -> dict:
    """Execute every notebook of the table of contents in an environment; return results."""
    python = venv_python(workdir, env)
    if not python.is_file():
        raise CompatFailed(
            f"[{env}] there is no environment at {python.parent.parent}; run without "
            "--reuse (or with --setup-only first) to create it"
        )
    venv = python.parent.parent
    papermill = venv / "bin" / "papermill"
    scratch = workdir / env / "notebooks"  # outside the repository: no helpers/ beside it
    executed = workdir / env / "executed"
    for path in (scratch, executed, workdir / env / "models"):
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    for extra in (ROOT / "notebooks").iterdir():  # what the notebooks may read beside them
        if extra.is_file() and extra.suffix != ".ipynb":
            shutil.copy2(extra, scratch / extra.name)

    env_vars = course.kernel_env("fast")
    env_vars.update(
        COURSE_MODELS_DIR=str(workdir / env / "models"),
        VIRTUAL_ENV=str(venv),
        PATH=f"{venv / 'bin'}{os.pathsep}{env_vars.get('PATH', '')}",
        PYTHONNOUSERSITE="1",  # nothing from ~/.local
    )
    for leaked in ("PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH"):
        env_vars.pop(leaked, None)

    results = {}
    for entry in course.toc_notebooks():
        name = Path(entry).name
        if names and name not in names:
            continue
        source = ROOT / f"{entry}.ipynb"
        prepared = scratch / source.name
        target = executed / source.name
        nbformat.write(prepare(nbformat.read(source, as_version=4), venv), prepared)
        params = course.profile_parameters("fast", name)
        cmd = [
            papermill,
            prepared,
            target,
            "--kernel",
            kernel_name(env),
            "--cwd",
            scratch,
            "--parameters_yaml",
            json.dumps(params),
            "--execution-timeout",
            str(course.CELL_TIMEOUT_S["fast"]),
            "--no-progress-bar",
        ]
        print(f"[{env}] {name}: executing with {params}", flush=True)
        start = time.perf_counter()
        proc = subprocess.run(
            [str(c) for c in cmd], env=env_vars, capture_output=True, text=True, check=False
        )
        seconds = time.perf_counter() - start
        result = {"seconds": round(seconds, 1), "ok": False, "error": ""}
        out = nbformat.read(target, as_version=4) if target.is_file() else None
        if proc.returncode:
            found = describe_error(out) if out is not None else ""
            result["error"] = found or (
                f"papermill exited {proc.returncode}: " + proc.stderr.strip()[-1500:]
            )
        else:
            wrong = solution_problems(out)
            check = next(
                (c for c in out.cells if "compat-check" in c.metadata.get("tags", [])), None
            )
            shown = "".join(o.get("text", "") for o in (check or {}).get("outputs", []))
            match = re.search(r"^COMPAT (.*)$", shown, re.M)
            shown_warnings = warnings_shown(out)
            result["warnings"] = [f"cell [{n}]: {text}" for n, text in shown_warnings]
            bad = [
                f"cell [{n}] warned {text!r}"
                for n, text in shown_warnings
                if any(marker in text for marker in WRONG_RESULTS)
            ]
            if bad:
                result["error"] = "its results are wrong: " + "; ".join(bad)
            elif wrong:
                result["error"] = "; ".join(wrong)
            elif not match:
                result["error"] = f"the inserted import check printed nothing: {shown!r}"
            else:
                result.update(ok=True, **json.loads(match.group(1)))
        results[name] = result
        verdict = "passed" if result["ok"] else f"FAILED: {result['error']}"
        print(f"[{env}] {name}: {verdict} ({seconds:.0f} s)", flush=True)
    return results


def report(workdir: Path, envs: list[str], results: dict) -> list[str]:
    """Print and save the versions and the results; return one line per failure."""
    summary, failures = {}, []
    for env in envs:
        freeze_file = workdir / env / "freeze.txt"
        freeze = freeze_file.read_text() if freeze_file.is_file() else ""
        summary[env] = {
            "versions": key_versions(freeze),
            "constraints": constraints(env),
            "notebooks": results.get(env, {}),
        }
    (workdir / "report.json").write_text(json.dumps(summary, indent=2))
    print(f"\nCompatibility run ({workdir / 'report.json'}):")
    for env, info in summary.items():
        versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        print(f"  {env}: {versions}")
        total = 0.0
        for name, result in info["notebooks"].items():
            total += result["seconds"]
            state = "ok" if result["ok"] else "FAILED"
            count = len(result.get("warnings", []))
            shown = f"  {count} warning(s) in report.json" if count else ""
            print(f"    {name:32} {state:6} {result['seconds']:6.1f} s{shown}")
            if not result["ok"]:
                failures.append(f"[{env}] {name}: {result['error']}")
        if info["notebooks"]:
            print(f"    {'total':32} {'':6} {total:6.1f} s")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("envs", nargs="*", help="oldest, newest (default: both)")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(os.environ.get("COURSE_COMPAT_DIR", DEFAULT_WORKDIR)),
        help=f"where the wheel, the environments and the results go (default {DEFAULT_WORKDIR})",
    )
    parser.add_argument("--notebook", action="append", help="only this notebook (repeatable)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--setup-only", action="store_true", help="build and install only")
    group.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the environments set up before; only the helpers' wheel is reinstalled",
    )
    args = parser.parse_args(argv)
    envs = list(dict.fromkeys(args.envs)) or list(ENVIRONMENTS)
    unknown = [env for env in envs if env not in ENVIRONMENTS]
    if unknown:
        parser.error(f"unknown environment {', '.join(unknown)}; expected oldest and/or newest")
    known = [Path(entry).name for entry in course.toc_notebooks()]
    missing = sorted(set(args.notebook or []) - set(known))
    if missing:
        parser.error(f"--notebook {', '.join(missing)}: not in _toc.yml; its notebooks are {known}")
    workdir = args.workdir.resolve()
    if workdir.is_relative_to(ROOT) and not workdir.is_relative_to(course.BUILD):
        parser.error(f"--workdir {workdir} is inside the repository; use /tmp or _build/")
    workdir.mkdir(parents=True, exist_ok=True)

    results: dict[str, dict] = {}
    try:
        wheel = build_wheel(workdir)  # always from the helpers as they are now
        print(f"built {wheel.name}", flush=True)
        for env in envs:
            (refresh if args.reuse else setup)(workdir, env, wheel)
        if not args.setup_only:
            # Side by side: one kernel alone leaves much of the second core idle.
            with ThreadPoolExecutor(max_workers=len(envs)) as pool:
                running = {
                    env: pool.submit(run_notebooks, workdir, env, args.notebook) for env in envs
                }
                results = {env: future.result() for env, future in running.items()}
    except CompatFailed as err:
        print(f"\nCompatibility run failed: {err}", file=sys.stderr)
        return 1
    failures = report(workdir, envs, results)
    if failures:
        print("\nCompatibility run failed:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
