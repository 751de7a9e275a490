"""The pipeline fails when something breaks silently.

The tests build a two-page copy of the book in a temporary directory (the real tools
and configuration, a one-line front page and one tiny notebook), once, and check that
it passes. Each test then copies that built copy, breaks something and checks that the
same command now fails, naming what broke. The broken pages share one build: under
``-W`` every warning fails the build, so each one named in its output would fail it
alone.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, course

pytestmark = pytest.mark.book

TOC = """format: jb-book
root: book/intro
chapters:
  - file: notebooks/01_tiny
"""
FRONT_PAGE = "# A tiny course\n\nA copy of the course with one notebook.\n"


def tiny_notebook(fail: bool = False, with_outputs: bool = False):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    }
    params = nbformat.v4.new_code_cell('SEED = 0\nPROFILE = "full"')
    params.metadata["tags"] = ["parameters"]
    body = (
        "raise ValueError('a broken cell')"
        if fail
        else "from helpers import claims\n\ntotal = sum(range(SEED + 4))\nprint('sum:', total)\n"
        "claims.record(total=total)"
    )
    code = nbformat.v4.new_code_cell(body)
    if with_outputs:
        code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="sum: 6\n")]
        code.execution_count = 1
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · Tiny\n\nA tiny notebook."), params, code]
    return nb


def build(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.course", "book", "--profile", "fast"],
        cwd=project,
        capture_output=True,
        text=True,
        env=course.kernel_env("fast"),
    )


@pytest.fixture(scope="module")
def built_copy(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The two-page copy, built once (its notebook executed) for every test here."""
    copy = tmp_path_factory.mktemp("pipeline") / "course"
    copy.mkdir()
    for item in ("_config.yml", "tools", "book", "pyproject.toml"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, copy / item)
    (copy / "book" / "intro.md").write_text(FRONT_PAGE)
    (copy / "_toc.yml").write_text(TOC)
    (copy / "notebooks").mkdir()
    (copy / "notebooks" / "profiles.yml").write_text("fast:\n  01_tiny: {}\nfull: {}\n")
    nbformat.write(tiny_notebook(), copy / "notebooks" / "01_tiny.ipynb")
    (copy / "tools" / "claims" / "01_tiny.py").write_text(
        '"""What the tiny notebook\'s text says."""\n\n\n'
        "def check(c):\n"
        '    c.claim("0 + 1 + 2 + 3 is 6", c["total"] == 6, total=c["total"])\n'
    )
    (copy / "_build" / "npm").parent.mkdir(parents=True)
    (copy / "_build" / "npm").symlink_to(course.ensure_mathjax().parents[2])  # shared MathJax
    return copy, build(copy)


@pytest.fixture
def project(built_copy, tmp_path: Path) -> Path:
    """A fresh copy of the built two-page copy, to break (its build cache comes along)."""
    copy = tmp_path / "course"
    shutil.copytree(built_copy[0], copy, symlinks=True)
    return copy


def test_the_copy_builds(built_copy):
    copy, result = built_copy
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (copy / "_build" / "fast" / "_build" / "html" / "notebooks" / "01_tiny.html").is_file()


def test_a_cell_that_raises_fails_and_is_named(project):
    nbformat.write(tiny_notebook(fail=True), project / "notebooks" / "01_tiny.ipynb")
    result = build(project)
    assert result.returncode != 0
    assert "01_tiny" in result.stderr and "ValueError: a broken cell" in result.stderr


def test_broken_pages_fail_and_each_is_named(project):
    """A toc entry to a missing file, a reference to a page that does not exist and a
    relative link to a missing file: the build fails and names each of them."""
    toc = project / "_toc.yml"
    toc.write_text(toc.read_text() + "  - file: book/missing\n")
    page = project / "book" / "intro.md"
    page.write_text(
        page.read_text()
        + "\n\nSee {doc}`a-page-that-does-not-exist`.\n"
        + "\n\nRead [the missing chapter](missing-chapter.md).\n"
    )
    result = build(project)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for broken in ("book/missing", "a-page-that-does-not-exist", "missing-chapter"):
        assert broken in output, f"the build does not name {broken!r}:\n{output[-3000:]}"


def test_a_notebook_stored_with_outputs_fails(project):
    (project / "tests").mkdir()
    for name in ("conftest.py", "fast_pass.py", "test_repository.py"):
        shutil.copy(ROOT / "tests" / name, project / "tests" / name)
    (project / "helpers").mkdir()
    shutil.copy(ROOT / "helpers" / "__init__.py", project / "helpers" / "__init__.py")

    def run():
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-o",
                "addopts=",
                "tests/test_repository.py",
                "-k",
                "stored_without_outputs",
            ],
            cwd=project,
            capture_output=True,
            text=True,
        )

    assert run().returncode == 0
    nbformat.write(tiny_notebook(with_outputs=True), project / "notebooks" / "01_tiny.ipynb")
    result = run()
    assert result.returncode != 0 and "carry outputs" in result.stdout
