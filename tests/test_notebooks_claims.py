"""A false claim planted in a real claims file fails the notebook's execution.

This runs after ``test_notebooks.py`` (pytest takes the files in name order), which
executes every notebook in the fast profile: the planted claim is then only re-checked
against the values the notebook recorded, and ``course.execute`` fails naming the
notebook and the claim, as ``make book`` does with the full profile.
"""

from __future__ import annotations

import ast
import os

import pytest

from conftest import course
from helpers import claims as recorder

pytestmark = pytest.mark.notebooks

checker = course.claims  # tools/claims/: the checks of the notebooks' text
NAMES = [entry.split("/")[-1] for entry in course.toc_notebooks()]
VERDICTS = ("higher", "lower", "no clear difference")


# --------------------------------------------------------------------------- a planted false claim


def _parents(tree):
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _under_full(node, parents) -> bool:
    """Whether ``node`` sits in the body of an `if c.full:`."""
    while node in parents:
        parent = parents[node]
        if (
            isinstance(parent, ast.If)
            and isinstance(parent.test, ast.Attribute)
            and parent.test.attr == "full"
            and node in parent.body
        ):
            return True
        node = parent
    return False


def _flippable_verdict(source: str):
    """The first expected verdict ("higher", "lower", "no clear difference") that the
    claims file states outside `if c.full:` (claims over a shipped sweep, checked in
    every profile), and the texts next to it (its claim's words)."""
    tree = ast.parse(source)
    if "c.sweep(" not in source:
        return None
    parents = _parents(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and node.value in VERDICTS
            and not _under_full(node, parents)
        ):
            around = parents.get(node)
            while around is not None and not isinstance(around, (ast.Tuple, ast.List, ast.Call)):
                around = parents.get(around)
            texts = [
                n.value
                for n in ast.walk(around or node)
                if isinstance(n, ast.Constant)
                and isinstance(n.value, str)
                and n.value not in VERDICTS
                and len(n.value.split()) >= 3  # words of the claim, not a variant's name
            ]
            return node, texts
    return None


def _flip(source: str, node) -> str:
    lines = source.splitlines(keepends=True)
    line = lines[node.lineno - 1]
    flipped = {"higher": "lower", "lower": "higher", "no clear difference": "higher"}[node.value]
    lines[node.lineno - 1] = (
        line[: node.col_offset] + repr(flipped).replace("'", '"') + line[node.end_col_offset :]
    )
    return "".join(lines)


def _planted_candidates():
    preferred = "08_augmentation"
    order = [preferred] + [n for n in NAMES if n != preferred]
    return [n for n in order if checker.claims_file(n).is_file()]


def test_a_planted_false_claim_fails_the_notebook(tmp_path, monkeypatch, fast_notebooks):
    """One expected verdict of a real claims file flipped (08_augmentation's first):
    course.execute fails, naming the notebook and the claim, when it re-checks the
    executed notebook (the fast pass executed it first)."""
    name = next(
        (
            n
            for n in _planted_candidates()
            if _flippable_verdict(checker.claims_file(n).read_text())
        ),
        None,
    )
    assert name is not None, "no claims file states a verdict of a shipped sweep in every profile"
    real = checker.claims_file(name)
    found = _flippable_verdict(real.read_text())
    fast_notebooks.executed(name)  # its real claims must hold first
    node, texts = found
    planted = tmp_path / real.name
    planted.write_text(_flip(real.read_text(), node))
    values = recorder.load(course.record_path("fast", name))
    before, _ = checker.check(name, "fast", values)
    monkeypatch.setattr(checker, "claims_file", lambda notebook: planted)
    after, _ = checker.check(name, "fast", values)
    new = [line for line in after if line not in before]
    assert new, f"flipping {node.value!r} on line {node.lineno} of {real.name} failed nothing"
    assert all(line.startswith(f"{name}: the text says that ") for line in new), new
    assert any(text in line for text in texts for line in new), (texts, new)

    with pytest.raises(course.NotebookFailed) as err:
        course.execute("fast", [name])
    message = str(err.value)
    assert name in message
    for line in new:
        assert line in message, f"the failure does not name the planted claim:\n{message}"
    assert os.environ.get(recorder.RECORD_ENV) is None, "the record file is only set while running"
