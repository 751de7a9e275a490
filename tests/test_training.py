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
    """A baseline trained for two epochs, with validation: the model and the result, for
    the tests that only read them (one training)."""
    x, y, validation = tiny
    model = models.baseline_cnn()
    result = training.train(model, x, y, validation, epochs=2, batch_size=64, verbose=0)
    return model, result


def test_train_records_every_epoch(tiny, two_epochs):
    _, _, validation = tiny
    model, result = two_epochs
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


def one_second_per_read(seconds=1):
    """A clock that advances by ``seconds`` every time it is read (the schedule reads it at
    the start of training, and at the start and the end of every call into TensorFlow)."""
    ticks = iter(range(0, 100_000, seconds))
    return lambda: float(next(ticks))


def _fit_with(schedule, x, y, batch_size, epochs):
    model = models.baseline_cnn(compile=False)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        steps_per_execution=1,
    )
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[schedule])
    return model


def test_budget_schedule_ends_its_decay_when_the_budget_runs_out(tiny):
    x, y = tiny[0][:64], tiny[1][:64]  # 4 steps of 16 images per epoch, 50 epochs: 200 steps
    schedule = training.BudgetSchedule(100, peak=0.01, warmup=0.2, clock=one_second_per_read())
    model = _fit_with(schedule, x, y, batch_size=16, epochs=50)
    # call k starts at 2k - 1 s and ends at 2k s; after call 50 (100 s) another call of 1 s
    # would end past the budget: training stops. The clock leads: (2k - 1)/100 > (k - 1)/200.
    assert [t for t, _ in schedule.history] == [float(2 * k - 1) for k in range(1, 51)]
    assert schedule.stopped_at == 100.0 and int(model.optimizer.iterations) == 50
    assert schedule.history[9][1] == pytest.approx(0.01 * 0.19 / 0.2)  # 19 s: still warming up
    assert schedule.history[10][1] == pytest.approx(
        0.01 * 0.5 * (1 + np.cos(np.pi * 0.01 / 0.8))
    )  # 21 s
    assert schedule.last_rate == pytest.approx(
        0.01 * 0.5 * (1 + np.cos(np.pi * (0.99 - 0.2) / 0.8))
    )
    assert schedule.last_rate < 0.0001  # below 1% of the peak: the decay ended with the budget
    assert float(model.optimizer.learning_rate) == pytest.approx(schedule.last_rate)


def test_budget_schedule_follows_the_steps_when_the_epochs_end_first(tiny):
    """A budget far longer than the epochs: the steps lead, and the run is repeatable."""
    x, y = tiny[0][:64], tiny[1][:64]  # 16 steps of 4 images per epoch, 3 epochs: 48 steps
    first = training.BudgetSchedule(1000, peak=0.01, warmup=0.0, clock=one_second_per_read())
    _fit_with(first, x, y, batch_size=4, epochs=3)
    assert first.stopped_at is None and len(first.history) == 48
    # from the second call on, call k + 1 has taken k of the 48 steps: share k/48
    rates = [rate for _, rate in first.history]
    assert rates[1:] == pytest.approx([first.rate(k / 48) for k in range(1, 48)])
    assert first.last_rate < 0.0001  # 47/48 of the cosine: the decay ended with the epochs
    slower = training.BudgetSchedule(1000, peak=0.01, warmup=0.0, clock=one_second_per_read(3))
    _fit_with(slower, x, y, batch_size=4, epochs=3)
    assert [rate for _, rate in slower.history][1:] == rates[1:]  # a slower clock, the same rates


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
    assert model.get_layer("conv1").compute_dtype == "bfloat16"
    assert model.layers[-1].compute_dtype == "float32"  # the softmax stays in float32
    probabilities = training.predict(model, tiny[0][:3])
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)


def test_a_bfloat16_softmax_would_round_high_confidences_to_one():
    """Why the softmax stays in float32: bfloat16 keeps 8 bits of precision, so next to 1
    its numbers are 2**-8 apart, and every probability above 1 - 2**-9 = 0.998 rounds to 1."""
    as_bfloat16 = keras.ops.convert_to_numpy(keras.ops.cast([0.997, 0.999, 0.9995], "bfloat16"))
    np.testing.assert_array_equal(as_bfloat16.astype(np.float32), [0.99609375, 1.0, 1.0])


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_predict_rejects_bad_batch_sizes(tiny, batch_size):
    text = f"batch_size is {batch_size!r}; expected a whole number >= 1, e.g. 1024"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        training.predict(models.baseline_cnn(), tiny[0][:2], batch_size=batch_size)
