"""The exercise checks of notebook 08 (the capstone): right answers, typical mistakes and
the unattempted default."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from helpers import models, training
from helpers.exercises import CORRECT, INCORRECT, NOT_ATTEMPTED, check, nb08, registered

IDS = ["08.1", "08.2", "08.3"]


def feedback(exercise, answer, status, hint=""):
    result = check(exercise, answer)
    assert result.status == status, result
    assert hint in result.message, result


def test_all_are_registered():
    assert set(IDS) <= set(registered())


@pytest.mark.parametrize("exercise", IDS)
def test_unattempted_default(exercise):
    for default in (..., None):
        assert check(exercise, default).status == NOT_ATTEMPTED


def test_08_3_function_still_raising_not_implemented_is_unattempted():
    def build_small_capstone():
        raise NotImplementedError

    assert check("08.3", build_small_capstone).status == NOT_ATTEMPTED


# --------------------------------------------------------------------------- 08.1


def test_08_1_matches_the_capstone():
    """The expected answer is what Keras counts for the capstone's dense layer."""
    model = models.capstone_cnn()
    feedback("08.1", model.get_layer("dense").count_params(), CORRECT, "3,136 inputs")


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        (802_816, CORRECT, "no bias"),
        (7 * 7 * 64 * 256, CORRECT, ""),
        (802_816 + 256, INCORRECT, "use_bias=False"),
        (28 * 28 * 64 * 256, INCORRECT, "pooled twice"),
        (14 * 14 * 64 * 256, INCORRECT, "two pooling layers"),
        (3_136, INCORRECT, "256 dense units"),
        (871_978, INCORRECT, "whole model"),
        (1_000, INCORRECT, "7 × 7 × 64"),
        ("802816", INCORRECT, "Expected a number"),
    ],
)
def test_08_1_dense_parameters(answer, status, hint):
    feedback("08.1", answer, status, hint)


# --------------------------------------------------------------------------- 08.2


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        (2_115, CORRECT, "235 steps per epoch"),
        (-(-60_000 // 256) * 9, CORRECT, ""),
        (60_000 / 256 * 9, INCORRECT, "round up"),
        (60_000 // 256 * 9, INCORRECT, "96 images"),
        (235, INCORRECT, "one epoch"),
        (-(-54_000 // 256) * 9, INCORRECT, "60,000"),
        (9, INCORRECT, "not epochs"),
        (5_000, INCORRECT, "rounded up"),
    ],
)
def test_08_2_schedule_steps(answer, status, hint):
    feedback("08.2", answer, status, hint)


# --------------------------------------------------------------------------- 08.3


def small_capstone():
    """The notebook's solution to 08.3."""
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(16, 3, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.MaxPooling2D(2),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(16, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    return models.compile_model(model, learning_rate=2e-3)


@pytest.fixture(scope="module")
def real_sets(fashion_mnist):
    return nb08._data()


def test_08_3_solution_is_correct(real_sets):
    status, message = nb08.judge_small_capstone(small_capstone, *real_sets)
    assert status == CORRECT, message
    assert "30,218 parameters" in message


def test_08_3_solution_through_check(real_sets):
    feedback("08.3", small_capstone, CORRECT, "validation accuracy")


def test_08_3_too_many_parameters():
    status, message = nb08.judge_small_capstone(models.capstone_cnn, None, None, None, None)
    assert status == INCORRECT and "871,978 parameters" in message and "dense" in message


def test_08_3_names_the_missing_ingredients():
    def plain():
        return models.cnn(dense_units=16)

    status, message = nb08.judge_small_capstone(plain, None, None, None, None)
    assert status == INCORRECT
    assert "batch normalization" in message and "dropout" in message
    assert "pooling" not in message


def test_08_3_not_accurate_enough(real_sets):
    """The right ingredients, but a learning rate too small to learn in two epochs."""

    def too_slow():
        model = small_capstone()
        return models.compile_model(model, learning_rate=1e-6)

    status, message = nb08.judge_small_capstone(too_slow, *real_sets)
    assert status == INCORRECT and "85% is needed" in message


def test_08_3_wants_the_function_not_a_model():
    feedback("08.3", models.baseline_cnn(), INCORRECT, "Pass the function")


def test_08_3_rejects_what_is_not_a_function():
    feedback("08.3", 42, INCORRECT, "Expected a function")


def test_08_3_rejects_a_function_returning_no_model():
    feedback("08.3", lambda: "a model", INCORRECT, "returned str")


def test_08_3_rejects_the_wrong_input_or_output():
    def two_classes():
        inputs = keras.Input((28, 28, 1))
        return models.compile_model(keras.Model(inputs, layers.Dense(2)(layers.Flatten()(inputs))))

    feedback("08.3", two_classes, INCORRECT, "ten class probabilities")


def test_08_3_rejects_an_uncompiled_model():
    def uncompiled():
        inputs = keras.Input((28, 28, 1))
        x = layers.Flatten()(inputs)
        return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))

    feedback("08.3", uncompiled, INCORRECT, "not compiled")


def test_08_3_baseline_accuracy_in_the_message_is_measured(real_sets):
    """The baseline's accuracy quoted by the check is what the same training gives it."""
    x, y, x_val, y_val = real_sets
    training.set_seed(0)
    baseline = models.baseline_cnn()
    training.train(baseline, x, y, epochs=nb08.EPOCHS, batch_size=nb08.BATCH_SIZE, verbose=0)
    accuracy = training.evaluate(baseline, x_val, y_val)["accuracy"]
    assert accuracy == pytest.approx(nb08.BASELINE_ACCURACY, abs=0.01)
    assert accuracy < nb08.MIN_ACCURACY
