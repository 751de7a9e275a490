"""Execute the course notebooks and build the book.

    python -m tools.course execute --profile fast   # the tests' profile
    python -m tools.course execute --profile fast --jobs 2   # two notebooks side by side
    python -m tools.course book                     # full profile, then the HTML book

Notebooks are executed by papermill into ``_build/executed/<profile>/``. A notebook
is re-executed only when something it depends on changed: its own source, its
profile's parameters, anything under ``helpers/`` or the pinned requirements.
The book is then built by Jupyter Book 1 from a staged copy of the sources in
which every notebook is replaced by its executed version.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import nbformat
import papermill
import psutil
import yaml

from helpers.claims import RECORD_ENV
from helpers.claims import load as load_record
from tools import claims

try:  # timings.json is locked against another process executing notebooks beside this one
    import fcntl
except ImportError:  # Windows
    fcntl = None

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
PROFILES_FILE = ROOT / "notebooks" / "profiles.yml"
SHARED_DATA = ROOT.parent / "shared" / "data" / "fashion-mnist"
# Jupyter Book writes to <path-output>/_build/html: the full book (the one
# published) to _build/html, the tests' book to _build/fast/_build/html.
PATH_OUTPUT = {"full": ROOT, "fast": BUILD / "fast"}
# A cell that trains for the capstone's whole budget must not be cut short.
CELL_TIMEOUT_S = {"fast": 300, "full": 1800}
BOOK_SOURCES = ("_config.yml", "_toc.yml", "book")
# MathJax 3 from the npm registry, served by the book itself so formulas render offline.
MATHJAX_VERSION = "3.2.2"
MATHJAX_DIR = BUILD / "npm" / "node_modules" / "mathjax" / "es5"


class NotebookFailed(RuntimeError):
    """A notebook raised: names the notebook, the cell and the error."""


# A solution as the notebooks store it: a Markdown cell with an HTML <details> block
# (collapsed in the book, in JupyterLab and on Colab alike) holding the code.
SOLUTION = re.compile(
    r"<summary>Solution to exercise (\w\w\.\d+)</summary>\s*```python\n(.*?)\n```", re.S
)
CORRECT = "✅ Correct"


def with_solutions(nb):
    """The notebook with every solution's code inserted as a code cell right after it.

    The student's notebook holds no solution code cell, so that nothing gives the
    answers away; the executed notebooks (the book and the tests) run each solution
    after its exercise, where :func:`check_solutions` finds it. The book removes
    these cells (tag ``remove-cell``): the solution already shows in its block.
    """
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type != "markdown":
            continue
        for exercise, code in SOLUTION.findall(cell.source):
            cells.append(
                nbformat.v4.new_code_cell(
                    code,
                    metadata={"tags": ["remove-cell"], "course": {"solution": exercise}},
                )
            )
    nb.cells = cells
    return nb


def check_solutions(nb) -> list[str]:
    """What is wrong with the executed solutions: each one that calls ``check`` must
    print the checker's verdict "Correct"; returns one line per failure."""
    problems = []
    for cell in nb.cells:
        exercise = cell.metadata.get("course", {}).get("solution")
        if exercise is None or "check(" not in cell.source:
            continue
        shown = "".join(
            output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            for output in cell.get("outputs", [])
        )
        if CORRECT not in shown:
            problems.append(
                f"the solution to exercise {exercise} does not pass its check; it printed "
                f"{shown.strip()[:300]!r}"
            )
    return problems


