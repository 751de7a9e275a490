"""The benchmark's report: the page the book includes is written from the results."""

from __future__ import annotations

import importlib

import pytest

from helpers import models, saving

bench = importlib.import_module("benchmarks.__main__")


@pytest.fixture(scope="module")
def baseline_parameters() -> int:
    return models.baseline_cnn().count_params()


@pytest.fixture
def results(baseline_parameters):
    run = {"images_per_s": 3000.0, "gflops": 24.3, "test_accuracy": 0.9041}
    return {
        "date": "2026-11-28",
        "machine": {
            "cpu": "Test CPU",
            "cores": 2,
            "system": "Linux",
            "python": "3.11",
            "versions": {"tensorflow": "2.21.0", "keras": "3.15.1"},
        },
        "throughput": {
            "plain": {**run, "runs": [run] * 3},
            "helpers": {**run, "images_per_s": 4500.0, "runs": [run] * 3},
            "ratio": 1.5,
        },
        "tuning": [{"label": "batch 64", "images_per_s": 5000.0, "test_accuracy": 0.9}],
        "course": {
            "fast": {
                "notebooks": {
                    "01_data_preparation": {"seconds": 12.0, "peak_rss_mb": 800.0, "ok": True}
                },
                "total_s": 12.0,
            }
        },
        "accuracy": [
            {
                "notebook": "03_training",
                "model": saving.BASELINE_FILE,
                "parameters": baseline_parameters,
                "test_accuracy": 0.9041,
            }
        ],
    }


def test_report_names_machine_and_numbers(results, baseline_parameters):
    page = bench.markdown(results)
    assert "Test CPU, 2 cores" in page and "TensorFlow 2.21.0" in page
    assert "| 3,000 |" in page and "| 4,500 |" in page and "**1.50×**" in page
    assert "| 01_data_preparation | 12 | 800 |" in page
    assert f"| {baseline_parameters:,} |" in page and "2 Conv+pooling+BN" in page


def test_goals_say_met_or_missed(results):
    page = bench.markdown(results)
    assert "| 1.50× | met |" in page
    assert "| +0.00 points | met |" in page
    assert "| 0.2 min | met |" in page and "| 800 MB | met |" in page
    results["throughput"]["ratio"] = 1.1
    results["course"]["fast"]["total_s"] = 300.0
    page = bench.markdown(results)
    assert "| 1.10× | **missed** |" in page and "| 5.0 min | **missed** |" in page


def test_goal_missed_when_a_notebook_failed(results):
    results["course"]["fast"]["notebooks"]["01_data_preparation"]["ok"] = False
    assert "| 0.2 min | **missed** |" in bench.markdown(results)


def test_failed_notebook_is_marked(results):
    results["course"]["fast"]["notebooks"]["01_data_preparation"]["ok"] = False
    assert "01_data_preparation (failed)" in bench.markdown(results)


def test_throughput_worker_refuses_a_single_epoch():
    worker = importlib.import_module("benchmarks.throughput")
    with pytest.raises(SystemExit):
        worker.main(["--variant", "plain", "--epochs", "1"])
