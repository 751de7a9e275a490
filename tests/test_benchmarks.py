"""The benchmark's report: the page the book includes is written from the results."""

from __future__ import annotations

import importlib
import json

import pytest

from benchmarks import commentary
from helpers import models, precision, saving

bench = importlib.import_module("benchmarks.__main__")


@pytest.fixture(scope="module")
def baseline_parameters() -> int:
    return models.baseline_cnn().count_params()


def _row(policy, batch, images_per_s, accuracies, plain=3000.0, peak=400.0):
    gflops = images_per_s * 8.1e6 / 1e9
    return {
        "label": "the notebooks",
        "backend": "tensorflow",
        "policy": policy,
        "batch_size": batch,
        "learning_rate": 1e-3,
        "images_per_s": images_per_s,
        "gflops": gflops,
        "accuracies": accuracies,
        "accuracy_mean": sum(accuracies) / len(accuracies),
        "accuracy_sd": 0.001,
        "ratio": images_per_s / plain,
        "peak_share": gflops / peak,
        "runs": [],
    }


@pytest.fixture
def results(baseline_parameters):
    return {
        "date": "2026-11-28",
        "machine": {
            "cpu": "Test CPU",
            "cores": 2,
            "system": "Linux",
            "python": "3.11",
            "versions": {"tensorflow": "2.21.0", "keras": "3.15.1"},
            "features": {"flags": ["avx512_bf16", "avx512f"], "native_bfloat16": True},
        },
        "throughput": {
            "rows": {
                "plain": _row("float32", 32, 3000.0, [0.89, 0.89, 0.89]),
                "course-float32-32": _row("float32", 32, 4500.0, [0.90, 0.90, 0.90]),
                "course-mixed_bfloat16-128": _row(
                    "mixed_bfloat16", 128, 7500.0, [0.899, 0.899, 0.899]
                ),
            },
            "skipped": {},
            "peak": {"float32_gflops": 400.0, "bfloat16_gflops": 800.0},
            "chosen": "course-mixed_bfloat16-128",
            "epochs": 5,
            "seeds": 3,
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
            },
            {
                "notebook": "10_capstone",
                "model": "capstone.keras",
                "parameters": 871_978,
                "test_accuracy": 0.9356,
            },
        ],
    }


def test_report_names_machine_and_numbers(results, baseline_parameters):
    page = bench.markdown(results)
    assert "Test CPU, 2 cores" in page and "TensorFlow 2.21.0" in page
    assert "avx512_bf16, avx512f; native bfloat16: **yes**" in page
    assert "**400 GFLOP/s** in float32 and 800 GFLOP/s in bfloat16" in page
    assert "| 3,000 | 1.00× | 24 | 6% | 0.8900 ± 0.0010 |" in page
    assert "(the course's faster path here)** | mixed_bfloat16 | 128 |" in page
    assert "| 7,500 | 2.50× | 61 | 15% | 0.8990 ± 0.0010 |" in page
    assert "| 01_data_preparation | 12 | 800 |" in page
    assert f"| {baseline_parameters:,} |" in page and "2 Conv+pooling+BN" in page


def test_goals_say_met_or_missed(results):
    page = bench.markdown(results)
    assert "(processor with native bfloat16) | 2.50× | met |" in page
    assert "(mean of 3 seeds) | -0.10 points | met |" in page
    assert "| 93.56% | **missed** |" in page
    assert "| 0.2 min | met |" in page and "| 800 MB | met |" in page
    rows = results["throughput"]["rows"]
    rows["course-mixed_bfloat16-128"] |= {"ratio": 1.9, "accuracy_mean": 0.896}
    results["course"]["fast"]["total_s"] = 300.0
    page = bench.markdown(results)
    assert "| 1.90× | **missed** |" in page and "| -0.40 points | **missed** |" in page
    assert "| 5.0 min | **missed** |" in page


def test_ratio_goal_is_lower_without_native_bfloat16(results):
    results["machine"]["features"]["native_bfloat16"] = False
    rows = results["throughput"]["rows"]
    rows["course-mixed_bfloat16-128"]["ratio"] = 1.6
    assert "(processor without native bfloat16) | 1.60× | met |" in bench.markdown(results)


def test_chosen_path_follows_the_processor():
    big = precision.FAST_BATCH_SIZE
    assert bench.chosen_key({"flags": ["avx512f", "avx512_bf16"]}) == f"course-mixed_bfloat16-{big}"
    assert bench.chosen_key({"flags": ["avx2", "fma"]}) == f"course-float32-{big}"
    keys = [key for key, *_ in bench.paths()]
    assert {"plain", bench.REFERENCE_KEY, "jax", *map(bench.chosen_key, [{"flags": []}])} <= set(
        keys
    )


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


