"""The course's stated facts about Fashion-MNIST, checked against a source other than the
helpers' own constants: the README published with the dataset's files (its table of
files and md5 checksums, and its table of labels), and the files themselves.

The README is looked for beside the files: in ``$FASHION_MNIST_DIR``, then in
``../shared/data/fashion-mnist`` beside the repository. Without it the tests are skipped,
saying why.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import ROOT
from helpers import data


def _readme() -> str:
    candidates = [
        Path(os.environ["FASHION_MNIST_DIR"]) if os.environ.get("FASHION_MNIST_DIR") else None,
        ROOT.parent / "shared" / "data" / "fashion-mnist",
    ]
    for folder in filter(None, candidates):
        if (folder / "README.md").is_file():
            return (folder / "README.md").read_text(encoding="utf-8")
    pytest.skip("the dataset's README.md is not beside the files ($FASHION_MNIST_DIR)")


def _table_rows(text: str, header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header row starts with ``| header |``."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"| {header} |")), None)
    assert start is not None, f"the README has no table with the column {header!r}"
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_class_names_and_their_order_match_the_published_labels():
    rows = _table_rows(_readme(), "label")
    published = {int(label): name for label, name in rows}
    assert sorted(published) == list(range(10))
    assert tuple(published[label] for label in range(10)) == data.CLASS_NAMES


def test_md5_checksums_match_the_published_table():
    rows = _table_rows(_readme(), "file")
    published = {name: md5 for name, _examples, _size, md5 in rows}
    assert all(re.fullmatch(r"[0-9a-f]{32}", md5) for md5 in published.values())
    assert published == data.FILES


def test_example_counts_match_the_published_table(fashion_mnist):
    rows = _table_rows(_readme(), "file")
    published = {name: int(examples.replace(",", "")) for name, examples, _size, _md5 in rows}
    (x_train, y_train), (x_test, y_test) = fashion_mnist
    assert published["train-images-idx3-ubyte.gz"] == len(x_train) == len(y_train)
    assert published["t10k-images-idx3-ubyte.gz"] == len(x_test) == len(y_test)