def toc_files(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every page the table of contents lists (root first), in book order, as written there."""
    toc = yaml.safe_load(toc_path.read_text())
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    found.append(node[key])
            for value in node.values():
                if isinstance(value, (list, dict)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


def toc_notebooks(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """The notebooks listed in the table of contents, in book order, as 'notebooks/NAME'."""
    return [
        entry.removesuffix(".ipynb")
        for entry in toc_files(toc_path)
        if entry.startswith("notebooks/")
    ]


def profile_parameters(profile: str, name: str) -> dict:
    """The papermill parameters of a notebook under a profile (empty: its defaults)."""
    profiles = yaml.safe_load(PROFILES_FILE.read_text())
    if profile not in profiles:
        raise SystemExit(f"Unknown profile {profile!r}; {PROFILES_FILE} defines {sorted(profiles)}")
    params = dict((profiles[profile] or {}).get(name) or {})
    params.setdefault("PROFILE", profile)
    return params


def kernel_env(profile: str) -> dict[str, str]:
    """The environment the notebooks run in."""
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env.setdefault("PYTHONHASHSEED", "0")
    if not env.get("FASHION_MNIST_DIR") and SHARED_DATA.is_dir():
        env["FASHION_MNIST_DIR"] = str(SHARED_DATA)
    env["COURSE_MODELS_DIR"] = str(
        BUILD / "models" if profile == "full" else BUILD / profile / "models"
    )
    return env


def _dependency_digest() -> str:
    digest = hashlib.sha256()
    helpers = ROOT / "helpers"
    sources = sorted([*helpers.rglob("*.py"), *helpers.rglob("*.csv")])
    for path in [*sources, ROOT / "requirements.lock"]:
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _fingerprint(source: Path, params: dict, deps: str) -> str:
    digest = hashlib.sha256(source.read_bytes())
    digest.update(json.dumps(params, sort_keys=True).encode())
    digest.update(deps.encode())
    return digest.hexdigest()


def _describe_failure(name: str, err: Exception) -> str:
    cell = getattr(err, "exec_count", None)
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    where = f"cell [{cell}]" if cell is not None else "a cell"
    return f"{name}: {where} raised {ename}: {evalue}"


class PeakRSS(threading.Thread):
    """Records the largest resident memory of one notebook's kernel (the processes whose
    ids ``pids`` receives when the kernel starts, and their children)."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.25):
            for pid in list(self.pids):
                try:
                    kernel = psutil.Process(pid)
                    for process in [kernel, *kernel.children(recursive=True)]:
                        self.peak = max(self.peak, process.memory_info().rss)
                except psutil.Error:
                    pass

    def stop(self) -> float:
        """Stop polling; return the peak in MiB."""
        self.done.set()
        self.join()
        return self.peak / 2**20


def _kernel_manager(env: dict[str, str], pids: list[int]) -> type:
    """A kernel manager that starts its kernel with ``env``, not with this process's
    environment (which notebooks executing side by side share), and puts the kernel's
    process id into ``pids``."""
    from jupyter_client.manager import AsyncKernelManager

    class KernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw):
            kw["env"] = dict(env)
            await super().start_kernel(**kw)
            pids.append(self.provisioner.pid)

    return KernelManager


def run_after(names: list[str]) -> dict[str, list[str]]:
    """For each notebook of ``names``, the notebooks among them it must run after.

    A notebook that loads the baseline (``saving.baseline_model``) runs after the one
    that saves it (``saving.baseline_path()``): it would otherwise train its own.
    """
    code = {}
    for name in names:
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        code[name] = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    savers = [n for n in names if "saving.baseline_path()" in code[n]]
    return {
        name: [s for s in savers if s != name] if "saving.baseline_model(" in code[name] else []
        for name in names
    }


def execution_order(after: dict[str, list[str]]) -> list[str]:
    """The notebooks of ``after`` (:func:`run_after`'s map, in book order) in the order to
    start them: book order, except that a notebook that must run after others waits until
    all that need not have started, so that two notebooks executing side by side rarely
    wait for each other."""
    return [n for n in after if not after[n]] + [n for n in after if after[n]]


def execute(
    profile: str, names: list[str] | None = None, force: bool = False, jobs: int = 1
) -> dict[str, float]:
    """Execute notebooks under a profile; return the seconds each took (0 when reused).

    Each notebook runs with its solutions (:func:`with_solutions`), and every solution
    must pass its check. ``jobs`` notebooks execute side by side (in the order of
    :func:`execution_order`, each after those it needs): only for the fast profile,
    whose checked claims do not depend on the time a cell takes.
    """
    if jobs > 1 and profile != "fast":
        raise ValueError(
            f"jobs is {jobs} with profile {profile!r}; notebooks execute side by side only "
            "with the fast profile (the full one measures times, and the capstone trains "
            "for a time budget): use jobs=1"
        )
    selected = [
        Path(entry).name for entry in toc_notebooks() if not names or Path(entry).name in names
    ]
    deps = _dependency_digest()
    timings: dict[str, float] = {}
    failures: list[str] = []
    if jobs <= 1:
        for name in selected:
            seconds, failed = execute_one(profile, name, force, deps)
            timings[name] = seconds
            failures += failed
    else:
        after = run_after(selected)
        futures: dict[str, Future] = {}
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="execute") as pool:
            for name in execution_order(after):
                needs = [futures[n] for n in after[name]]
                futures[name] = pool.submit(_execute_after, needs, profile, name, force, deps)
        for name in selected:
            timings[name], failed = futures[name].result()
            failures += failed
    if failures:
        raise NotebookFailed(
            "Notebook execution, or the checks of its text, failed:\n  " + "\n  ".join(failures)
        )
    return timings


