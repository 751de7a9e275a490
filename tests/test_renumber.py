"""Renumbering the notebooks after one is inserted (``python -m tools.renumber``): a
hand-worked example, and the course's own files with a chapter inserted before the last.

``tools.renumber`` leaves this file alone: its examples keep their numbers."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, course
from tools import renumber


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_renumber_gives_the_inserted_notebook_its_place(tmp_path):
    """A hand-worked example: gamma is inserted between 01_alpha and 02_omega."""
    toc = "format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/01_alpha\n"
    _write(
        tmp_path,
        {
            "_toc.yml": toc + "  - file: notebooks/gamma\n  - file: notebooks/02_omega\n",
            "notebooks/01_alpha.ipynb": "Next: [notebook 02](02_omega.ipynb).\n",
            "notebooks/gamma.ipynb": "# NN · Gamma\n**Exercise NN.1 (open).** Why?\n",
            "notebooks/02_omega.ipynb": (
                '# 02 · Omega\n**Exercise 02.1.** How many?\nanswer_02_1 = ...\ncheck("02.1", answer_02_1)\n'
            ),
            "helpers/exercises/nb02.py": (
                '"""Notebook 02\'s checks (notebooks 01 and 02; 02\'s ids)."""\n@exercise("02.1")\n'
                'VERSION, OTHER = "3.02.1", "02.2"  # not an exercise of notebook 02\n'
            ),
            "tests/test_exercises_nb01_02.py": "from helpers.exercises import nb02\n",
            "tools/claims/02_omega.py": "# 02_omega's claims\n",
            "README.md": (
                "| 02 | `notebooks/02_omega.ipynb` | omega |\n| epoch | 02 |\nNB=02\n"
                "Notebooks 01–02 compare.\n`omega_sweep` (02), (02) alone\n"
            ),
            "helpers/results/runs.csv": "notebook,value\n02_omega,02.1\n",
        },
    )
    result = renumber.plan(tmp_path)
    assert result.names == {"gamma": "02_gamma", "02_omega": "03_omega"}
    assert result.numbers == {"02": "03"}
    # The ranges that now hold the inserted notebook, for the author to read again.
    assert result.review == ["README.md:4", "tests/test_exercises_nb01_03.py"]
    renumber.main(["--dry-run", "--root", str(tmp_path)])
    assert (tmp_path / "notebooks" / "gamma.ipynb").is_file(), "a dry run changes nothing"

    renumber.apply(result, tmp_path)
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "_toc.yml",
        "helpers/exercises/nb03.py",
        "helpers/results/runs.csv",
        "notebooks/01_alpha.ipynb",
        "notebooks/02_gamma.ipynb",
        "notebooks/03_omega.ipynb",
        "tests/test_exercises_nb01_03.py",
        "tools/claims/03_omega.py",
    ]
    read = {name: (tmp_path / name).read_text() for name in files}
    assert read["_toc.yml"] == (
        toc + "  - file: notebooks/02_gamma\n  - file: notebooks/03_omega\n"
    )
    assert read["notebooks/01_alpha.ipynb"] == "Next: [notebook 03](03_omega.ipynb).\n"
    assert read["notebooks/02_gamma.ipynb"] == "# 02 · Gamma\n**Exercise 02.1 (open).** Why?\n"
    assert read["notebooks/03_omega.ipynb"] == (
        '# 03 · Omega\n**Exercise 03.1.** How many?\nanswer_03_1 = ...\ncheck("03.1", answer_03_1)\n'
    )
    assert read["helpers/exercises/nb03.py"] == (
        '"""Notebook 03\'s checks (notebooks 01 and 03; 03\'s ids)."""\n@exercise("03.1")\n'
        'VERSION, OTHER = "3.02.1", "02.2"  # not an exercise of notebook 03\n'
    )
    assert read["tests/test_exercises_nb01_03.py"] == "from helpers.exercises import nb03\n"
    assert read["tools/claims/03_omega.py"] == "# 03_omega's claims\n"
    assert (
        read["README.md"] == "| 03 | `notebooks/03_omega.ipynb` | omega |\n| epoch | 02 |\nNB=03\n"
        "Notebooks 01–03 compare.\n`omega_sweep` (03), (02) alone\n"
    )
    assert read["helpers/results/runs.csv"] == "notebook,value\n03_omega,02.1\n"
    assert renumber.plan(tmp_path).empty, "a second run finds nothing to do"


