"""Each notebook page of the book says what running it costs, from the timing records."""

from __future__ import annotations

import json

import nbformat

from conftest import course


def _record(build, profile, name, seconds, peak_mb):
    folder = build / "executed" / profile
    folder.mkdir(parents=True, exist_ok=True)
    entry = {"seconds": seconds, "peak_rss_mb": peak_mb, "machine": "Some CPU, 2 cores"}
    (folder / "timings.json").write_text(json.dumps({name: entry}))


def test_label_states_time_memory_and_machine(tmp_path, monkeypatch):
    monkeypatch.setattr(course, "BUILD", tmp_path)
    assert course.cost_label("01_x") is None
    _record(tmp_path, "full", "01_x", 143.4, 1619.8)
    _record(tmp_path, "fast", "01_x", 21.0, 900.0)
    label = course.cost_label("01_x")
    assert "measured on Some CPU, 2 cores" in label
    assert "with the full settings, 2 min 23 s and up to 1,620 MB" in label
    assert "with the fast settings, 21 s and up to 900 MB" in label
    assert "Binder" not in label


def test_label_says_how_to_run_a_notebook_that_needs_more_than_2_gb(tmp_path, monkeypatch):
    monkeypatch.setattr(course, "BUILD", tmp_path)
    _record(tmp_path, "full", "03_x", 52.0, 2341.0)
    label = course.cost_label("03_x")
    assert "up to 2,341 MB" in label and "Binder" in label and 'PROFILE = "fast"' in label


def test_label_is_right_on_both_sides_of_the_limit(tmp_path, monkeypatch):
    """2,057 MB is over the 2,048 MB limit and 2,040 MB under it: a label in tenths of a
    gigabyte would call both "2.0 GB"."""
    monkeypatch.setattr(course, "BUILD", tmp_path)
    _record(tmp_path, "full", "03_x", 52.0, 2057.0)
    over = course.cost_label("03_x")
    assert "up to 2,057 MB" in over and "more than the 2,048 MB at which Binder" in over
    _record(tmp_path, "full", "03_x", 52.0, 2040.0)
    under = course.cost_label("03_x")
    assert "up to 2,040 MB" in under and "Binder" not in under


def test_label_goes_under_the_title(tmp_path, monkeypatch):
    monkeypatch.setattr(course, "BUILD", tmp_path)
    _record(tmp_path, "full", "01_x", 10.0, 500.0)
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("[badge](x)"),
            nbformat.v4.new_markdown_cell("# 01 · Title\n\nIntro."),
        ]
    )
    labelled = course._with_cost_label(nb, "01_x")
    title, blank, label, *rest = labelled.cells[1].source.split("\n")
    assert title == "# 01 · Title" and blank == "" and label.startswith("> **What running")
    assert rest[-1] == "Intro." and labelled.cells[0].source == "[badge](x)"
