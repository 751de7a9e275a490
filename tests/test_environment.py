"""helpers.environment: the set-up cell's line on the Python, TensorFlow and Keras versions
that run a notebook, and on those outside the ranges the course is tested with."""

from __future__ import annotations

import importlib.metadata
import platform
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from conftest import ROOT
from helpers import environment

TESTED = {
    "Python": SpecifierSet(">=3.11"),
    "TensorFlow": SpecifierSet(">=2.16.1,<2.21"),
    "Keras": SpecifierSet(">=3.7.0,<4"),
}
CONSEQUENCE = "results and messages may differ from the book's"


# --------------------------------------------------------------------------- one version


def test_a_version_inside_the_range_says_nothing():
    assert environment.outside("TensorFlow", "2.20.0", TESTED["TensorFlow"]) is None
    assert environment.outside("TensorFlow", "2.16.1", TESTED["TensorFlow"]) is None  # the bound
    assert environment.outside("Keras", "3.7.0", TESTED["Keras"]) is None
    assert environment.outside("Python", "3.13.1", TESTED["Python"]) is None


def test_a_version_above_the_range_is_newer_than_tested():
    line = environment.outside("TensorFlow", "2.22.0", TESTED["TensorFlow"])
    assert line == (
        "TensorFlow 2.22.0 is newer than the newest the course is tested with "
        f"(>=2.16.1,<2.21): {CONSEQUENCE}"
    )


def test_the_upper_bound_itself_is_outside():
    line = environment.outside("TensorFlow", "2.21.0", TESTED["TensorFlow"])
    assert line is not None and "2.21.0 is newer" in line


def test_a_version_below_the_range_is_older_than_tested():
    line = environment.outside("Keras", "3.5.0", TESTED["Keras"])
    assert line == (
        f"Keras 3.5.0 is older than the oldest the course is tested with (>=3.7.0,<4): {CONSEQUENCE}"
    )
    line = environment.outside("Python", "3.10.12", TESTED["Python"])
    assert line is not None and line.startswith("Python 3.10.12 is older than the oldest")
    assert "(>=3.11)" in line


def test_a_prerelease_of_the_next_major_version_is_newer():
    line = environment.outside("Keras", "4.0.0rc1", TESTED["Keras"])
    assert line is not None and "Keras 4.0.0rc1 is newer" in line


def test_a_prerelease_inside_the_range_is_inside():
    assert environment.outside("TensorFlow", "2.20.0rc0", TESTED["TensorFlow"]) is None


def test_an_excluded_version_is_neither_older_nor_newer():
    line = environment.outside("Keras", "3.8.0", SpecifierSet(">=3.7.0,!=3.8.0,<4"))
    assert line is not None and "Keras 3.8.0 is not one of the versions" in line
    assert "(>=3.7.0,!=3.8.0,<4)" in line


def test_a_missing_package_is_named_with_its_range():
    line = environment.outside("TensorFlow", None, TESTED["TensorFlow"])
    assert (
        line == "TensorFlow is not installed: the course is tested with TensorFlow >=2.16.1,<2.21"
    )


def test_a_version_that_cannot_be_read_is_not_judged():
    assert environment.outside("Python", "3.12.0+local build", TESTED["Python"]) is None


def test_ranges_are_shown_lower_bound_first():
    assert environment.shown(SpecifierSet("<3,>=2.16.1")) == ">=2.16.1,<3"
    assert environment.shown(SpecifierSet("")) == "any version"


# --------------------------------------------------------------------------- the report


def test_all_inside_is_one_line():
    versions = {"Python": "3.12.3", "TensorFlow": "2.19.0", "Keras": "3.10.0"}
    assert environment.lines(versions, TESTED) == [
        "Python 3.12.3, TensorFlow 2.19.0, Keras 3.10.0: versions the course is tested with"
    ]


def test_one_line_per_version_outside():
    versions = {"Python": "3.12.3", "TensorFlow": "2.22.0", "Keras": "3.5.0"}
    found = environment.lines(versions, TESTED)
    assert found[0] == "Python 3.12.3, TensorFlow 2.22.0, Keras 3.5.0"
    assert len(found) == 3
    assert found[1].startswith("TensorFlow 2.22.0 is newer than the newest")
    assert found[2].startswith("Keras 3.5.0 is older than the oldest")
    assert all(line.endswith(CONSEQUENCE) for line in found[1:])


