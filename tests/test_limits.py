"""What a graded submission may use (tools.limits): parsed and checked as a teacher
writes them, the kernel's log read back into the cell that stopped it, the control
groups' files read on a hand-made folder, and each limit reached for real by a small
program run as the grader runs a submission."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

from tools import grading, limits
from tools.limits import GB, ControlGroup, Limits


def test_sizes_are_read_as_teachers_write_them():
    assert limits.parse_size("4G") == limits.parse_size("4GB") == 4 * GB
    assert limits.parse_size("512M") == 512 * 10**6
    assert limits.parse_size("1.5g") == 1_500_000_000
    assert limits.parse_size("4000000000") == 4 * GB
    with pytest.raises(ValueError, match=r"'four' is not a size; write it like 4G"):
        limits.parse_size("four")


def test_limits_below_what_any_notebook_needs_are_refused():
    with pytest.raises(ValueError, match=r"memory limit is 1000; expected a number of at least"):
        Limits(memory=1000)
    with pytest.raises(ValueError, match="processes limit is 2"):
        Limits(processes=2)
    assert Limits().describe() == "memory 4 GB, CPU time 300 s, 512 processes"


def test_the_per_process_limits_are_those_asked_for():
    prefix = limits.rlimit_prefix(Limits(memory=2 * GB, cpu_seconds=60, processes=100))
    assert prefix == [
        "prlimit",
        "--data=2000000000",
        f"--cpu=60:{60 + limits.CPU_GRACE_S}",
        "--nproc=100",
        "--",
    ]


def log(*events):
    """A kernel's log: ("start", source) or ("end", error name or None) or ("limit", name)."""
    entries = []
    for kind, value in events:
        if kind == "start":
            entries.append({"event": "start", "sha1": limits.cell_digest(value)})
        elif kind == "end":
            entries.append({"event": "end", "error": value})
        else:
            entries.append({"event": "limit", "limit": value})
    return entries


def test_the_cell_that_stopped_the_kernel_is_named():
    sources = ["import numpy as np", "x = 1", "while True:\n    pass", "x = 1"]
    # The grader's own check cell (not in sources) ran between the notebook's cells.
    stopped = log(
        ("start", sources[0]),
        ("end", None),
        ("start", "grader().check('q1')"),
        ("end", None),
        ("start", sources[1]),
        ("end", "NameError"),
        ("start", sources[2]),
        ("limit", limits.CPU),
    )
    assert limits.stopped_cell(stopped, sources) == 2
    assert limits.limits_reached(stopped) == [limits.CPU]
    runs = limits.cell_runs(stopped, sources)
    assert [r["index"] for r in runs] == [0, None, 1, 2]
    assert runs[2]["error"] == "NameError" and not runs[3]["ended"]
    # The same source twice: the second start is the later cell, as cells run in order.
    later = log(("start", sources[0]), ("end", None), ("start", sources[1]), ("end", None))
    later += log(("start", sources[3]))
    assert limits.stopped_cell(later, sources) == 3
    # Every cell ended, or the grader's own cell was running: no cell to leave out.
    assert limits.stopped_cell(stopped[:6], sources) is None
    assert limits.stopped_cell(log(("start", "grader().check('q1')")), sources) is None


def test_a_half_written_log_line_is_left_out(tmp_path):
    path = tmp_path / "cells.jsonl"
    path.write_text('{"event": "start", "sha1": "ab"}\n{"event": "end", "err')
    assert limits.read_log(path) == [{"event": "start", "sha1": "ab"}]
    assert limits.read_log(tmp_path / "missing.jsonl") == []