def test_renumber_refuses_two_notebooks_with_one_number(tmp_path):
    _write(
        tmp_path,
        {
            "_toc.yml": "chapters:\n  - file: notebooks/01_alpha\n  - file: notebooks/01_beta\n",
            "notebooks/01_alpha.ipynb": "",
            "notebooks/01_beta.ipynb": "",
        },
    )
    with pytest.raises(renumber.RenumberError, match=r"01_alpha, 01_beta.*notebooks/beta\.ipynb"):
        renumber.plan(tmp_path)


def test_renumber_inserts_a_chapter_before_the_last_notebook_of_the_course(tmp_path):
    """The course's own files, copied: the template inserted before the last notebook."""
    for folder in ("notebooks", "helpers", "tools/claims"):
        shutil.copytree(
            ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    (tmp_path / "tests").mkdir()
    for path in (ROOT / "tests").glob("test_exercises*.py"):
        shutil.copy(path, tmp_path / "tests" / path.name)
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    names = [Path(entry).name for entry in course.toc_notebooks()]
    last, count = names[-1], len(names)
    old, new = last[:2], f"{count + 1:02d}"
    topic = last[3:]
    toc = (ROOT / "_toc.yml").read_text()
    assert toc.count(f"notebooks/{last}\n") == 1
    (tmp_path / "_toc.yml").write_text(
        toc.replace(
            f"- file: notebooks/{last}\n",
            f"- file: notebooks/interlude\n      - file: notebooks/{last}\n",
        )
    )
    shutil.copy(ROOT / "notebooks" / "_template.ipynb", tmp_path / "notebooks" / "interlude.ipynb")

    renumber.apply(renumber.plan(tmp_path), tmp_path)

    assert [Path(e).name for e in course.toc_notebooks(tmp_path / "_toc.yml")] == [
        *names[:-1],
        f"{old}_interlude",
        f"{new}_{topic}",
    ]
    moved = nbformat.read(tmp_path / "notebooks" / f"{new}_{topic}.ipynb", as_version=4)
    assert moved.cells[1].source.startswith(f"# {new} · ")
    code = "\n".join(c.source for c in moved.cells if c.cell_type == "code")
    used = set(re.findall(r'check\("(\d\d\.\d+)"', code))
    checks = (tmp_path / "helpers" / "exercises" / f"nb{new}.py").read_text()
    registered = set(re.findall(r'@exercise\("(\d\d\.\d+)"\)', checks))
    assert used and used <= registered and {i[:2] for i in registered} == {new}
    before = nbformat.read(ROOT / "notebooks" / f"{last}.ipynb", as_version=4)
    points = before.metadata["course"]["points"]
    assert moved.metadata["course"]["points"] == {
        (new + i[2:] if i != "reflection" else i): p for i, p in points.items()
    }
    tests = (tmp_path / "tests" / f"test_exercises_nb{new}.py").read_text()
    assert all(f'"{i}"' in tests for i in registered), "the checks' tests name the new ids"
    for path in (
        f"notebooks/{new}_{topic}.ipynb",
        f"helpers/exercises/nb{new}.py",
        f"tests/test_exercises_nb{new}.py",
    ):
        text = (tmp_path / path).read_text()
        assert not re.search(rf"(?<![\w.]){old}\.\d(?!\d)|\bnb{old}\b|{old}_{topic}", text), path
    assert (tmp_path / "tools" / "claims" / f"{new}_{topic}.py").is_file()
    assert f"| {new} | `notebooks/{new}_{topic}.ipynb` |" in (tmp_path / "README.md").read_text()
    inserted = (tmp_path / "notebooks" / f"{old}_interlude.ipynb").read_text()
    assert f"# {old} · " in inserted and not re.search(r"NN[._]\d|# NN", inserted)
