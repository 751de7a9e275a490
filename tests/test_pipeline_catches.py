"""The pipeline fails when something breaks silently.

Each test builds a small copy of the project in a temporary directory (the real
tools, configuration and book pages, with one tiny notebook), checks that the copy
passes, then breaks one thing and checks that the same command now fails.
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
parts:
  - caption: Getting started
    chapters:
      - file: book/setup
  - caption: The course
    chapters:
      - file: notebooks/01_tiny
  - caption: For teachers
    chapters:
      - file: book/teachers
  - caption: Appendix
    chapters:
      - file: book/glossary
      - file: book/speed
      - file: book/references
"""


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


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "course"
    copy.mkdir()
    for item in ("_config.yml", "tools", "book", "pyproject.toml"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, copy / item)
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
    return copy


def build(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.course", "book", "--profile", "fast"],
        cwd=project,
        capture_output=True,
        text=True,
        env=course.kernel_env("fast"),
    )


def test_the_copy_builds(project):
    result = build(project)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (
        project / "_build" / "fast" / "_build" / "html" / "notebooks" / "01_tiny.html"
    ).is_file()


def test_a_cell_that_raises_fails_and_is_named(project):
    nbformat.write(tiny_notebook(fail=True), project / "notebooks" / "01_tiny.ipynb")
    result = build(project)
    assert result.returncode != 0
    assert "01_tiny" in result.stderr and "ValueError: a broken cell" in result.stderr


def test_a_toc_entry_to_a_missing_file_fails(project):
    toc = project / "_toc.yml"
    toc.write_text(
        toc.read_text().replace(
            "      - file: book/glossary\n",
            "      - file: book/missing\n      - file: book/glossary\n",
        )
    )
    assert build(project).returncode != 0


def test_a_warning_in_the_build_fails(project):
    page = project / "book" / "setup.md"
    page.write_text(page.read_text() + "\n\nSee {doc}`a-page-that-does-not-exist`.\n")
    result = build(project)
    assert result.returncode != 0
    assert "a-page-that-does-not-exist" in result.stdout + result.stderr


def test_a_broken_relative_link_fails(project):
    page = project / "book" / "glossary.md"
    page.write_text(page.read_text() + "\n\nRead [the missing chapter](missing-chapter.md).\n")
    result = build(project)
    assert result.returncode != 0
    assert "missing-chapter" in result.stdout + result.stderr


def test_a_notebook_stored_with_outputs_fails(project):
    (project / "tests").mkdir()
    for name in ("conftest.py", "test_repository.py"):
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
