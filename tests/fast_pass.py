"""The fast profile's notebooks, executed once per test run, in the background.

As soon as pytest has collected a test that reads them (one that uses the
``fast_notebooks`` fixture of conftest.py), every notebook of _toc.yml starts executing
with the fast profile while the other tests run: two at a time, each in a process of its
own (``python -m tools.course execute``, so that what a test patches in this process
cannot reach it), in :func:`course.execution_order` and each after the notebooks it
needs (:func:`course.run_after`). Right after a notebook has executed, nbval re-executes
it, in the same two workers after the executions still waiting, with a copy of the
models saved so far, so that a notebook that saves a model while another loads it
cannot disturb it.

A test waits only for what it reads: :meth:`FastPass.executed`, :meth:`FastPass.reproduced`,
:meth:`FastPass.all_executed`. Other long runs that need no executed notebook (the
"change X and run" exercises) are queued in the same workers with :meth:`FastPass.submit`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from tools import course

PROFILE = "fast"
WORKERS = 2  # two cores: one kernel alone leaves much of the second idle
SANITIZE = Path(__file__).resolve().parent / "nbval_sanitize.cfg"


class FastPass:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._executions: dict[str, Future] = {}
        self._reruns: dict[str, Future] = {}
        self._jobs: dict[str, Future] = {}
        self.names = [Path(entry).name for entry in course.toc_notebooks()]
        self.executed_dir = course.BUILD / "executed" / PROFILE

    def _workers(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="background")
        return self._pool

    def submit(self, key: str, fn, *args) -> Future:
        """Run ``fn(*args)`` in the same workers, after the work queued before it; the
        same ``key`` again returns the first call's future."""
        with self._lock:
            if key not in self._jobs:
                self._jobs[key] = self._workers().submit(fn, *args)
            return self._jobs[key]

    def start(self) -> FastPass:
        """Start every notebook's execution (once; later calls only return the pass)."""
        with self._lock:
            if self._executions:
                return self
            # The environment as it is now, before any test patches it.
            self._env = course.kernel_env(PROFILE)
            self._models = Path(self._env["COURSE_MODELS_DIR"])
            self._workers()
            after = course.run_after(self.names)
            for name in course.execution_order(after):
                needs = [self._executions[n] for n in after[name]]
                self._executions[name] = self._pool.submit(self._execute, needs, name)
        return self

    def stop(self) -> None:
        """Drop what has not started (a run of a few tests need not wait for the rest)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------------ what tests wait for

    def executed(self, name: str) -> Path:
        """Wait for notebook ``name``'s execution; its executed notebook, or
        :class:`course.NotebookFailed` naming the cell and error (or the failed claims)."""
        self.start()
        failed = self._executions[name].result()
        if failed:
            raise course.NotebookFailed(failed)
        return self.executed_dir / f"{name}.ipynb"

    def all_executed(self) -> None:
        """Wait for every notebook; :class:`course.NotebookFailed` naming all that failed."""
        self.start()
        failed = [f for f in (self._executions[n].result() for n in self.names) if f]
        if failed:
            raise course.NotebookFailed("\n".join(failed))

    def reproduced(self, name: str) -> subprocess.CompletedProcess | None:
        """Wait for nbval's re-execution of notebook ``name`` (None: it did not execute)."""
        self.start()
        self._executions[name].exception()
        rerun = self._reruns.get(name)
        return None if rerun is None else rerun.result()

    # ------------------------------------------------------------------ the work

    def _execute(self, needs: list[Future], name: str) -> str:
        for future in needs:
            future.exception()  # wait; a failure is reported for that notebook
        proc = subprocess.run(
            [sys.executable, "-m", "tools.course", "execute", "--profile", PROFILE, name],
            cwd=course.ROOT,
            env=self._env,
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            return proc.stderr.strip() or proc.stdout.strip()[-3000:]
        models = Path(tempfile.mkdtemp(prefix=f"nbval-{name}-models-"))
        if self._models.is_dir():
            shutil.copytree(self._models, models, dirs_exist_ok=True)
        try:
            self._reruns[name] = self._pool.submit(self._nbval, name, models)
        except RuntimeError:  # the pass was stopped: the session is over
            shutil.rmtree(models, ignore_errors=True)
        return ""

    def _nbval(self, name: str, models: Path) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "--nbval",
                    "--nbval-current-env",
                    "--nbval-cell-timeout=300",
                    "--nbval-sanitize-with",
                    str(SANITIZE),
                    "-o",
                    "addopts=",
                    "--rootdir",
                    str(self.executed_dir),
                    str(self.executed_dir / f"{name}.ipynb"),
                ],
                cwd=self.executed_dir,
                env={**self._env, "COURSE_MODELS_DIR": str(models)},
                capture_output=True,
                text=True,
            )
        finally:
            shutil.rmtree(models, ignore_errors=True)


FAST = FastPass()
