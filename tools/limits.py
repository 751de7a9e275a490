"""What a graded submission may use: memory, CPU time and processes (``tools.grading``).

A submission runs under three limits besides the grader's wall-clock time-out, each set
by the Linux kernel, not by a watch from outside:

- **memory** (default 4 GB): each of its processes may hold at most this much data
  (``RLIMIT_DATA``); a cell that asks for more gets a ``MemoryError``, and the notebook
  goes on. Where the grader may create control groups (as root: version 1 or 2), all of
  the submission's processes together are held to the limit plus :data:`GRADER_MARGIN`
  for the grader's own; the kernel stops the largest of them when they need more.
- **CPU time** (default 300 s): the notebook's kernel may use at most this much CPU
  time (``RLIMIT_CPU``), so a cell that loops forever is stopped long before the
  wall-clock time-out on a machine with many cores.
- **processes** (default 512, threads included): the control group's ``pids.max``, or
  else ``RLIMIT_NPROC``; a cell that starts more gets an error, like ``BlockingIOError``.

A cell that reaches the CPU-time or the process limit stops the notebook's kernel, and
so does a kernel the memory limit stopped. :func:`stopped_cell` then names the cell
that was running, from the log the kernel wrote as it went (:data:`KERNEL_HOOK`, an
IPython start-up file), so that the grader can grade the notebook again without that
cell: a score for what ran, and a flag that says which limit the cell reached.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

GB = 10**9
#: Room in the control group for the grader's own processes (Otter, the notebook
#: runner) and the shared libraries they load, besides the submission's memory limit.
GRADER_MARGIN = 1 * GB
#: CPU seconds between the soft limit (the kernel logs the limit and stops) and the hard
#: one (the Linux kernel stops it, for a cell busy in compiled code).
CPU_GRACE_S = 5
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: The names of the limits, as the gradebook's flags give them.
MEMORY, CPU, PROCESSES = "memory limit", "CPU-time limit", "process limit"


@dataclass(frozen=True)
class Limits:
    """A submission's limits: bytes of memory, seconds of CPU time, processes."""

    memory: int = 4 * GB
    cpu_seconds: float = 300.0
    processes: int = 512

    def __post_init__(self):
        for name, low in (("memory", 64 * 2**20), ("cpu_seconds", 1), ("processes", 16)):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < low:
                raise ValueError(
                    f"the {name} limit is {value!r}; expected a number of at least {low:,}"
                )

    def describe(self) -> str:
        return (
            f"memory {self.memory / GB:g} GB, CPU time {self.cpu_seconds:g} s, "
            f"{self.processes} processes"
        )