def test_missing_tensorflow_is_reported():
    versions = {"Python": "3.12.3", "TensorFlow": None, "Keras": "3.10.0"}
    found = environment.lines(versions, TESTED)
    assert found == [
        "Python 3.12.3, Keras 3.10.0",
        "TensorFlow is not installed: the course is tested with TensorFlow >=2.16.1,<2.21",
    ]


def test_unknown_ranges_still_show_the_versions():
    versions = {"Python": "3.12.3", "TensorFlow": "2.19.0", "Keras": "3.10.0"}
    assert environment.lines(versions, {}) == [
        "Python 3.12.3, TensorFlow 2.19.0, Keras 3.10.0 "
        "(the versions the course is tested with are not known here)"
    ]


def test_report_prints_the_lines_and_returns_nothing(capsys):
    """The set-up cell ends with report(): a returned value would be shown as well."""
    versions = {"Python": "3.12.3", "TensorFlow": "2.22.0", "Keras": "3.10.0"}
    assert environment.report(versions, TESTED) is None
    assert capsys.readouterr().out.splitlines() == environment.lines(versions, TESTED)


def test_the_report_is_the_same_twice(capsys):
    """nbval compares the set-up cell's output between two runs on the same machine."""
    environment.report()
    first = capsys.readouterr().out
    environment.report()
    assert capsys.readouterr().out == first
    assert first.startswith(f"Python {platform.python_version()}, TensorFlow ")


def test_this_environment_is_one_the_course_is_tested_with():
    """The repository's own environment (requirements.lock) lies inside every range."""
    found = environment.lines()
    assert found[0].endswith(": versions the course is tested with"), found


# --------------------------------------------------------------------------- the ranges


def _declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    return project["requires-python"], {
        Requirement(r).name: Requirement(r).specifier for r in lines
    }


def test_the_ranges_are_pyprojects():
    """The ranges `make compat` tests (tools/compat.py reads the same declarations)."""
    requires_python, declared = _declared()
    ranges = environment.tested_ranges()
    assert ranges == {
        "Python": SpecifierSet(requires_python),
        "TensorFlow": declared["tensorflow"],
        "Keras": declared["keras"],
    }
    assert environment.tested_ranges(ROOT / "pyproject.toml") == ranges


def test_the_ranges_come_from_the_installed_metadata_away_from_the_repository(
    monkeypatch, tmp_path
):
    """On Colab the helpers are a pip-installed wheel: no pyproject.toml next to them."""
    monkeypatch.setattr(environment, "_PYPROJECT", tmp_path / "pyproject.toml")
    monkeypatch.setattr(
        importlib.metadata,
        "metadata",
        lambda name: {"Requires-Python": ">=3.11"} if name == environment.PACKAGE else {},
    )
    monkeypatch.setattr(
        importlib.metadata,
        "requires",
        lambda name: [
            "keras<4,>=3.7.0",
            "numpy>=1.26.0",
            'tensorflow<2.21,>=2.16.1; extra == "tf"',
        ],
    )
    assert environment.tested_ranges() == TESTED


def test_no_ranges_without_pyproject_or_metadata(monkeypatch, tmp_path):
    monkeypatch.setattr(environment, "_PYPROJECT", tmp_path / "pyproject.toml")

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "metadata", not_installed)
    monkeypatch.setattr(importlib.metadata, "requires", not_installed)
    assert environment.tested_ranges() == {}


def test_another_projects_pyproject_is_not_read(tmp_path):
    other = tmp_path / "pyproject.toml"
    other.write_text('[project]\nname = "something-else"\nrequires-python = ">=3.8"\n')
    assert environment.tested_ranges(other) == {}


@pytest.mark.parametrize(
    "distribution", ["tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly"]
)
def test_any_tensorflow_build_is_found(distribution, monkeypatch):
    versions = {distribution: "2.19.0", "keras": "3.10.0"}

    def version(name):
        if name not in versions:
            raise importlib.metadata.PackageNotFoundError(name)
        return versions[name]

    monkeypatch.setattr(importlib.metadata, "version", version)
    found = environment.installed()
    assert found == {"Python": platform.python_version(), "TensorFlow": "2.19.0", "Keras": "3.10.0"}