def _execute_after(needs: list[Future], profile: str, name: str, force: bool, deps: str):
    for future in needs:
        future.exception()  # wait; a failure is reported for that notebook
    return execute_one(profile, name, force, deps)


_RECORDS = threading.Lock()  # timings.json, written by notebooks executing side by side


def execute_one(
    profile: str, name: str, force: bool = False, deps: str | None = None
) -> tuple[float, list[str]]:
    """Execute notebook ``name`` under ``profile`` unless it is up to date, and check the
    claims of its text; return the seconds it took (0 when reused) and what failed.
    ``deps`` is :func:`_dependency_digest`, computed once by a caller that executes several.

    Safe to call from several threads at once for different notebooks.
    """
    out_dir = BUILD / "executed" / profile
    out_dir.mkdir(parents=True, exist_ok=True)
    source = ROOT / "notebooks" / f"{name}.ipynb"
    target = out_dir / f"{name}.ipynb"
    stamp = out_dir / f"{name}.stamp"
    recorded = record_path(profile, name)
    params = profile_parameters(profile, name)
    fingerprint = _fingerprint(source, params, deps or _dependency_digest())
    if not force and _current(out_dir, name, fingerprint):
        print(f"[{profile}] {name}: up to date", flush=True)
        return 0.0, _check_claims(profile, name)
    stamp.unlink(missing_ok=True)
    recorded.unlink(missing_ok=True)
    declared = list(papermill.inspect_notebook(str(source)))
    unknown = sorted(set(params) - set(declared))
    if unknown:  # papermill itself would only warn, and run with the defaults
        failure = (
            f"{name}: has no parameter {', '.join(unknown)}; its parameters are "
            f"{', '.join(declared)} ({PROFILES_FILE.name})"
        )
        print(f"[{profile}] {failure}", flush=True)
        return 0.0, [failure]
    print(f"[{profile}] {name}: executing with {params}", flush=True)
    prepared = out_dir / f"{name}.with-solutions.ipynb"
    nbformat.write(with_solutions(nbformat.read(source, as_version=4)), prepared)
    start = time.perf_counter()
    pids: list[int] = []
    memory = PeakRSS(pids)
    memory.start()
    try:
        papermill.execute_notebook(
            str(prepared),
            str(target),
            parameters=params,
            cwd=str(source.parent),
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=CELL_TIMEOUT_S[profile],
            # What C++ libraries write straight to the process's stderr (TensorFlow's
            # start-up lines, which TF_CPP_MIN_LOG_LEVEL does not silence) stays out
            # of the notebooks. ipykernel already skips it under pytest, so the book
            # and the tests get the same outputs.
            extra_arguments=["--IPKernelApp.capture_fd_output=False"],
            kernel_manager_class=_kernel_manager(
                {**kernel_env(profile), RECORD_ENV: str(recorded)}, pids
            ),
        )
    except Exception as err:  # papermill wraps every cell error
        memory.stop()
        failure = _describe_failure(name, err)
        print(f"[{profile}] {failure}", flush=True)
        return 0.0, [failure]
    finally:
        prepared.unlink(missing_ok=True)
    seconds = time.perf_counter() - start
    peak_mb = memory.stop()
    wrong = check_solutions(nbformat.read(target, as_version=4))
    if wrong:
        failure = f"{name}: " + "; ".join(wrong)
        print(f"[{profile}] {failure}", flush=True)
        return seconds, [failure]
    if not recorded.is_file():
        recorded.write_text("{}")  # a notebook whose text states no number
    stamp.write_text(fingerprint)
    failures = _check_claims(profile, name)
    _record(
        out_dir,
        name,
        {
            "seconds": seconds,
            "peak_rss_mb": peak_mb,
            "params": params,
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "machine": machine(),
        },
    )
    print(f"[{profile}] {name}: done in {seconds:.0f} s, kernel peak {peak_mb:.0f} MiB", flush=True)
    return seconds, failures