def parse_size(text: str) -> int:
    """Bytes from ``4G``, ``4GB``, ``512M``, ``1.5G`` or a plain number of bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)[bB]?\s*", str(text))
    if not match:
        raise ValueError(
            f"memory limit {text!r} is not a size; write it like 4G, 512M or 4000000000"
        )
    number, unit = float(match[1]), match[2].upper()
    return int(number * {"": 1, "K": 10**3, "M": 10**6, "G": 10**9}[unit])


def rlimit_prefix(limits: Limits) -> list[str]:
    """``prlimit`` (util-linux) setting the per-process limits of the command after it."""
    cpu = int(limits.cpu_seconds)
    return [
        "prlimit",
        f"--data={limits.memory}",
        f"--cpu={cpu}:{cpu + CPU_GRACE_S}",
        f"--nproc={limits.processes}",
        "--",
    ]


# ------------------------------------------------------------------------- control groups


class ControlGroup:
    """One submission's control group (version 1 or 2), where the grader may create one.

    ``join_prefix`` puts the command after it into the group before it starts;
    :meth:`counters` says afterwards whether the memory or the process limit was reached,
    and how much memory the submission's processes used at most.
    """

    def __init__(self, limits: Limits, root: Path = CGROUP_ROOT):
        self.limits, self.root = limits, root
        self.version, self.folders = 0, {}
        name = f"course-grading-{uuid.uuid4().hex[:12]}"
        with contextlib.suppress(OSError):
            if (root / "cgroup.controllers").is_file():
                self._make_v2(root / name)
            elif (root / "memory").is_dir() and (root / "pids").is_dir():
                self._make_v1(name)

    def _make_v2(self, folder: Path) -> None:
        parent = folder.parent
        enabled = (parent / "cgroup.subtree_control").read_text().split()
        if not {"memory", "pids"} <= set(enabled):
            return
        folder.mkdir()
        self.folders = {"v2": folder}
        (folder / "memory.max").write_text(str(self.limits.memory + GRADER_MARGIN))
        with contextlib.suppress(OSError):  # no swap: nothing to limit
            (folder / "memory.swap.max").write_text("0")
        (folder / "pids.max").write_text(str(self.limits.processes))
        self.version = 2

    def _make_v1(self, name: str) -> None:
        memory, pids = self.root / "memory" / name, self.root / "pids" / name
        memory.mkdir()
        self.folders = {"memory": memory}
        pids.mkdir()
        self.folders["pids"] = pids
        (memory / "memory.limit_in_bytes").write_text(str(self.limits.memory + GRADER_MARGIN))
        (pids / "pids.max").write_text(str(self.limits.processes))
        self.version = 1

    @property
    def join_prefix(self) -> list[str]:
        """``sh`` writing its own process into the group, then ``exec``-ing the rest."""
        if not self.version:
            return []
        procs = [str(folder / "cgroup.procs") for folder in self.folders.values()]
        join = 'while [ "$1" != -- ]; do echo $$ > "$1"; shift; done; shift; exec "$@"'
        return ["sh", "-c", join, "join", *procs, "--"]

    def counters(self) -> dict[str, int]:
        """``oom_kills`` (processes the memory limit stopped), ``process_refusals`` (forks
        refused at the process limit) and ``memory_peak`` (bytes), where the group says."""
        found = {"oom_kills": 0, "process_refusals": 0, "memory_peak": 0}

        def read(path: Path) -> str:
            with contextlib.suppress(OSError):
                return path.read_text()
            return ""

        def field(text: str, key: str) -> int:
            match = re.search(rf"^{key} (\d+)$", text, re.M)
            return int(match[1]) if match else 0

        if self.version == 2:
            folder = self.folders["v2"]
            found["oom_kills"] = field(read(folder / "memory.events"), "oom_kill")
            found["process_refusals"] = field(read(folder / "pids.events"), "max")
            found["memory_peak"] = int(read(folder / "memory.peak").strip() or 0)
        elif self.version == 1:
            memory, pids = self.folders["memory"], self.folders["pids"]
            found["oom_kills"] = field(read(memory / "memory.oom_control"), "oom_kill")
            found["process_refusals"] = field(read(pids / "pids.events"), "max")
            found["memory_peak"] = int(read(memory / "memory.max_usage_in_bytes").strip() or 0)
        return found

    def remove(self) -> None:
        """Stop whatever is left in the group, and remove it (waiting up to 5 s for its
        processes to be gone: a group is removed only once it is empty)."""
        for folder in self.folders.values():
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                for pid in read_pids(folder):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # busy: processes still exiting
                    time.sleep(0.05)
        self.folders, self.version = {}, 0


def read_pids(folder: Path) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(p) for p in (folder / "cgroup.procs").read_text().split()]
    return []


# -------------------------------------------------------------------- the kernel's own log

#: Loaded by the notebook's kernel at start-up (IPython runs the files of its profile's
#: ``startup`` folder): it logs each cell as it starts and ends, a cell's
#: ``MemoryError``, and stops the kernel when a cell reaches the CPU-time limit (the
#: signal ``SIGXCPU``) or the process limit (a refused ``fork``, ``EAGAIN``).
KERNEL_HOOK = r"""
import hashlib as _hashlib, json as _json, os as _os, signal as _signal

