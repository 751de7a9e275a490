"""Shared fixtures: the repository layout and the course tool."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import course  # noqa: E402  (tools/course.py)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def course_tool():
    return course


@pytest.fixture(scope="session")
def fast_book() -> Path:
    """The book built from the fast-profile notebooks (executing only what is out of date)."""
    course.execute("fast")
    return course.build_book("fast")
