"""How many notebooks does a test run execute? Counted from a log of kernel starts.

    python -m benchmarks.executions arm      # every Jupyter kernel of .venv logs itself
    make test                                # (or anything else that starts kernels)
    python -m benchmarks.executions report   # kernels per notebook, whole and partial runs
    python -m benchmarks.executions disarm

``arm`` puts a start-up hook into the environment's ``site-packages``: every Python
process started as a Jupyter kernel (papermill, nbval, Otter, JupyterLab, ...) appends
one line to the log when it starts, and one line per cell it executes (a digest of the
cell's source). ``report`` matches those digests with the cells of ``notebooks/`` to
name the notebook each kernel ran, and says whether it ran the whole notebook or a part.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import re
import sysconfig
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
# In /dev/shm: the grader runs each submission with every file system read-only but its
# scratch folder and /dev, and its kernels must be counted too.
LOG = Path("/dev/shm/course-kernel-starts.jsonl")
HOOK = "_course_kernel_log"

# Runs at the start of every Python process of the environment (a .pth line); only
# kernels log. IPYTHONDIR points the kernel at a start-up script that logs each cell.
_HOOK_SOURCE = """\
import json, os, sys, time

def _start(log, ipython_dir):
    argv = getattr(sys, "orig_argv", sys.argv)
    if not any("ipykernel" in a for a in argv):
        return
    try:
        parent = open(f"/proc/{os.getppid()}/cmdline", "rb").read().replace(b"\\0", b" ")
    except OSError:
        parent = b""
    line = {"event": "start", "pid": os.getpid(), "time": time.time(), "cwd": os.getcwd(),
            "parent": parent.decode(errors="replace")[:300]}
    with open(log, "a") as f:
        f.write(json.dumps(line) + "\\n")
    if not os.access(ipython_dir, os.W_OK):  # the grader's read-only file systems
        import shutil, tempfile
        copy = tempfile.mkdtemp(prefix="ipython-")
        shutil.copytree(ipython_dir, copy, dirs_exist_ok=True)
        ipython_dir = copy
    os.environ["IPYTHONDIR"] = ipython_dir

_start(LOG, IPYTHON_DIR)
"""

_STARTUP_SOURCE = """\
import hashlib, json, os

def _course_log_cell(result, _log=LOG):
    source = result.info.raw_cell if result.info is not None else ""
    line = {"event": "cell", "pid": os.getpid(),
            "sha": hashlib.sha1(source.strip().encode()).hexdigest()[:12]}
    with open(_log, "a") as f:
        f.write(json.dumps(line) + "\\n")

get_ipython().events.register("post_run_cell", _course_log_cell)
"""


def _site_packages(venv: Path) -> Path:
    python = sysconfig.get_python_version()
    return venv / "lib" / f"python{python}" / "site-packages"


def arm(venv: Path, log: Path) -> None:
    site = _site_packages(venv)
    if not site.is_dir():
        raise SystemExit(f"{site} does not exist: give the environment with --venv")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    ipython_dir = ROOT / "_build" / "bench" / "kernel_log_ipython"
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-course-log.py").write_text(f"LOG = {str(log)!r}\n" + _STARTUP_SOURCE)
    (site / f"{HOOK}.py").write_text(
        f"LOG = {str(log)!r}\nIPYTHON_DIR = {str(ipython_dir)!r}\n" + _HOOK_SOURCE
    )
    (site / f"{HOOK}.pth").write_text(f"import {HOOK}\n")
    print(f"armed: kernels of {venv} log to {log}")


def disarm(venv: Path) -> None:
    site = _site_packages(venv)
    for suffix in (".pth", ".py"):
        (site / f"{HOOK}{suffix}").unlink(missing_ok=True)
    print(f"disarmed: {venv}")


def _notebook_cells() -> tuple[dict[str, set[str]], dict[str, int]]:
    """Digest of each code cell's source -> the notebooks that have it (the set-up cell
    is in all of them); and each notebook's number of code cells."""
    owners: dict[str, set[str]] = collections.defaultdict(set)
    sizes: dict[str, int] = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        sizes[path.stem] = len(cells)
        for cell in cells:
            owners[hashlib.sha1(cell.source.strip().encode()).hexdigest()[:12]].add(path.stem)
    return owners, sizes


def report(log: Path) -> dict:
    # A kernel's cells follow its start line. Process ids repeat (each graded submission
    # runs in a PID namespace of its own), so a cell belongs to the latest kernel that
    # started with its process id.
    starts: list[dict] = []
    cells: dict[int, list[str]] = collections.defaultdict(list)
    latest: dict[int, int] = {}
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        if entry["event"] == "start":
            latest[entry["pid"]] = len(starts)
            starts.append(entry)
        elif entry["pid"] in latest:
            cells[latest[entry["pid"]]].append(entry["sha"])
    owners, sizes = _notebook_cells()
    whole: collections.Counter = collections.Counter()
    partial: collections.Counter = collections.Counter()
    unseen: collections.Counter = collections.Counter()
    for kernel in range(len(starts)):
        matched = collections.Counter(nb for s in cells[kernel] for nb in owners.get(s, ()))
        named = re.search(r"(\d\d_\w+|_template)\.ipynb", starts[kernel]["parent"])
        if not matched:
            # No course cell: a kernel of another notebook (the pipeline tests' tiny one), or
            # one whose start-up script did not run (the grader's read-only file systems,
            # before the hook copied it), named by its command where it names a notebook.
            unseen[named[1] if named else "(no course notebook)"] += 1
            continue
        # The notebook with the most of the kernel's cells; among equals (cells that
        # several notebooks share), the one its command names.
        best = max(matched.values())
        tied = sorted(nb for nb, hits in matched.items() if hits == best)
        name = named[1] if named and named[1] in tied else tied[0]
        (whole if best >= 0.8 * sizes[name] else partial)[name] += 1
    result = {
        "kernels": len(starts),
        "whole": dict(sorted(whole.items())),
        "partial": dict(sorted(partial.items())),
        "no_course_cells": dict(sorted(unseen.items())),
    }
    print(f"{len(starts)} kernels started")
    print(f"{sum(whole.values())} whole notebooks (80% or more of their code cells):")
    for name, n in sorted(whole.items()):
        print(f"  {name:32s} {n}")
    print(f"{sum(partial.values())} partial runs:")
    for name, n in sorted(partial.items()):
        print(f"  {name:32s} {n}")
    if unseen:
        print(
            f"{sum(unseen.values())} kernels whose cells match no course notebook, by the "
            "notebook named in their command:"
        )
        for name, n in sorted(unseen.items()):
            print(f"  {name:32s} {n}")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["arm", "disarm", "report"])
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv")
    parser.add_argument("--log", type=Path, default=LOG)
    args = parser.parse_args(argv)
    if args.action == "arm":
        arm(args.venv, args.log)
    elif args.action == "disarm":
        disarm(args.venv)
    else:
        report(args.log)


if __name__ == "__main__":
    main()