def _current(out_dir: Path, name: str, fingerprint: str) -> bool:
    """Whether notebook ``name`` was executed into ``out_dir`` from what ``fingerprint``
    stamps (its source, parameters and dependencies), and recorded its values."""
    stamp = out_dir / f"{name}.stamp"
    return (
        (out_dir / f"{name}.ipynb").is_file()
        and (out_dir / f"{name}.record.json").is_file()
        and stamp.is_file()
        and stamp.read_text() == fingerprint
    )


def record_path(profile: str, name: str) -> Path:
    """The values notebook ``name`` recorded in its last execution under ``profile``."""
    return BUILD / "executed" / profile / f"{name}.record.json"


def _check_claims(profile: str, name: str) -> list[str]:
    """Check what notebook ``name``'s text says against the values it recorded
    (``tools/claims/<name>.py``); one line per claim that does not hold."""
    try:
        values = load_record(record_path(profile, name))
    except (ValueError, KeyError, TypeError) as err:
        return [
            f"{name}: its recorded values ({record_path(profile, name)}) cannot be read "
            f"({err!r}); execute it again with --force"
        ]
    failures, checked = claims.check(name, profile, values)
    if failures:
        for line in failures:
            print(f"[{profile}] {line}", flush=True)
    else:
        print(f"[{profile}] {name}: {checked} claims of its text hold", flush=True)
    return failures


def _record(out_dir: Path, name: str, entry: dict) -> None:
    """Keep the time and peak memory of each notebook's last execution (read by make bench)."""
    path = out_dir / "timings.json"
    with _RECORDS, open(out_dir / "timings.lock", "w") as lock:
        if fcntl is not None:  # notebooks executed by separate processes side by side
            fcntl.flock(lock, fcntl.LOCK_EX)
        timings = json.loads(path.read_text()) if path.is_file() else {}
        timings[name] = entry
        path.write_text(json.dumps(timings, indent=2, sort_keys=True))


