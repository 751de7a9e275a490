"""helpers.training: seeded, timed training, prediction and evaluation.

The course's splits are tested with helpers.data (tests/test_data.py), the saved
baseline with helpers.saving (tests/test_saving.py).
"""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from helpers import data, models, training


@pytest.fixture(scope="module")
def tiny(small_splits):
    """200 training and 300 validation images: enough to train in about a second."""
    x_val, y_val = small_splits.validation
    return (*small_splits.train, (x_val[:300], y_val[:300]))


# ------------------------------------------------------------ set_seed and train (notebooks 02-03)


def test_set_seed_makes_weights_repeatable():
    training.set_seed(7)
    first = models.baseline_cnn().get_weights()
    training.set_seed(np.int64(7))
    again = models.baseline_cnn().get_weights()
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0", None])
def test_set_seed_rejects_bad_seeds(seed):
    text = f"seed is {seed!r}; expected a whole number >= 0, e.g. 0"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        training.set_seed(seed)


@pytest.fixture(scope="module")
def two_epochs(tiny):
    """A baseline trained for two epochs, with validation and an hour's TimeBudget: the
    model, the result and the budget, for two tests that only read them (one training)."""
    x, y, validation = tiny
    budget = training.TimeBudget(3600)
    model = models.baseline_cnn()
    result = training.train(
        model, x, y, validation, epochs=2, batch_size=64, verbose=0, callbacks=[budget]
    )
    return model, result, budget


def test_train_records_every_epoch(tiny, two_epochs):
    _, _, validation = tiny
    model, result, _ = two_epochs
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 2 for values in result.history.values())
    assert len(result.epoch_seconds) == 2 and result.seconds == pytest.approx(
        sum(result.epoch_seconds)
    )
    assert result.final("val_accuracy") == result.history["val_accuracy"][-1]
    with pytest.raises(KeyError, match="metric 'acc' was not recorded"):
        result.final("acc")
    evaluation = training.evaluate(model, *validation)
    assert set(evaluation) == {"loss", "accuracy"}
    assert evaluation["accuracy"] == pytest.approx(result.final("val_accuracy"), abs=1e-6)
    assert evaluation["loss"] == pytest.approx(result.final("val_loss"), rel=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"epochs": 0}, "epochs is 0; expected a whole number >= 1, e.g. 5"),
        ({"epochs": 2.0}, "epochs is 2.0; expected a whole number >= 1, e.g. 5"),
        ({"verbose": 3}, "verbose is 3; expected one of (0, 1, 2)"),
        ({"verbose": True}, "verbose is True; expected one of (0, 1, 2)"),
        ({"batch_size": 0}, "batch_size is 0; expected a whole number >= 1, e.g. 128"),
    ],
)
def test_train_rejects_bad_settings(tiny, kwargs, text):
    x, y, _ = tiny
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        training.train(models.baseline_cnn(), x[:8], y[:8], **{"verbose": 0, **kwargs})


def test_train_rejects_an_uncompiled_model_and_unscaled_images(tiny):
    import keras

    x, y, _ = tiny
    inputs = keras.Input(models.INPUT_SHAPE)
    raw = keras.Model(
        inputs, keras.layers.Dense(models.NUM_CLASSES)(keras.layers.Flatten()(inputs))
    )
    with pytest.raises(ValueError, match="model is not compiled"):
        training.train(raw, x[:8], y[:8], verbose=0)
    with pytest.raises(ValueError, match="^x_train has values from .*still in 0-255"):
        training.train(models.baseline_cnn(), x[:8] * 255, y[:8], verbose=0)
    with pytest.raises(ValueError, match=r"^validation y has shape \(3,\); expected \(4,\)"):
        training.train(models.baseline_cnn(), x[:8], y[:8], validation=(x[:4], y[:3]), verbose=0)


