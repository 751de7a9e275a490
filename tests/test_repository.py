"""The repository's hygiene: stored notebooks, the notebook skeleton, the headers."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

import notebook_header
from conftest import ROOT

# The numbered notebooks, and the template a new notebook is copied from: it must pass
# every test of the skeleton too.
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TEMPLATE = ROOT / "notebooks" / "_template.ipynb"
NOTEBOOKS_AND_TEMPLATE = [*NOTEBOOKS, *([TEMPLATE] if TEMPLATE.is_file() else [])]


def test_there_are_notebooks():
    assert NOTEBOOKS


def test_there_is_a_template_for_new_notebooks():
    assert TEMPLATE.is_file(), "notebooks/_template.ipynb is where a new notebook starts"


@pytest.mark.parametrize("path", NOTEBOOKS_AND_TEMPLATE, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; run nbstripout (pre-commit does)"


@pytest.mark.parametrize("path", NOTEBOOKS_AND_TEMPLATE, ids=lambda p: p.stem)
def test_follows_the_skeleton(path):
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, (
        f"{path.name}: expected exactly one 'parameters' cell, found {len(tagged)}"
    )
    p = tagged[0]
    params = cells[p].source
    assert re.search(r"^SEED = \d+", params, re.M), f"{path.name}: the parameters cell needs SEED"
    assert re.search(r'^PROFILE = "full"', params, re.M), f'{path.name}: needs PROFILE = "full"'
    for line in params.splitlines():
        code = line.split("#", 1)[0].strip()
        if code:
            name, _, value = code.partition("=")
            assert re.fullmatch(r"[-+\d._e]+|\"[^\"]*\"|'[^']*'|True|False|None", value.strip()), (
                f"{path.name}: parameter {name.strip()} = {value.strip()} is not a literal"
            )
    following = cells[p + 1]
    assert following.cell_type == "code" and "check_params(" in following.source, (
        f"{path.name}: the cell after the parameters must call check_params"
    )
    declared = re.findall(r"^([A-Z][A-Z0-9_]*) =", params, re.M)
    call = following.source.split("check_params(", 1)[1].split(")", 1)[0]
    checked = re.findall(r"\b([A-Z][A-Z0-9_]*)=", call)
    assert checked == declared, (
        f"{path.name}: check_params must be given every parameter, in the parameters cell's "
        f"order: {declared}; it is given {checked}"
    )
    assert cells[1].cell_type == "markdown" and cells[1].source.startswith("# "), (
        f"{path.name}: the second cell (after the badge) must be the title"
    )
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    for heading in ("## Summary", "## Exercises", "## Reflection"):
        assert heading in text, f"{path.name}: missing the section {heading!r}"
    assert "objectives" in cells[1].source.lower() and "prerequisites" in cells[1].source.lower()
    assert cells[-1].cell_type == "markdown" and cells[-1].source.startswith("## Reflection"), (
        f"{path.name}: the last cell must be the Reflection section"
    )
    reflection = " ".join(cells[-1].source.lower().split())
    for part in (
        "takeaways",
        "challenging",
        "ai tool",
        "for which questions or concepts",
        "which parts of your answers",
        "what did you learn after using it",
        "how did you check",
        "resources",
    ):
        assert part in reflection, f"{path.name}: the Reflection section must ask about {part!r}"
    reading = cells[-2]
    assert reading.cell_type == "markdown" and reading.source.startswith("## Further reading"), (
        f"{path.name}: a 'Further reading' section must come right before the Reflection"
    )
    links = re.findall(r"^- \[[^\]]+\]\(https://[^)]+\): \S", reading.source, re.M)
    assert len(links) >= 2, (
        f"{path.name}: Further reading lists {len(links)} sources as '- [title](https://...): "
        "what the reader gets'; expected at least 2"
    )


@pytest.mark.parametrize("path", NOTEBOOKS_AND_TEMPLATE, ids=lambda p: p.stem)
def test_no_trailing_semicolons(path):
    """nbval runs cells with store_history=False, where IPython ignores a trailing ';'."""
    nb = nbformat.read(path, as_version=4)
    bad = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and c.source.rstrip().endswith(";")
    ]
    assert not bad, f"{path.name}: cells {bad} end with ';' (end plotting cells with plt.show())"


@pytest.mark.parametrize("path", NOTEBOOKS_AND_TEMPLATE, ids=lambda p: p.stem)
def test_badge_and_setup_cell_agree_with_config(path):
    problems = notebook_header.problems(path, notebook_header.config())
    assert not problems, "\n".join(problems) + "\nRun: python tools/notebook_header.py"


def test_colab_install_ref_is_the_package_version():
    import helpers

    assert notebook_header.config()["colab_install_ref"] == f"v{helpers.__version__}"


def test_no_dataset_files_committed():
    import subprocess

    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout
    assert not re.search(r"idx[13]-ubyte", files), "dataset files must not be committed"


@pytest.mark.parametrize("path", NOTEBOOKS_AND_TEMPLATE, ids=lambda p: p.stem)
def test_exercises_checks_and_solutions(path):
    """At least three exercises; every check is registered and has a solution block
    (tests/test_markup.py checks that the blocks are closed)."""
    from helpers.exercises import registered

    nb = nbformat.read(path, as_version=4)
    number = "NN" if path == TEMPLATE else path.name[:2]
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    found = set(re.findall(rf"\*\*Exercise ({number}\.\d+)", markdown))
    assert len(found) >= 3, f"{path.name}: {len(found)} exercises, expected at least 3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    used = set(re.findall(r'check\("(\d\d\.\d+)"', "\n".join(c.source for c in code)))
    assert used <= set(registered()), f"{path.name}: unregistered checks {used - set(registered())}"
    assert used <= found, f"{path.name}: checks {used - found} have no exercise text"
    solved = set(re.findall(r"<summary>Solution to exercise (\d\d\.\d+)</summary>", markdown))
    assert used <= solved, (
        f"{path.name}: checked exercises without a solution block: {used - solved}"
    )


def test_every_check_is_unit_tested():
    from helpers.exercises import registered

    tests = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_exercises*.py"))
    untested = [i for i in registered() if f'"{i}"' not in tests]
    assert not untested, f"exercise checks without unit tests: {untested}"


def test_license_and_citation_agree_with_the_package():
    import tomllib

    import yaml

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License"), (
        "LICENSE must hold the MIT text"
    )
    assert project["license"] == "MIT"
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == project["version"], "CITATION.cff names another version"
    assert citation["license"] == "MIT"
    assert citation["title"] in (ROOT / "README.md").read_text()
