"""Notebook 10's budget runs: test-time shifts, the runs' rows and the shipped results."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
from keras import layers

from helpers import budget, models
from helpers.comparisons import paired


def _one_pixel_reader(row: int, col: int) -> keras.Model:
    """A linear model whose one output is the pixel at (row, col)."""
    model = keras.Sequential(
        [keras.Input(models.INPUT_SHAPE), layers.Flatten(), layers.Dense(1, use_bias=False)]
    )
    weights = np.zeros((28 * 28, 1), "float32")
    weights[row * 28 + col] = 1.0
    model.layers[-1].set_weights([weights])
    return model


def _dot(row: int, col: int) -> np.ndarray:
    image = np.zeros((1, 28, 28, 1), "float32")
    image[0, row, col, 0] = 1.0
    return image


def test_test_time_shifts_average_the_pixel_and_its_four_neighbours():
    # The model reads pixel (5, 5). Shifted right by one, an image holds at (5, 5) what
    # it held at (5, 4); so a dot at (5, 5) or at any of its four neighbours is seen in
    # exactly one of the five views: 1/5. A dot two pixels away, or diagonal, is never seen.
    reader = _one_pixel_reader(5, 5)
    cases = [
        (5, 5, 0.2),
        (5, 4, 0.2),
        (5, 6, 0.2),
        (4, 5, 0.2),
        (6, 5, 0.2),
        (5, 7, 0.0),
        (4, 4, 0.0),
    ]
    for row, col, expected in cases:
        assert float(budget.tta_predict(reader, _dot(row, col))[0, 0]) == pytest.approx(expected), (
            row,
            col,
        )
    # with mirror images, the dot at (5, 22) is mirrored onto (5, 5): seen in 1 of 10 views
    assert float(budget.tta_predict(reader, _dot(5, 22), flip=True)[0, 0]) == pytest.approx(0.1)
    assert float(budget.tta_predict(reader, _dot(5, 22))[0, 0]) == 0.0


def test_a_run_follows_the_budget_and_records_every_evaluation(tmp_path):
    # 600 images in batches of 256: 3 steps an epoch, one call into TensorFlow each; the
    # first call also traces the model, a few seconds of the budget
    row = budget.run("recipe", 0, 15.0, train_size=600, val_size=200, test=True, test_size=200)
    assert tuple(row) == budget.RUN_COLUMNS
    assert row["train_size"] == 600 and row["budget_s"] == 15.0
    assert row["epochs"] == pytest.approx(row["steps"] / 3, abs=0.01) and row["steps"] > 3
    # the clock ended the run, past the middle of the cosine (BudgetSchedule's own tests pin
    # the exact rates on a hand-worked clock; this one runs on the real, busy one)
    assert row["stopped_by_budget"] and row["stopped_at_s"] > 7.5
    assert row["last_rate_share"] < 0.5
    for column in budget.EVALUATIONS.values():
        assert 0.0 <= row[column] <= 1.0
    assert 0.0 <= row["test_accuracy"] <= 1.0


def test_label_smoothing_trains_on_one_hot_labels():
    model = budget._build(budget.RECIPE | budget.VARIANTS["label smoothing 0.1"])
    assert isinstance(model.loss, keras.losses.CategoricalCrossentropy)
    assert model.loss.get_config()["label_smoothing"] == 0.1
    assert model.optimizer.use_ema


def test_the_shipped_runs_have_their_columns_and_every_pair_of_seeds():
    runs, baseline = budget.load()
    search = runs[runs["budget_s"].isna()]
    seeds = {variant: set(group["seed"]) for variant, group in search.groupby("variant")}
    assert set(seeds) == set(budget.VARIANTS)
    assert len({frozenset(s) for s in seeds.values()}) == 1 and len(seeds["recipe"]) >= 3
    assert (search["epochs"] == budget.SEARCH_EPOCHS).all() and not search[
        "stopped_by_budget"
    ].any()
    goals = runs[runs["test_accuracy"].notna()]
    assert set(goals["variant"]) == {"recipe"}
    assert goals.groupby("budget_s").size().to_dict() == {300.0: 3, 600.0: 3}
    assert (runs["parameters"] <= models.CAPSTONE_MAX_PARAMETERS).all()
    assert goals["stopped_by_budget"].all()  # the clock ended every goal run, not the epochs
    assert list(baseline.columns) == ["seed", "epoch", "elapsed_s", "val_accuracy"]


def test_effects_are_paired_by_seed():
    runs = pd.DataFrame(
        [
            {
                "variant": v,
                "seed": s,
                "budget_s": np.nan,
                "val_accuracy": base + d,
                "val_accuracy_ema": base + d + 0.001,
                "val_accuracy_tta": base + d + 0.003,
                "val_accuracy_ema_tta": base + d + 0.004,
                "val_accuracy_ema_tta_flip": base + d,
            }
            for s, base in [(0, 0.90), (1, 0.93), (2, 0.91)]
            for v, d in [
                ("recipe", 0.0),
                ("label smoothing 0.1", 0.002),
            ]
        ]
    )
    goal = runs[runs["variant"] == "recipe"].assign(budget_s=600.0, val_accuracy=0.5)
    table = budget.effects(pd.concat([runs, goal]))  # the goal runs play no part
    # +0.2 points on every seed, though the seeds' spread is 3 points: clear by the paired rule
    assert table.loc["label smoothing 0.1", "verdict"] == "higher"
    assert table.loc["label smoothing 0.1", "mean difference"] == pytest.approx(0.002)
    assert table.loc["test-time shifts", "mean difference"] == pytest.approx(0.003)
    assert table.loc["mirror images too", "mean difference"] == pytest.approx(-0.004)
    assert table.loc["mirror images too", "verdict"] == "lower"
    expected = paired({0: 0.901, 1: 0.931, 2: 0.911}, {0: 0.90, 1: 0.93, 2: 0.91})
    assert table.loc["weight average (EMA)", "mean difference"] == pytest.approx(expected.mean)
