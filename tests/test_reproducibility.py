"""SEED controls the results: the same SEED reproduces every printed metric (nbval, in
test_notebooks.py); a different SEED gives different ones (here)."""

from __future__ import annotations

import re

import nbformat
import papermill
import pytest

from conftest import ROOT, course

pytestmark = pytest.mark.notebooks

NOTEBOOK = "03_training"
METRIC = re.compile(r"(?:accuracy|loss)[:=]\s*\d\.\d+", re.I)


def metrics(path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "") or out.get("data", {}).get("text/plain", "")
            found += METRIC.findall(text)
    return found


@pytest.mark.skipif(
    not (ROOT / "notebooks" / f"{NOTEBOOK}.ipynb").is_file(), reason=f"no {NOTEBOOK}"
)
def test_a_different_seed_gives_different_metrics(tmp_path, request):
    # SEED = 1 runs first, while the background executes the notebooks (SEED = 0): the
    # fast pass is asked for only afterwards, so that this test is not put with those
    # that wait for it (conftest.py)
    params = {**course.profile_parameters("fast", NOTEBOOK), "SEED": 1}
    env = course.kernel_env("fast")
    env["COURSE_MODELS_DIR"] = str(tmp_path / "models")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        papermill.execute_notebook(
            str(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb"),
            str(tmp_path / "seed1.ipynb"),
            parameters=params,
            cwd=str(ROOT / "notebooks"),
            kernel_name="python3",
            progress_bar=False,
        )
    seed1 = metrics(tmp_path / "seed1.ipynb")
    seed0 = metrics(request.getfixturevalue("fast_notebooks").executed(NOTEBOOK))  # SEED = 0
    assert seed0, f"{NOTEBOOK} printed no metrics"
    assert len(seed1) == len(seed0)
    assert seed1 != seed0, "SEED = 1 printed exactly the metrics of SEED = 0"
