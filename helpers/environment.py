"""Which Python, TensorFlow and Keras run this notebook, and whether the course is tested
with them (every notebook's set-up cell calls :func:`report`).

The course is tested with the versions its helpers declare (``pyproject.toml``:
``requires-python``, ``keras`` and the ``tf`` extra's ``tensorflow``): the compatibility
run (``make compat``) executes every notebook with the oldest and the newest versions
these ranges allow. Outside them a notebook may still run, but its numbers, warnings and
error messages may differ from the book's, and :func:`report` says so in one line per
version::

    >>> from helpers import environment
    >>> environment.report()
    Python 3.11.7, TensorFlow 2.21.0, Keras 3.15.1: versions the course is tested with

The ranges come from the ``pyproject.toml`` next to the helpers when they run from the
course's repository (JupyterLab, the book), else from the installed package's own
metadata (Colab, where the set-up cell installs the helpers with pip).
"""

from __future__ import annotations

import importlib.metadata
import platform
from pathlib import Path

# packaging is installed with matplotlib, which the helpers require (pyproject.toml).
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = ["PACKAGE", "installed", "lines", "outside", "report", "shown", "tested_ranges"]

#: The distribution that installs the helpers.
PACKAGE = "fashion-cnn-course"
#: What the report names, and the requirement each name reads its range from.
REQUIREMENTS = {"TensorFlow": "tensorflow", "Keras": "keras"}
#: Distributions that install the ``tensorflow`` module, in the order they are looked for.
TENSORFLOW_DISTRIBUTIONS = (
    "tensorflow",
    "tensorflow-cpu",
    "tensorflow-macos",
    "tensorflow-intel",
    "tf-nightly",
)
CONSEQUENCE = "results and messages may differ from the book's"

_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _from_pyproject(path: Path) -> tuple[str | None, list[str]] | None:
    try:
        import tomllib
    except ImportError:  # Python before 3.11: read the installed metadata instead
        return None
    project = tomllib.loads(path.read_text()).get("project", {})
    if project.get("name") != PACKAGE:
        return None
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return project.get("requires-python"), requirements


def _from_metadata() -> tuple[str | None, list[str]] | None:
    try:
        meta = importlib.metadata.metadata(PACKAGE)
        requirements = importlib.metadata.requires(PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    return meta.get("Requires-Python"), list(requirements)


def tested_ranges(pyproject: Path | None = None) -> dict[str, SpecifierSet]:
    """The versions the course is tested with: ``{"Python": SpecifierSet(">=3.11"),
    "TensorFlow": ..., "Keras": ...}``, read from ``pyproject`` if given, else from the
    helpers' ``pyproject.toml`` in the course's repository, else from the installed
    package's metadata. Empty where none of them can be read."""
    if pyproject is not None:
        declared = _from_pyproject(pyproject)
    else:
        declared = (_from_pyproject(_PYPROJECT) if _PYPROJECT.is_file() else None) or (
            _from_metadata()
        )
    if declared is None:
        return {}
    requires_python, requirements = declared
    ranges = {}
    if requires_python:
        ranges["Python"] = SpecifierSet(requires_python)
    names = {Requirement(line).name.lower(): Requirement(line) for line in requirements}
    for label, name in REQUIREMENTS.items():
        if name in names:
            ranges[label] = names[name].specifier
    return ranges


def _distribution_version(*names: str) -> str | None:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def installed() -> dict[str, str | None]:
    """The running Python's version and the installed TensorFlow's and Keras' (None: not
    installed), read from their metadata without importing them."""
    return {
        "Python": platform.python_version(),
        "TensorFlow": _distribution_version(*TENSORFLOW_DISTRIBUTIONS),
        "Keras": _distribution_version("keras"),
    }


_ORDER = {">": 0, ">=": 0, "~=": 1, "==": 1, "===": 1, "!=": 2, "<": 3, "<=": 3}


def shown(tested: SpecifierSet) -> str:
    """A range as people write it, lower bound first: ">=2.16.1,<3"."""
    specs = sorted(tested, key=lambda s: (_ORDER.get(s.operator, 1), str(s)))
    return ",".join(str(s) for s in specs) or "any version"


def outside(label: str, version: str | None, tested: SpecifierSet) -> str | None:
    """One line saying how ``version`` of ``label`` (e.g. "TensorFlow") lies outside the
    range ``tested``, or None when it lies inside (or cannot be compared)."""
    if version is None:
        return f"{label} is not installed: the course is tested with {label} {shown(tested)}"
    try:
        parsed = Version(version)
    except InvalidVersion:
        return None
    if tested.contains(parsed, prereleases=True):
        return None
    failed = [spec for spec in tested if not spec.contains(parsed, prereleases=True)]
    if any(spec.operator in ("<", "<=") for spec in failed):
        where = "newer than the newest"
    elif any(spec.operator in (">", ">=") for spec in failed):
        where = "older than the oldest"
    else:
        where = "not one of the versions"
    return (
        f"{label} {version} is {where} the course is tested with ({shown(tested)}): " + CONSEQUENCE
    )


def lines(
    versions: dict[str, str | None] | None = None,
    ranges: dict[str, SpecifierSet] | None = None,
) -> list[str]:
    """What :func:`report` prints: the versions, then one line per version outside the
    tested range (the installed versions and the course's ranges unless given)."""
    versions = installed() if versions is None else versions
    ranges = tested_ranges() if ranges is None else ranges
    found = ", ".join(f"{label} {v}" for label, v in versions.items() if v is not None)
    problems = [
        line
        for label, version in versions.items()
        if label in ranges and (line := outside(label, version, ranges[label])) is not None
    ]
    if not ranges:
        return [f"{found} (the versions the course is tested with are not known here)"]
    if not problems:
        return [f"{found}: versions the course is tested with"]
    return [found, *problems]


def report(
    versions: dict[str, str | None] | None = None,
    ranges: dict[str, SpecifierSet] | None = None,
) -> None:
    """Print the running Python, TensorFlow and Keras versions and, for each one outside
    the range the course is tested with, one line saying which and what may differ."""
    print("\n".join(lines(versions, ranges)))
