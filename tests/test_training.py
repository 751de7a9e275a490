"""helpers.training: the course's splits and the saved, reusable baseline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import models, training


@pytest.fixture(scope="module")
def splits(fashion_mnist):
    """The course's splits with a small, class-balanced training set of real images."""
    return training.course_splits(train_size=200, seed=0)


@pytest.fixture(scope="module")
def tiny(splits):
    """200 training and 300 validation images: enough to train in about a second."""
    return splits.x_train, splits.y_train, (splits.x_val[:300], splits.y_val[:300])


def test_course_splits_sizes_and_format(splits):
    assert splits.sizes() == {"training": 200, "validation": 6000, "test": 10000}
    for x in (splits.x_train, splits.x_val, splits.x_test):
        assert x.dtype == np.float32 and x.shape[1:] == (28, 28, 1)
        assert 0.0 <= x.min() and x.max() <= 1.0
    assert np.bincount(splits.y_train, minlength=10).tolist() == [20] * 10
    assert np.bincount(splits.y_val, minlength=10).tolist() == [600] * 10
    x_val, y_val = splits.validation
    assert x_val is splits.x_val and y_val is splits.y_val


def test_course_splits_without_a_size_keeps_all_54000(splits):
    full = training.course_splits(seed=0)
    assert full.sizes() == {"training": 54000, "validation": 6000, "test": 10000}
    np.testing.assert_array_equal(full.y_val, splits.y_val)


@pytest.mark.parametrize("size", [0, 54_001, 60_000, 2.5, True])
def test_course_splits_rejects_impossible_sizes(splits, size):
    with pytest.raises(
        ValueError, match=r"train_size is .*expected a whole number from 1 to 54,000"
    ):
        training.course_splits(train_size=size, seed=0)


def test_data_fingerprint_tells_training_sets_apart(splits):
    x, y = splits.x_train, splits.y_train
    assert training.data_fingerprint(x, y) == training.data_fingerprint(x.copy(), y.copy())
    assert len(training.data_fingerprint(x, y)) == 16
    other = training.course_splits(train_size=200, seed=1)
    assert training.data_fingerprint(x, y) != training.data_fingerprint(
        other.x_train, other.y_train
    )
    relabelled = y.copy()
    relabelled[0] = (relabelled[0] + 1) % 10
    assert training.data_fingerprint(x, y) != training.data_fingerprint(x, relabelled)


def test_data_fingerprint_checks_its_input(splits):
    with pytest.raises(ValueError, match="to_model_input"):
        training.data_fingerprint(splits.x_train[..., 0], splits.y_train)
    with pytest.raises(ValueError, match="one label per image"):
        training.data_fingerprint(splits.x_train, splits.y_train[:5])


def test_baseline_metadata_records_what_determines_the_weights(tiny):
    x, y, _ = tiny
    meta = training.baseline_metadata(x, y, epochs=5, batch_size=32, seed=0, profile="full")
    assert meta["model"] == "baseline_cnn"
    assert meta["train_size"] == 200
    assert (meta["epochs"], meta["batch_size"], meta["seed"], meta["profile"]) == (5, 32, 0, "full")
    assert meta["data"] == training.data_fingerprint(x, y)
    json.dumps(meta)  # it is saved as JSON


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": 0}, "epochs is 0"),
        ({"batch_size": -1}, "batch_size is -1"),
        ({"seed": 1.5}, "seed is 1.5"),
        ({"profile": "medium"}, "profile is 'medium'"),
    ],
)
def test_baseline_metadata_rejects_bad_settings(tiny, change, message):
    x, y, _ = tiny
    settings = {"epochs": 1, "batch_size": 32, "seed": 0, "profile": "fast", **change}
    with pytest.raises(ValueError, match=message):
        training.baseline_metadata(x, y, **settings)


def test_baseline_path_follows_the_models_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_MODELS_DIR", str(tmp_path))
    assert training.baseline_path() == tmp_path / "baseline.keras"


def test_baseline_model_trains_saves_then_loads(tiny, tmp_path):
    x, y, validation = tiny
    path = tmp_path / "baseline.keras"
    settings = {"epochs": 1, "batch_size": 64, "seed": 0, "profile": "fast", "path": path}

    model, result = training.baseline_model(x, y, validation, **settings)
    assert result is not None and len(result.history["val_accuracy"]) == 1
    assert path.is_file() and path.with_suffix(".json").is_file()
    saved = json.loads(path.with_suffix(".json").read_text())
    assert saved == training.baseline_metadata(x, y, 1, 64, 0, "fast")

    loaded, again = training.baseline_model(x, y, validation, **settings)
    assert again is None, "a fresh file is loaded, not retrained"
    np.testing.assert_array_equal(
        training.predict(loaded, validation[0]), training.predict(model, validation[0])
    )


