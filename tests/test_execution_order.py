"""course.run_after and course.execution_order: which notebooks wait for which, and the
order in which notebooks executed side by side are started."""

from __future__ import annotations

from pathlib import Path

from tools import course

NAMES = [Path(entry).name for entry in course.toc_notebooks()]
BASELINE_SAVER = "03_training"
BASELINE_LOADERS = ["04_kernels_and_feature_maps", "09_saliency_and_calibration", "10_capstone"]


def test_the_notebooks_that_load_the_baseline_run_after_the_one_that_saves_it():
    after = course.run_after(NAMES)
    assert list(after) == NAMES, "book order"
    assert {n for n, needs in after.items() if needs} == set(BASELINE_LOADERS)
    assert all(after[n] == [BASELINE_SAVER] for n in BASELINE_LOADERS)


def test_a_notebook_run_alone_waits_for_nothing():
    assert course.run_after(["04_kernels_and_feature_maps"]) == {"04_kernels_and_feature_maps": []}


def test_waiting_notebooks_start_last_and_the_rest_in_book_order():
    order = course.execution_order(course.run_after(NAMES))
    assert sorted(order) == sorted(NAMES)
    assert order[-len(BASELINE_LOADERS) :] == BASELINE_LOADERS
    assert order[: -len(BASELINE_LOADERS)] == [n for n in NAMES if n not in BASELINE_LOADERS]
    # a hand-made map: b and d wait, the others keep their order
    assert course.execution_order({"a": [], "b": ["a"], "c": [], "d": ["c"]}) == [
        "a",
        "c",
        "b",
        "d",
    ]
