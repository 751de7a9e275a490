"""The repository's hygiene: stored notebooks, the notebook skeleton, the headers."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from tools import notebook_header

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
    assert not problems, "\n".join(problems) + "\nRun: python -m tools.notebook_header"


def test_colab_install_ref_is_the_package_version():
    import helpers

    assert notebook_header.config()["colab_install_ref"] == f"v{helpers.__version__}"


def test_no_dataset_files_committed():
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


# ------------------------------------------------------------------ one list, one way to run


def _docstring_list(package: str) -> list[str]:
    """The modules a package's docstring lists ("- ``package.name``: ..."), in its order."""
    module = importlib.import_module(package)
    return re.findall(rf"^- ``{package}\.(\w+)``:", module.__doc__, re.M)


def _modules(folder: Path) -> set[str]:
    """The modules of a package folder: its .py files and its sub-packages."""
    return {p.stem for p in folder.glob("*.py") if p.stem != "__init__"} | {
        p.parent.name for p in folder.glob("*/__init__.py")
    }


@pytest.mark.parametrize("package", ["helpers", "tools"])
def test_the_package_docstring_lists_every_module_once(package):
    listed = _docstring_list(package)
    assert len(listed) == len(set(listed)), f"{package}/__init__.py lists a module twice"
    actual = _modules(ROOT / package)
    assert set(listed) == actual, (
        f"{package}/__init__.py's docstring is the list of its modules; it leaves out "
        f"{sorted(actual - set(listed))} and lists {sorted(set(listed) - actual)}, which do "
        "not exist. Add each module as '- ``" + package + ".name``: what it is for'"
    )


@pytest.mark.parametrize("package", ["helpers", "tools"])
def test_the_readme_layout_names_the_modules_of_the_list(package):
    """The README's layout repeats the names of the package's list, in its order."""
    readme = (ROOT / "README.md").read_text()
    found = re.search(rf"in {package}/__init__\.py\):\s*(.*?)(?:;|\n\S)", readme, re.S)
    assert found, (
        f"the README's layout must name the {package} modules after 'in {package}/__init__.py):'"
    )
    names = re.findall(r"\w+", found[1])
    assert names == _docstring_list(package), (
        f"the README's layout names {names}; {package}/__init__.py lists {_docstring_list(package)}"
    )


def test_contributing_refers_to_the_lists():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    assert "`helpers/__init__.py`" in text and "`tools/__init__.py`" in text


def test_each_helper_imports_only_the_helpers_listed_before_it():
    """helpers/__init__.py: "Each module imports only those above it in this list"."""
    order = _docstring_list("helpers")
    wrong = []
    for name in order:
        folder = ROOT / "helpers" / name
        sources = sorted(folder.glob("*.py")) if folder.is_dir() else [folder.with_suffix(".py")]
        for source in sources:
            for node in ast.walk(ast.parse(source.read_text())):
                imported = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    if node.module == "helpers":
                        imported = [alias.name for alias in node.names]
                    elif node.module.startswith("helpers."):
                        imported = [node.module.split(".")[1]]
                elif isinstance(node, ast.Import):
                    imported = [
                        a.name.split(".")[1] for a in node.names if a.name.startswith("helpers.")
                    ]
                for other in imported:
                    if other != name and (
                        other not in order or order.index(other) > order.index(name)
                    ):
                        wrong.append(f"{source.relative_to(ROOT)}:{node.lineno} imports {other}")
    assert not wrong, "a helper imports one listed after it in helpers/__init__.py: " + "; ".join(
        wrong
    )


# Where the course's tools are run or imported from.
CODE_FOLDERS = ("tools", "tests", "helpers", "benchmarks")
SYS_PATH_EDIT = re.compile(r"sys\.path\.(insert|append|extend|remove)\(|sys\.path\s*(\+?=|\[)")


def _code_files():
    for folder in CODE_FOLDERS:
        yield from sorted((ROOT / folder).rglob("*.py"))
    yield from NOTEBOOKS_AND_TEMPLATE


def test_no_code_edits_sys_path():
    """One import path for each module: the root, from `python -m` and from pytest's
    `pythonpath` (pyproject.toml). A sys.path edit lets `course` and `tools.course` be
    two copies of one file in one process."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _code_files()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if SYS_PATH_EDIT.search(line)
    ]
    assert not found, f"sys.path is edited at {found}; import the tools as `from tools import x`"


# A tool run by its file's path (python, then tools/<name>.py) instead of as a module.
RUN_BY_PATH = re.compile(
    r"""(?:python3?|\$\(PY\)|bin/python|sys\.executable,)\s*["']?tools/[\w/]+\.py"""
)
# Commands still shown by path, to convert to `python -m tools.<name>`: the file, and the
# tool it runs. Remove an entry once its file shows the module form.
RUN_AS_MODULE = re.compile(r"-m[ \"',]+tools\.(\w+)")


def _documentation_and_callers():
    for pattern in (
        "*.md",
        "book/*.md",
        "Makefile",
        ".ci/run",
        "_config.yml",
        ".pre-commit-config.yaml",
        ".github/workflows/*.yml",
    ):
        yield from sorted(ROOT.glob(pattern))
    yield from _code_files()


def test_every_tool_command_runs_the_tool_as_a_module():
    """`python -m tools.<name>` from the root, everywhere a command is shown or run."""
    by_path, unknown = [], []
    tools = set(_docstring_list("tools"))
    for path in _documentation_and_callers():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            where = f"{path.relative_to(ROOT)}:{number}"
            if RUN_BY_PATH.search(line):
                by_path.append(where)
            unknown += [
                f"{where} (tools.{m})" for m in RUN_AS_MODULE.findall(line) if m not in tools
            ]
    assert not by_path, f"run a tool as `python -m tools.<name>`, not by its path: {by_path}"
    assert not unknown, f"these commands run a tool that tools/__init__.py does not list: {unknown}"


def test_a_tool_module_is_imported_once():
    """`from tools import course` and `import tools.course` give one module, the one the
    tests share (conftest), and no tool is importable under its bare name as well."""
    import conftest
    import tools.course
    from tools import course

    assert course is tools.course is conftest.course
    assert sys.modules["tools.course"] is course
    for name in _docstring_list("tools"):
        spec = importlib.util.find_spec(name)
        assert spec is None or not str(spec.origin).startswith(str(ROOT / "tools")), (
            f"tools/{name} is importable as `import {name}` too: a second copy of the module"
        )


def test_a_tool_runs_as_a_module_from_the_root():
    done = subprocess.run(
        [sys.executable, "-m", "tools.renumber", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "nothing to do" in done.stdout, "every notebook has the number of its place"