def test_kernel_log_counts_whole_and_partial_runs_by_notebook(tmp_path):
    """benchmarks.executions on a hand-written log: a kernel is named after the notebook
    whose cells it ran; 80% of them or more is a whole run; a process id that comes again
    (each graded submission has a PID namespace of its own) starts a new kernel."""
    import hashlib
    import json

    import nbformat

    from benchmarks import executions

    nb = nbformat.read(executions.ROOT / "notebooks" / "02_cnn_components.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]

    def sha(source):
        return hashlib.sha1(source.strip().encode()).hexdigest()[:12]

    lines = [{"event": "start", "pid": 3, "parent": "papermill"}]
    lines += [{"event": "cell", "pid": 3, "sha": sha(s)} for s in code]  # all of 02
    lines += [{"event": "start", "pid": 3, "parent": "otter run submission/02_cnn.ipynb"}]
    lines += [{"event": "cell", "pid": 3, "sha": sha(s)} for s in code[:3]]  # stopped early
    lines += [{"event": "start", "pid": 9, "parent": "course.py book"}]
    lines += [{"event": "cell", "pid": 9, "sha": sha("total = sum(range(4))")}]
    lines += [{"event": "start", "pid": 3, "parent": "otter run submission/06_dropout.ipynb"}]
    log = tmp_path / "kernels.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert executions.report(log) == {
        "kernels": 4,
        "whole": {"02_cnn_components": 1},
        "partial": {"02_cnn_components": 1},
        "no_course_cells": {"(no course notebook)": 1, "06_dropout": 1},
    }


def _runs(speeds, accuracies):
    return [
        {"seed": seed, "images_per_s": speed, "test_accuracy": accuracy}
        for seed, (speed, accuracy) in enumerate(zip(speeds, accuracies, strict=True))
    ]


@pytest.fixture
def measured(results):
    """The results with every run of the side-by-side table, seed by seed."""
    rows = results["throughput"]["rows"]
    rows["plain"]["runs"] = _runs([2900, 3000, 3300], [0.89, 0.89, 0.89])
    rows["course-float32-32"]["runs"] = _runs([4500, 4400, 4600], [0.900, 0.901, 0.899])
    rows["course-mixed_bfloat16-128"]["runs"] = _runs([7500, 7400, 7700], [0.905, 0.907, 0.903])
    results["tuning"] = [
        {"label": "batch 32 (the notebooks)", "images_per_s": 4000.0, "test_accuracy": 0.8926},
        {"label": "batch 128", "images_per_s": 5000.0, "test_accuracy": 0.8765},
        {"label": "batch 32, no prefetch", "images_per_s": 2400.0, "test_accuracy": 0.8926},
        {"label": "batch 32, 1 thread", "images_per_s": 4200.0, "test_accuracy": 0.8961},
        {"label": "batch 128, XLA (jit_compile)", "images_per_s": 2250.0, "test_accuracy": 0.8745},
    ]
    return results


def test_commentary_computes_its_numbers(measured):
    text = commentary.commentary(measured)
    # 7,500 / 3,000 images/s; the plain recipe's runs 2,900 to 3,300: spread 3300/2900 - 1
    assert "ran at **2.50×** the plain recipe's throughput (7,500 against 3,000" in text
    assert (
        "ran at 2,900 to 3,300 images per second, and the largest spread of one path's runs was 14%"
        in text
    )
    # seed by seed the faster path is 0.5, 0.6 and 0.4 points above: clearly higher
    assert "the faster path is clearly higher than the float32 path" in text
    # the pipeline is 1.0, 1.1 and 0.9 points above the plain recipe, seed by seed
    assert "the pipeline is clearly higher than the plain recipe" in text
    assert "- *Both together*: 2.50×, 61 GFLOP/s, 15% of" in text


def test_commentary_judges_one_run_against_the_spread(measured):
    text = commentary.commentary(measured)
    assert "- batch 32, no prefetch: 0.60× its reference's speed, slower;" in text
    assert (
        "- batch 32, 1 thread: 1.05× its reference's speed, within the run-to-run spread;" in text
    )
    # XLA is compared with batch 128 without it: 2,250 / 5,000
    assert (
        "- batch 128, XLA (jit_compile): 0.45× its reference's speed, slower against batch 128 without it;"
        in text
    )


def test_commentary_never_calls_a_difference_of_less_than_the_smallest_clear(measured):
    rows = measured["throughput"]["rows"]
    # one validation image's worth every seed: consistent, but below the smallest difference
    rows["course-mixed_bfloat16-128"]["runs"] = _runs([7500] * 3, [0.9001, 0.9011, 0.8991])
    assert "the faster path and the float32 path cannot be told apart" in commentary.commentary(
        measured
    )


def test_the_speed_page_is_written_from_its_shipped_results():
    """book/speed_results.md and book/speed_commentary.md are what make bench writes from
    book/speed_results.json: no number on the page is typed by hand."""
    shipped = json.loads(bench.RESULTS.read_text())
    assert bench.PAGE.read_text() == bench.markdown(shipped)
    assert bench.COMMENTARY.read_text() == commentary.commentary(shipped)