def machine() -> str:
    """The processor and the number of cores, as the timing record names them."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model or 'unknown processor'}, {os.cpu_count()} cores"


# Binder restarts a kernel that uses more memory than this.
SMALL_MACHINE_MB = 2048


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def cost_label(name: str) -> str | None:
    """What running notebook ``name`` costs, from the course's timing records.

    The time and the kernel's peak memory of its last execution with the full
    settings (the book's) and with the fast ones (the tests'), from
    ``_build/executed/<profile>/timings.json``; None when neither was recorded.
    Memory is given in whole megabytes (MiB), the unit of :data:`SMALL_MACHINE_MB`, so
    that a peak just above or just below the limit reads as what it is. A peak above
    it says how to run the notebook on a small machine such as Binder.
    """
    records = {}
    for profile in ("full", "fast"):
        path = BUILD / "executed" / profile / "timings.json"
        if path.is_file():
            entry = json.loads(path.read_text()).get(name)
            if entry:
                records[profile] = entry
    if not records:
        return None
    parts = []
    for profile, what in (("full", "the full settings"), ("fast", "the fast settings")):
        if profile in records:
            entry = records[profile]
            parts.append(
                f"with {what}, {_duration(entry['seconds'])} and up to "
                f"{entry['peak_rss_mb']:,.0f} MB of memory"
            )
    where = records.get("full", records.get("fast")).get("machine", "")
    label = (
        "> **What running this notebook costs**"
        + (f" (measured on {where})" if where else "")
        + ": "
        + "; ".join(parts)
        + "."
    )
    peak = max(round(entry["peak_rss_mb"]) for entry in records.values())
    if peak > SMALL_MACHINE_MB:
        label += (
            f" That is more than the {SMALL_MACHINE_MB:,} MB at which Binder restarts "
            'a kernel: there, set `PROFILE = "fast"` in the parameters cell (the course\'s '
            "tests check that every notebook stays under it with the fast settings)."
        )
    return label


def _with_cost_label(nb, name: str):
    """The notebook with its cost label under its title (the first heading)."""
    label = cost_label(name)
    if label is None:
        return nb
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            title, _, rest = cell.source.partition("\n")
            cell.source = f"{title}\n\n{label}\n{rest}"
            break
    return nb


def _sync(src: Path, dst: Path) -> None:
    """Copy src to dst only where contents differ, so Sphinx rebuilds only what changed."""
    if src.is_dir():
        dst.mkdir(parents=True, exist_ok=True)
        wanted = {p.name for p in src.iterdir()}
        for extra in dst.iterdir():
            if extra.name not in wanted:
                shutil.rmtree(extra) if extra.is_dir() else extra.unlink()
        for child in src.iterdir():
            _sync(child, dst / child.name)
    elif not dst.is_file() or dst.read_bytes() != src.read_bytes():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)


def ensure_mathjax() -> Path:
    """Install MathJax with npm into _build/npm once; return its es5 directory."""
    if not (MATHJAX_DIR / "tex-mml-chtml.js").is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit(
                "npm was not found; the book serves its own copy of MathJax from the npm "
                "registry. Install Node.js and npm (e.g. apt-get install npm) and run again."
            )
        cmd = [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(BUILD / "npm"),
            f"mathjax@{MATHJAX_VERSION}",
        ]
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    return MATHJAX_DIR


def stage(profile: str) -> Path:
    """Lay out the book's sources with the executed notebooks in place of the stored ones.

    Each notebook page gets its cost label (:func:`cost_label`) under its title.
    """
    stage_dir = BUILD / "stage" / profile
    for item in BOOK_SOURCES:
        _sync(ROOT / item, stage_dir / item)
    # Not under _static/: Jupyter Book would add every .js file there as a <script>.
    _sync(ensure_mathjax(), stage_dir / "_mathjax" / "mathjax")
    executed = BUILD / "executed" / profile
    notebooks = stage_dir / "notebooks"
    notebooks.mkdir(parents=True, exist_ok=True)
    wanted = set()
    labelled = BUILD / "stage" / f"{profile}-labelled"
    labelled.mkdir(parents=True, exist_ok=True)
    for entry in toc_notebooks():
        name = Path(entry).name + ".ipynb"
        wanted.add(name)
        nb = _with_cost_label(nbformat.read(executed / name, as_version=4), Path(entry).name)
        nbformat.write(nb, labelled / name)
        _sync(labelled / name, notebooks / name)
    for extra in notebooks.iterdir():
        if extra.name not in wanted:
            extra.unlink()
    return stage_dir


def build_book(profile: str) -> Path:
    """Build the HTML book of a profile with Jupyter Book 1; warnings are errors."""
    stage_dir = stage(profile)
    path_output = PATH_OUTPUT[profile]
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(stage_dir),
        "--path-output",
        str(path_output),
        "-W",
        "-n",
        "--keep-going",
    ]
    print("$", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=ROOT)
    if result.returncode:
        raise SystemExit(
            f"The book build failed (exit {result.returncode}); see the warnings above."
        )
    return html_dir(profile)


def html_dir(profile: str) -> Path:
    """Where the HTML book of a profile is built."""
    return PATH_OUTPUT[profile] / "_build" / "html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in ("execute", "book"):
        p = sub.add_parser(command)
        p.add_argument("--profile", choices=sorted(PATH_OUTPUT), default="full")
        p.add_argument("--force", action="store_true", help="re-execute even if up to date")
        p.add_argument(
            "--jobs", type=int, default=1, help="notebooks executed side by side (fast profile)"
        )
        p.add_argument("notebooks", nargs="*", help="only these notebooks (names without .ipynb)")
    args = parser.parse_args(argv)
    try:
        execute(args.profile, args.notebooks, args.force, args.jobs)
    except (NotebookFailed, ValueError) as err:
        print(err, file=sys.stderr)
        return 1
    if args.command == "book":
        html = build_book(args.profile)
        print(f"The book is at {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
