"""Every notebook in _toc.yml: executed (fast profile), re-executed by nbval, and built
into the book with its figures.

The executions and nbval's re-executions run in the background from the start of the
test run (tests/fast_pass.py); the tests here wait for them and judge them.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from conftest import ROOT, course

pytestmark = pytest.mark.notebooks

PROFILE = "fast"
NAMES = [entry.split("/")[-1] for entry in course.toc_notebooks()]
EXECUTED = course.BUILD / "executed" / PROFILE


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
def test_notebook_executes(name, fast_notebooks):
    """papermill runs the notebook top to bottom; a failure names the cell and error."""
    try:
        path = fast_notebooks.executed(name)
    except course.NotebookFailed as err:
        pytest.fail(str(err), pytrace=False)
    assert path.is_file()


@pytest.mark.parametrize("name", NAMES)
def test_notebook_reproduces(name, fast_notebooks):
    """nbval re-executes the executed notebook and compares every output."""
    result = fast_notebooks.reproduced(name)
    if result is None:
        pytest.skip(f"{name} did not execute")
    assert result.returncode == 0, f"nbval found differences in {name}:\n{result.stdout[-6000:]}"


def _wait_for_every_notebook(fast_notebooks) -> None:
    """Wait until every execution has ended (their failures are test_notebook_executes')."""
    try:
        fast_notebooks.all_executed()
    except course.NotebookFailed:
        pass


def test_fast_settings_fit_a_small_machine(fast_notebooks):
    """With the fast settings every notebook's kernel stays under the 2 GB at which
    Binder restarts a kernel, as the cost label of a notebook that needs more with
    its full settings tells the reader (course.cost_label)."""
    import json

    _wait_for_every_notebook(fast_notebooks)
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


def test_figures_have_alt_text(fast_notebooks):
    """Every code cell that draws a figure says what it shows (mystnb.image.alt)."""
    _wait_for_every_notebook(fast_notebooks)
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


def test_book_builds_with_every_notebook_and_its_figures(fast_notebooks):
    """jupyter-book -W -n --keep-going succeeds; each notebook page shows its figures."""
    _wait_for_every_notebook(fast_notebooks)
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
