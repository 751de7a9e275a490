"""tools.compat (`make compat`) without installing anything: the environments it
builds pin what pyproject.toml declares, and a failing notebook is reported by name,
cell and error. The run itself is `make compat` (CI runs it after `make test`)."""

from __future__ import annotations

import nbformat
import pytest
from packaging.requirements import Requirement

from conftest import ROOT, course
from tools import compat


def test_oldest_pins_every_declared_lower_bound():
    pins = dict(line.split("==") for line in compat.constraints("oldest"))
    for req in compat.declared():
        assert pins[req.name] == compat.lower_bound(req), req
    assert compat.TF_DIST in pins, "the tf extra's TensorFlow is installed as tensorflow-cpu"


def test_newest_keeps_the_declared_ranges():
    newest = [Requirement(line) for line in compat.constraints("newest")]
    assert {r.name for r in newest} == {r.name for r in compat.declared()}
    assert all(r.specifier == d.specifier for r, d in zip(newest, compat.declared(), strict=True))


def test_a_bound_without_a_version_is_refused_with_an_example():
    with pytest.raises(compat.CompatFailed, match=r"keras.*expected exactly one.*keras>=1\.2\.3"):
        compat.lower_bound(Requirement("keras<4"))


def test_the_check_cell_comes_first_and_the_solutions_are_inserted():
    source = ROOT / f"{course.toc_notebooks()[-1]}.ipynb"
    stored = nbformat.read(source, as_version=4)
    nb = compat.prepare(stored, ROOT / "venv")
    assert "compat-check" in nb.cells[0].metadata["tags"]
    assert "import helpers" in nb.cells[0].source
    solutions = [c for c in nb.cells if c.metadata.get("course", {}).get("solution")]
    assert solutions, f"{source.name}: no solution was inserted"
    compile(nb.cells[0].source, "<check cell>", "exec")


def test_a_failing_cell_is_named_with_its_error():
    nb = nbformat.v4.new_notebook()
    ok = nbformat.v4.new_code_cell("x = 1", execution_count=1)
    bad = nbformat.v4.new_code_cell("\nmodel.fit(x)", execution_count=2)
    bad.outputs = [nbformat.v4.new_output("error", ename="TypeError", evalue="bad x", traceback=[])]
    nb.cells = [ok, bad]
    assert compat.describe_error(nb) == "cell [2] ('model.fit(x)') raised TypeError: bad x"
    bad.metadata["course"] = {"solution": "03.1"}
    assert "the solution to exercise 03.1" in compat.describe_error(nb)


def test_warnings_are_collected_once_per_text():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("model.fit(ds)", execution_count=3)
    text = "x.py:1: UserWarning: Your input ran out of data; interrupting training.\n"
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=text * 2)]
    nb.cells = [cell]
    found = compat.warnings_shown(nb)
    assert found == [(3, "UserWarning: Your input ran out of data; interrupting training.")]
    assert any(marker in found[0][1] for marker in compat.WRONG_RESULTS)