@pytest.mark.parametrize("version", [1, 2])
def test_control_group_files_are_written_and_read(tmp_path, version):
    """On a hand-made folder laid out as the kernel's control-group file systems."""
    if version == 2:
        (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
        (tmp_path / "cgroup.subtree_control").write_text("memory pids\n")
    else:
        (tmp_path / "memory").mkdir()
        (tmp_path / "pids").mkdir()
    group = ControlGroup(Limits(memory=2 * GB, processes=64), root=tmp_path)
    assert group.version == version
    memory = group.folders["v2" if version == 2 else "memory"]
    pids = group.folders["v2" if version == 2 else "pids"]
    limit_file = "memory.max" if version == 2 else "memory.limit_in_bytes"
    assert int((memory / limit_file).read_text()) == 2 * GB + limits.GRADER_MARGIN
    assert (pids / "pids.max").read_text() == "64"
    assert group.join_prefix[:2] == ["sh", "-c"] and group.join_prefix[-1] == "--"
    assert str(pids / "cgroup.procs") in group.join_prefix
    assert group.counters() == {"oom_kills": 0, "process_refusals": 0, "memory_peak": 0}
    if version == 2:
        (memory / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\n")
        (memory / "memory.peak").write_text("123456\n")
    else:
        (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
        (memory / "memory.max_usage_in_bytes").write_text("123456\n")
    (pids / "pids.events").write_text("max 5\n")
    assert group.counters() == {"oom_kills": 2, "process_refusals": 5, "memory_peak": 123456}


def test_no_control_group_where_the_controllers_are_not_delegated(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("cpu\n")
    group = ControlGroup(Limits(), root=tmp_path)
    assert group.version == 0 and group.join_prefix == [] and not list(tmp_path.glob("course-*"))


# ---------------------------------------------------------- each limit, reached for real


def contained(tmp_path, code: str, **kwargs):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    program = [sys.executable, "-c", textwrap.dedent(code)]
    return grading._run_contained(program, scratch, timeout=60, limits=Limits(**kwargs))


needs_limits = pytest.mark.skipif(
    bool(limits.available()), reason=f"no per-process limits here: {limits.available()}"
)


def groups_here() -> bool:
    """Whether the grader can create a control group here (it removes the one it tried)."""
    if os.geteuid() != 0:
        return False
    probe = ControlGroup(Limits())
    found = probe.version != 0
    probe.remove()
    return found


needs_groups = pytest.mark.skipif(
    not groups_here(),
    reason="control groups can only be created as root, with the memory and pids controllers",
)


def test_a_control_group_is_removed_after_use():
    if not groups_here():
        pytest.skip("no control groups here")
    group = ControlGroup(Limits())
    folders = list(group.folders.values())
    assert folders and all(folder.is_dir() for folder in folders)
    group.remove()
    assert not any(folder.exists() for folder in folders) and group.join_prefix == []


@needs_limits
def test_one_process_asking_for_more_memory_gets_a_memory_error(tmp_path):
    result = contained(
        tmp_path,
        """
        import numpy as np
        try:
            np.ones(6 * 2**30 // 8)
        except MemoryError as err:
            print("MemoryError:", err)
        """,
    )
    assert result["code"] == 0 and "MemoryError: Unable to allocate 6.00 GiB" in result["output"]


@needs_limits
def test_a_busy_loop_is_stopped_at_its_cpu_time(tmp_path):
    result = contained(tmp_path, "while True:\n    pass", cpu_seconds=2)
    # Stopped by a signal (SIGXCPU, or SIGKILL at the hard limit): not a normal exit, and
    # by the CPU time, not by the wall-clock time-out of 60 s.
    assert result["code"] not in (0, None), result
    assert 2 <= result["seconds"] < 2 + limits.CPU_GRACE_S + 5, result


@needs_groups
def test_processes_together_are_held_to_the_memory_limit(tmp_path):
    """Eight processes of 250 MB each stay below their own limit (300 MB); together they
    pass the group's (300 MB + the grader's margin), and the kernel stops one of them."""
    result = contained(
        tmp_path,
        """
        import multiprocessing, time
        def hold():
            block = b"x" * (250 * 10**6)  # written, so really held
            time.sleep(5)
        workers = [multiprocessing.Process(target=hold) for _ in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        print("exit codes", [worker.exitcode for worker in workers])
        """,
        memory=300 * 10**6,
    )
    assert result["oom_kills"] >= 1, result
    assert "-9" in result["output"].splitlines()[-1], result["output"]


@needs_groups
def test_processes_beyond_the_limit_are_refused(tmp_path):
    result = contained(
        tmp_path,
        """
        import subprocess
        started = []
        try:
            for _ in range(200):
                started.append(subprocess.Popen(["sleep", "30"]))
        except OSError as err:
            print("refused after", len(started), type(err).__name__)
        """,
        processes=32,
    )
    assert result["process_refusals"] >= 1, result
    refused = json.dumps(result["output"])
    assert "refused after" in refused and "BlockingIOError" in refused
    started = int(result["output"].split("refused after")[1].split()[0])
    assert 16 < started < 32


def test_the_teachers_page_states_the_default_limits():
    page = (grading.ROOT / "book" / "teachers.md").read_text()
    defaults = Limits()
    assert f"| memory | {defaults.memory / GB:g} GB |" in page
    assert f"| CPU time | {defaults.cpu_seconds:g} s |" in page
    assert f"| processes (threads included) | {defaults.processes} |" in page
    assert f"(plus {limits.GRADER_MARGIN / GB:g} GB for the grader's" in page