def test_baseline_model_is_what_notebook_03_trains(tiny, tmp_path):
    """Seed, build the baseline, train: the helper gives exactly those weights."""
    x, y, validation = tiny
    training.set_seed(3)
    by_hand = models.baseline_cnn()
    training.train(by_hand, x, y, validation, epochs=1, batch_size=64, seed=3, verbose=0)
    helper, _ = training.baseline_model(
        x,
        y,
        validation,
        epochs=1,
        batch_size=64,
        seed=3,
        profile="fast",
        path=tmp_path / "baseline.keras",
    )
    for a, b in zip(by_hand.get_weights(), helper.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_baseline_model_retrains_a_stale_file(tiny, tmp_path):
    x, y, validation = tiny
    path = tmp_path / "baseline.keras"
    training.baseline_model(x, y, validation, epochs=1, batch_size=64, seed=0, path=path)
    _, result = training.baseline_model(
        x[:100], y[:100], validation, epochs=1, batch_size=64, seed=0, path=path
    )
    assert result is not None, "other training images make the saved model stale"
    assert json.loads(path.with_suffix(".json").read_text())["train_size"] == 100


def test_baseline_model_rejects_bad_settings_before_training(tiny, tmp_path):
    x, y, validation = tiny
    with pytest.raises(ValueError, match="epochs is 0"):
        training.baseline_model(x, y, validation, epochs=0, path=tmp_path / "b.keras")
    with pytest.raises(ValueError, match="ending in .keras"):
        training.baseline_model(x, y, validation, epochs=1, path=tmp_path / "b.h5")
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------ TimeBudget (notebook 08)


def fake_clock(epoch_seconds):
    """A clock that advances by the given durations, one per epoch after the start."""
    times = iter(np.cumsum([0.0, *epoch_seconds]))
    return lambda: float(next(times))


def test_time_budget_stops_before_the_epoch_that_would_overrun(tiny):
    x, y = tiny[0][:256], tiny[1][:256]
    budget = training.TimeBudget(100, clock=fake_clock([40, 40, 40, 40, 40]))
    model = models.baseline_cnn()
    result = training.train(model, x, y, epochs=5, batch_size=128, verbose=0, callbacks=[budget])
    # after 2 epochs: 80 s spent, a third epoch of 40 s would end at 120 s > 100 s
    assert budget.stopped_after == 2
    assert len(result.epoch_seconds) == len(result.history["loss"]) == 2


def test_time_budget_plans_with_the_slowest_epoch():
    budget = training.TimeBudget(100, clock=fake_clock([10, 45, 20]))
    budget.set_model(type("FakeModel", (), {"stop_training": False})())
    budget.set_params({"epochs": 5})
    budget.on_train_begin()
    budget.on_epoch_end(0)  # 10 s spent, next assumed 10 s
    assert budget.stopped_after is None
    budget.on_epoch_end(1)  # 55 s spent, next assumed 45 s: ends at exactly 100 s
    assert budget.stopped_after is None
    budget.on_epoch_end(2)  # 75 s spent, next assumed 45 s: 120 s > 100 s
    assert budget.stopped_after == 3 and budget.model.stop_training


def test_time_budget_does_not_report_a_stop_after_the_last_epoch():
    budget = training.TimeBudget(10, clock=fake_clock([50, 50]))
    budget.set_model(type("FakeModel", (), {"stop_training": False})())
    budget.set_params({"epochs": 2})
    budget.on_train_begin()
    budget.on_epoch_end(0)
    assert budget.stopped_after == 1
    budget.on_train_begin()  # a second fit starts afresh
    assert budget.stopped_after is None


def test_time_budget_leaves_training_alone_within_budget(tiny):
    x, y = tiny[0][:256], tiny[1][:256]
    budget = training.TimeBudget(3600)
    result = training.train(
        models.baseline_cnn(), x, y, epochs=2, batch_size=128, verbose=0, callbacks=[budget]
    )
    assert budget.stopped_after is None and len(result.epoch_seconds) == 2


@pytest.mark.parametrize("seconds", [0, -5, float("nan"), "600", True, None])
def test_time_budget_rejects_bad_budgets(seconds):
    with pytest.raises(ValueError, match="seconds is"):
        training.TimeBudget(seconds)


def test_predict_pads_the_last_batch_but_returns_one_row_per_image(tiny):
    x = tiny[0][:5]
    model = models.baseline_cnn()
    probabilities = training.predict(model, x, batch_size=2)  # batches of 2, 2 and 1 + 1 pad
    assert probabilities.shape == (5, 10)
    np.testing.assert_allclose(probabilities, np.asarray(model(x, training=False)), atol=1e-6)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_predict_rejects_bad_batch_sizes(tiny, batch_size):
    with pytest.raises(ValueError, match="batch_size is"):
        training.predict(models.baseline_cnn(), tiny[0][:2], batch_size=batch_size)
