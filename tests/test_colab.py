"""The Colab path: the set-up cell installs the helpers on Colab only, from the pinned
release of the configured repository, and never reinstalls TensorFlow; then, everywhere,
it reports the Python, TensorFlow and Keras versions (helpers.environment)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import types

import nbformat
import pytest
from packaging.requirements import Requirement

from conftest import ROOT
from tools import notebook_header

CONFIG = notebook_header.config()
REPO_URL = CONFIG["repository"]["url"]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TF_WORDS = ("tensorflow", "keras", "tf-nightly", "--upgrade", "-U", "--force-reinstall")


def setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if notebook_header.SETUP_TAG in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name}: expected one set-up cell"
    return cells[0].source


def run_setup(source, monkeypatch, on_colab):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append((a, k)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "<setup cell>", "exec"), {"__name__": "__main__"})
    return calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_on_colab_installs_the_pinned_helpers_only(path, monkeypatch):
    calls = run_setup(setup_cell(path), monkeypatch, on_colab=True)
    assert len(calls) == 1, f"expected one pip call, got {calls}"
    (args,), kwargs = calls[0]
    assert args[:4] == [sys.executable, "-m", "pip", "install"]
    specs = [a for a in args[4:] if not a.startswith("-")]
    expected = f"{notebook_header.PACKAGE} @ git+{REPO_URL}@{CONFIG['colab_install_ref']}"
    assert specs == [expected]
    assert kwargs.get("check") is True, "a failed install must stop the notebook"
    for word in TF_WORDS:
        assert all(word != a and not a.startswith(word) for a in args[4:]), (
            f"the set-up cell must not pass {word!r} to pip: {args}"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_elsewhere_does_nothing(path, monkeypatch):
    assert run_setup(setup_cell(path), monkeypatch, on_colab=False) == []


def test_the_ref_is_pinned_not_a_branch():
    ref = CONFIG["colab_install_ref"]
    assert ref != CONFIG["repository"].get("branch")
    assert re.fullmatch(r"v\d+\.\d+\.\d+|[0-9a-f]{40}", ref), f"{ref!r} is not a tag or commit"


def test_package_leaves_colabs_tensorflow_alone():
    """The helpers' requirements are ranges that Colab's preinstalled stack satisfies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    names = {r.name.lower() for r in requirements}
    assert not any(n.startswith(("tensorflow", "tf-")) for n in names), names
    colab_like = {
        "keras": "3.10.0",
        "numpy": "2.0.2",
        "matplotlib": "3.10.0",
        "seaborn": "0.13.2",
        "pandas": "2.2.2",
    }
    for req in requirements:
        version = colab_like.get(req.name.lower())
        assert version is not None, f"{req.name}: add Colab's version to this test"
        assert req.specifier.contains(version), f"{req} would replace Colab's {req.name} {version}"


def test_no_notebook_links_to_another_repository():
    """Badges, set-up cells and links all point at the configured repository."""
    slug = notebook_header.repo_slug(CONFIG)
    for path in NOTEBOOKS:
        text = path.read_text()
        for match in re.finditer(r"github\.com/([\w.-]+/[\w.-]+)", text):
            assert match.group(1) == slug, f"{path.name} links to {match.group(0)}"
        assert notebook_header.badge_source(CONFIG, path.name) in text


def test_the_setup_cell_reports_the_versions_everywhere(monkeypatch, capsys):
    """After the install (on Colab) or none (elsewhere) the set-up cell prints the running
    Python, TensorFlow and Keras and which lie outside the tested ranges
    (helpers.environment), and nothing else."""
    from helpers import environment

    source = notebook_header.setup_source(CONFIG)
    assert source.rstrip().endswith("environment.report()")
    for on_colab in (True, False):
        run_setup(source, monkeypatch, on_colab=on_colab)
        assert capsys.readouterr().out.splitlines() == environment.lines()


def test_on_colab_the_helpers_are_installed_before_they_are_imported(monkeypatch, capsys):
    """On Colab the helpers exist only once the cell's pip line has run."""
    import importlib.abc

    calls = []

    class NotInstalledYet(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "helpers" and not calls:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    for name in [m for m in sys.modules if m == "helpers" or m.startswith("helpers.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [NotInstalledYet(), *sys.meta_path])
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append((a, k)))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(compile(notebook_header.setup_source(CONFIG), "<setup cell>", "exec"), {})
    assert len(calls) == 1
    assert "Python " in capsys.readouterr().out


def test_rewriting_the_header_keeps_the_notebooks_own_metadata(tmp_path):
    """The exercises' points live in the notebook's metadata ("course"): writing the
    badge and the set-up cell must not drop them."""
    import shutil

    copy = tmp_path / "03_training.ipynb"
    shutil.copy(ROOT / "notebooks" / "03_training.ipynb", copy)
    nb = nbformat.read(copy, as_version=4)
    points = nb.metadata["course"]["points"]
    nb.metadata["kernelspec"] = {"name": "other"}
    nbformat.write(nb, copy)
    assert notebook_header.write(copy, notebook_header.config())
    nb = nbformat.read(copy, as_version=4)
    assert nb.metadata["course"]["points"] == points
    assert nb.metadata["kernelspec"] == notebook_header.KERNELSPEC