def test_per_class_accuracy_is_keyed_by_class_name():
    classes = len(data.CLASS_NAMES)
    y_true = np.repeat(np.arange(classes), 2)
    y_pred = y_true.copy()
    y_pred[::4] = (y_pred[::4] + 1) % classes  # one of the two images of every other class
    accuracy = training.per_class_accuracy(y_true, y_pred)
    assert list(accuracy) == list(data.CLASS_NAMES)
    assert [accuracy[name] for name in data.CLASS_NAMES] == [0.5, 1.0] * (classes // 2)
    missing = training.per_class_accuracy(np.array([0, 0]), np.array([0, 1]))
    assert missing[data.CLASS_NAMES[0]] == 0.5 and np.isnan(missing[data.CLASS_NAMES[1]])


# ------------------------------------------------------------ TimeBudget (notebook 10)


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


def test_time_budget_leaves_training_alone_within_budget(two_epochs):
    _, result, budget = two_epochs
    assert budget.stopped_after is None and len(result.epoch_seconds) == 2
    assert len(result.history["loss"]) == 2


@pytest.mark.parametrize("seconds", [0, -5, float("nan"), float("inf"), "600", True, None])
def test_time_budget_rejects_bad_budgets(seconds):
    text = f"seconds is {seconds!r}; expected a number > 0, e.g. 600"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        training.TimeBudget(seconds)


# ------------------------------------------------------------ BudgetSchedule (notebook 10)


def test_budget_schedule_rate_by_hand():
    schedule = training.BudgetSchedule(600, peak=0.008, warmup=0.1, end=0.0)
    assert schedule.rate(0) == 0.0
    assert schedule.rate(0.05) == pytest.approx(0.004)  # half way up the warm-up
    assert schedule.rate(0.1) == pytest.approx(0.008)  # the peak, where the warm-up ends
    assert schedule.rate(0.55) == pytest.approx(0.004)  # half way down the cosine
    assert schedule.rate(1.0) == pytest.approx(0.0, abs=1e-12)  # the end, when the budget runs out
    assert schedule.rate(1.7) == schedule.rate(1.0)  # past the budget the rate stays at the end
    decay = [schedule.rate(u) for u in np.linspace(0.1, 1, 50)]
    assert all(a >= b for a, b in zip(decay, decay[1:], strict=False))


def test_budget_schedule_ends_its_decay_when_the_budget_runs_out(tiny):
    """Each Keras call (one step here) reads the clock at its start and its end, 1 s apart:
    the budget of 10 s runs out at the end of the fifth call, wherever the epoch is."""
    x, y = tiny[0][:64], tiny[1][:64]
    ticks = iter(range(1000))
    schedule = training.BudgetSchedule(10, peak=0.01, warmup=0.2, clock=lambda: float(next(ticks)))
    model = models.baseline_cnn(compile=False)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        steps_per_execution=1,
    )
    model.fit(x, y, batch_size=16, epochs=50, verbose=0, callbacks=[schedule])
    # calls start at 1, 3, 5, 7, 9 s (the start was 0 s): shares 0.1 ... 0.9 of the budget
    assert [t for t, _ in schedule.history] == [1.0, 3.0, 5.0, 7.0, 9.0]
    assert schedule.stopped_at == 10.0
    assert int(model.optimizer.iterations) == 5  # the second epoch stopped after its first step
    assert schedule.history[0][1] == pytest.approx(0.005)  # half the warm-up
    assert schedule.last_rate == pytest.approx(schedule.rate(0.9))
    assert schedule.rate(0.9) < 0.01 * 0.05  # near the end of the cosine
    assert float(model.optimizer.learning_rate) == pytest.approx(schedule.last_rate)


def test_budget_schedule_lets_the_epochs_end_first(tiny):
    x, y = tiny[0][:32], tiny[1][:32]
    ticks = iter(range(1000))
    schedule = training.BudgetSchedule(100, peak=0.01, clock=lambda: float(next(ticks)))
    model = models.baseline_cnn(compile=False)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[schedule])
    assert schedule.stopped_at is None and len(schedule.history) == 4  # 2 epochs of 2 steps


def test_budget_schedule_needs_a_rate_it_can_set(tiny):
    model = models.baseline_cnn(compile=False)
    decay = keras.optimizers.schedules.CosineDecay(0.01, decay_steps=10)
    model.compile(optimizer=keras.optimizers.Adam(decay), loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="learning rate is a schedule"):
        model.fit(
            tiny[0][:16],
            tiny[1][:16],
            epochs=1,
            verbose=0,
            callbacks=[training.BudgetSchedule(5, 0.01)],
        )


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"seconds": 0, "peak": 0.01}, "seconds is 0; expected a number > 0, e.g. 600"),
        ({"seconds": 60, "peak": -1}, "peak is -1; expected a number > 0, e.g. 0.008"),
        (
            {"seconds": 60, "peak": 0.01, "warmup": 1},
            "warmup is 1; expected a number >= 0 and < 1, e.g. 0.05",
        ),
    ],
)
def test_budget_schedule_rejects_bad_settings(kwargs, text):
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        training.BudgetSchedule(**kwargs)


