"""Every notebook in _toc.yml: executed (fast profile), re-executed by nbval, and built
into the book with its figures.

The tests run in book order: every notebook's execution test, then every nbval test;
the book test runs after all notebooks have executed. A notebook's nbval run starts as
soon as it has executed, beside the next execution, two at a time (much of a notebook's
time is one core's: start-up, data preparation, figures); each nbval run reads the models
the executions saved from a copy of its own, so that a notebook that saves a model while
another loads it cannot disturb it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, course

pytestmark = pytest.mark.notebooks

PROFILE = "fast"
NAMES = [entry.split("/")[-1] for entry in course.toc_notebooks()]
EXECUTED = course.BUILD / "executed" / PROFILE
_failed: set[str] = set()
# nbval runs, started as soon as their notebook has executed (two at a time on 2 cores).
_NBVAL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="nbval")
_reruns: dict[str, Future] = {}


def test_toc_lists_every_notebook():
    stored = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert stored == sorted(NAMES), "every notebook under notebooks/ must be in _toc.yml"


def test_the_template_executes(tmp_path, monkeypatch):
    """notebooks/_template.ipynb, the start of every new notebook, runs as it is."""
    import papermill

    for key, value in course.kernel_env(PROFILE).items():
        monkeypatch.setenv(key, value)
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "_template.ipynb"),
        str(tmp_path / "_template.ipynb"),
        parameters={"PROFILE": PROFILE},
        cwd=str(ROOT / "notebooks"),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=120,
    )
    nb = nbformat.read(tmp_path / "_template.ipynb", as_version=4)
    assert _image_outputs(nb) >= 1, "the template draws its example figure"


def test_fast_settings_live_in_the_notebooks():
    """A student who sets PROFILE = "fast" gets the quick settings: the notebook picks
    them itself, so profiles.yml needs no entry for it."""
    for name in NAMES:
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        p = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
        sizes = [n for n in ("TRAIN_SIZE", "EPOCHS") if f"\n{n} =" in "\n" + nb.cells[p].source]
        if sizes:
            check = nb.cells[p + 1].source
            assert 'if PROFILE == "fast":' in check, f"{name}: no quick settings for PROFILE fast"
            for size in sizes:
                assert f"{size} = min({size}," in check, f"{name}: {size} has no quick setting"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes(name):
    """papermill runs the notebook top to bottom; a failure names the cell and error."""
    try:
        course.execute(PROFILE, [name])
    except course.NotebookFailed as err:
        _failed.add(name)
        pytest.fail(str(err), pytrace=False)
    assert (EXECUTED / f"{name}.ipynb").is_file()
    _reruns[name] = _start_nbval(name)


def _start_nbval(name: str) -> Future:
    """Start nbval on the executed notebook, with a copy of the models saved so far."""
    env = course.kernel_env(PROFILE)
    models = Path(tempfile.mkdtemp(prefix=f"nbval-{name}-models-"))
    saved = Path(env["COURSE_MODELS_DIR"])
    if saved.is_dir():
        shutil.copytree(saved, models, dirs_exist_ok=True)
    env["COURSE_MODELS_DIR"] = str(models)
    return _NBVAL.submit(_nbval, EXECUTED / f"{name}.ipynb", env, models)


def _nbval(path: Path, env: dict, models: Path) -> subprocess.CompletedProcess:
    try:
        return _run_nbval(path, env)
    finally:
        shutil.rmtree(models, ignore_errors=True)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_reproduces(name):
    """nbval re-executes the executed notebook and compares every output."""
    path = EXECUTED / f"{name}.ipynb"
    if name in _failed or not path.is_file():
        pytest.skip(f"{name} did not execute")
    result = (_reruns.pop(name, None) or _start_nbval(name)).result()
    assert result.returncode == 0, f"nbval found differences in {name}:\n{result.stdout[-6000:]}"


def _run_nbval(path: Path, env: dict) -> subprocess.CompletedProcess:
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
            str(ROOT / "tests" / "nbval_sanitize.cfg"),
            "-o",
            "addopts=",
            "--rootdir",
            str(EXECUTED),
            str(path),
        ],
        cwd=EXECUTED,
        env=env,
        capture_output=True,
        text=True,
    )


def test_fast_settings_fit_a_small_machine():
    """With the fast settings every notebook's kernel stays under the 2 GB at which
    Binder restarts a kernel, as the cost label of a notebook that needs more with
    its full settings tells the reader (course.cost_label)."""
    import json

    record = EXECUTED / "timings.json"
    if not record.is_file():
        pytest.skip("no notebook executed")
    timings = json.loads(record.read_text())
    measured = {name: timings[name]["peak_rss_mb"] for name in NAMES if name in timings}
    assert measured, "the execution tests recorded no peak memory"
    too_big = {n: round(mb) for n, mb in measured.items() if mb > course.SMALL_MACHINE_MB}
    assert not too_big, (
        f"kernel peak above {course.SMALL_MACHINE_MB} MiB (fast settings): {too_big}"
    )


def _image_outputs(nb) -> int:
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    )


def test_figures_have_alt_text():
    """Every code cell that draws a figure says what it shows (mystnb.image.alt)."""
    missing = []
    for name in NAMES:
        path = EXECUTED / f"{name}.ipynb"
        if not path.is_file():
            continue
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
            draws = any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
            meta = cell.metadata.get("mystnb", {})
            if draws and not (
                meta.get("image", {}).get("alt") or meta.get("figure", {}).get("caption")
            ):
                missing.append(f"{name} cell {i}: {cell.source.splitlines()[0][:60]!r}")
    assert not missing, "figures without alt text:\n  " + "\n  ".join(missing)


def test_book_builds_with_every_notebook_and_its_figures():
    """jupyter-book -W -n --keep-going succeeds; each notebook page shows its figures."""
    missing = [n for n in NAMES if not (EXECUTED / f"{n}.ipynb").is_file()]
    if missing:
        pytest.skip(f"not executed: {missing}")
    html = course.build_book(PROFILE)
    for name in NAMES:
        page = html / "notebooks" / f"{name}.html"
        assert page.is_file(), f"{page} was not built"
        text = page.read_text()
        images = re.findall(r'<img [^>]*src="([^"]+\.png)"', text)
        expected = _image_outputs(nbformat.read(EXECUTED / f"{name}.ipynb", as_version=4))
        assert len(images) >= expected, (
            f"{name}: {len(images)} images on the page, {expected} figures"
        )
        for src in images:
            assert (page.parent / src).is_file(), f"{name}: image {src} is missing"
    assert (html / "index.html").is_file()