def _course_log(**entry):
    with open(_os.environ["COURSE_GRADING_LOG"], "a") as f:
        f.write(_json.dumps(entry) + "\n")

def _course_stop(limit):
    _course_log(event="limit", limit=limit)
    _os.kill(_os.getpid(), _signal.SIGKILL)

def _course_start(info):
    digest = _hashlib.sha1(info.raw_cell.encode()).hexdigest()
    _course_log(event="start", sha1=digest)

def _course_end(result):
    error = result.error_in_exec
    if isinstance(error, OSError) and error.errno == __EAGAIN__:
        _course_stop(__PROCESSES__)  # the cell never ends: the grader leaves it out
    _course_log(event="end", error=type(error).__name__ if error else None)
    if isinstance(error, MemoryError):
        _course_log(event="limit", limit=__MEMORY__)

_signal.signal(_signal.SIGXCPU, lambda signum, frame: _course_stop(__CPU__))
get_ipython().events.register("pre_run_cell", _course_start)
get_ipython().events.register("post_run_cell", _course_end)
"""


def install_hook(scratch: Path) -> dict[str, str]:
    """Write :data:`KERNEL_HOOK` into an IPython profile in ``scratch``; the variables
    that point the kernel at it and at its log."""
    startup = scratch / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    hook = (
        KERNEL_HOOK.replace("__MEMORY__", repr(MEMORY))
        .replace("__PROCESSES__", repr(PROCESSES))
        .replace("__CPU__", repr(CPU))
        .replace("__EAGAIN__", str(errno.EAGAIN))
    )
    (startup / "00-course-grading.py").write_text(hook)
    log = scratch / "tmp" / "cells.jsonl"
    log.parent.mkdir(exist_ok=True)
    return {"IPYTHONDIR": str(scratch / "ipython"), "COURSE_GRADING_LOG": str(log)}


def read_log(path: Path) -> list[dict]:
    """The kernel's log; lines it could not finish writing are left out."""
    entries = []
    with contextlib.suppress(OSError):
        for line in path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict):
                    entries.append(entry)
    return entries


def cell_digest(source: str) -> str:
    return hashlib.sha1(source.encode()).hexdigest()


def limits_reached(log: list[dict]) -> list[str]:
    """The limits the log records, in the order first reached."""
    found = [e.get("limit") for e in log if e.get("event") == "limit"]
    return list(dict.fromkeys(limit for limit in found if limit in (MEMORY, CPU, PROCESSES)))


def cell_runs(log: list[dict], sources: list[str]) -> list[dict]:
    """Each cell the log saw start: ``index`` in ``sources`` (the notebook's code cells,
    in order; None for a cell of the grader's own), whether it ``ended``, and the name of
    the ``error`` it raised. Cells run in order, so starts are matched to ``sources`` in
    order."""
    digests = [cell_digest(source) for source in sources]
    position, runs = 0, []
    for entry in log:
        if entry.get("event") == "start":
            index = next(
                (i for i in range(position, len(digests)) if digests[i] == entry.get("sha1")),
                None,
            )
            position = position if index is None else index + 1
            runs.append({"index": index, "ended": False, "error": None})
        elif entry.get("event") == "end" and runs and not runs[-1]["ended"]:
            runs[-1].update(ended=True, error=entry.get("error"))
    return runs


def stopped_cell(log: list[dict], sources: list[str]) -> int | None:
    """The index in ``sources`` of the cell running when the kernel stopped: the last
    that started and never ended. None when every cell ended, or when that cell is one
    of the grader's own."""
    runs = cell_runs(log, sources)
    return runs[-1]["index"] if runs and not runs[-1]["ended"] else None


def available() -> str:
    """ "" or why the per-process limits cannot be set here."""
    return "" if shutil.which("prlimit") else "prlimit not found (util-linux)"