# ------------------------------------------------------------ planning epochs (notebook 10)


@pytest.mark.parametrize(
    ("budget", "per_epoch", "max_epochs", "expected"),
    [
        (600, 25.0, 18, 18),  # 20 would fit 85% of the budget: the most allowed wins
        (600, 54.0, 18, 9),  # 510 s // 54 s
        (600, 51.0, 18, 10),  # exactly 510 s
        (600, 700.0, 18, 1),  # not even one fits: still one epoch
    ],
)
def test_epochs_within_fits_the_share_of_the_budget(budget, per_epoch, max_epochs, expected):
    plan = training.epochs_within(budget, per_epoch, max_epochs)
    assert plan.epochs == expected
    assert plan.epochs * per_epoch <= 0.85 * budget or plan.epochs == 1


def test_epoch_plan_says_what_limited_it():
    assert "(the most allowed;" in str(training.epochs_within(600, 25.0, 18))
    text = str(training.epochs_within(600, 54.0, 18))
    assert text.startswith("about 54.0 s per epoch: 9 epochs (what fits; about 486 s")


def test_plan_epochs_plans_from_the_fastest_timed_pass_of_the_probe(tiny):
    x, y = tiny[0][:200], tiny[1][:200]  # 4 batches of 64 (the last one short)
    built = []

    def build():
        built.append(models.baseline_cnn())
        return built[-1]

    # EpochTimer reads the clock at the start and end of each of the probe's passes: the
    # first (with the one-off tracing) takes 100 s and is not timed; of the three timed
    # passes of 2 steps, one is disturbed (30 s), the fastest takes 12 s.
    clock = iter([0.0, 100.0, 100.0, 130.0, 130.0, 142.0, 142.0, 156.0])
    plan = training.plan_epochs(
        build,
        x,
        y,
        batch_size=64,
        budget_s=600,
        max_epochs=30,
        probe_steps=2,
        timed_passes=3,
        clock=lambda: next(clock),
    )
    assert plan.seconds_per_epoch == pytest.approx(6.0 * 4)  # 6 s per step, 4 steps
    assert plan.epochs == 21  # 510 s // 24 s
    assert len(built) == 1 and int(built[0].optimizer.iterations) == 4 * 2  # 4 passes of 2 steps


@pytest.mark.parametrize("name", ["probe_steps", "timed_passes"])
def test_plan_epochs_rejects_a_probe_of_no_steps(tiny, name):
    with pytest.raises(ValueError, match=f"^{name} is 0; expected a whole number >= 1"):
        training.plan_epochs(models.baseline_cnn, *tiny[:2], 64, 600, 18, **{name: 0})


def test_plan_epochs_needs_a_compiled_model(tiny):
    with pytest.raises(ValueError, match="not compiled"):
        training.plan_epochs(lambda: models.baseline_cnn(compile=False), *tiny[:2], 64, 600, 18)


def test_predict_pads_the_last_batch_but_returns_one_row_per_image(tiny):
    x = tiny[0][:5]
    model = models.baseline_cnn()
    probabilities = training.predict(model, x, batch_size=2)  # batches of 2, 2 and 1 + 1 pad
    assert probabilities.shape == (5, models.NUM_CLASSES)
    np.testing.assert_allclose(probabilities, np.asarray(model(x, training=False)), atol=1e-6)


def test_predict_returns_float32_for_a_mixed_bfloat16_model(tiny):
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = models.baseline_cnn()
    finally:
        keras.config.set_dtype_policy("float32")
    assert model.layers[-1].compute_dtype == "bfloat16"
    probabilities = training.predict(model, tiny[0][:3])
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-2)  # bfloat16's precision


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_predict_rejects_bad_batch_sizes(tiny, batch_size):
    text = f"batch_size is {batch_size!r}; expected a whole number >= 1, e.g. 1024"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        training.predict(models.baseline_cnn(), tiny[0][:2], batch_size=batch_size)
