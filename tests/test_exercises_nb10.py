"""The exercise checks of notebook 10 (the capstone): right answers, typical mistakes and
the unattempted default.

Answers and hints that come from a model (parameter counts, shapes) are computed here
from the model itself, so these tests follow the models and fail if a check does not.
"""

from __future__ import annotations

import keras
import pytest
from keras import layers

from helpers import models, training
from helpers.exercises import CORRECT, INCORRECT, NOT_ATTEMPTED, check, nb10, registered

IDS = ["10.1", "10.2", "10.3"]


def feedback(exercise, answer, status, hint=""):
    result = check(exercise, answer)
    assert result.status == status, result
    assert hint in result.message, result


def test_all_are_registered():
    assert set(IDS) <= set(registered())


def test_10_3_function_still_raising_not_implemented_is_unattempted():
    def build_small_capstone():
        raise NotImplementedError

    assert check("10.3", build_small_capstone).status == NOT_ATTEMPTED


# --------------------------------------------------------------------------- 10.1


@pytest.fixture(scope="module")
def capstone():
    return models.capstone_cnn()


@pytest.fixture(scope="module")
def three_blocks():
    return models.capstone_cnn(widths=nb10.THREE_BLOCKS)


def test_10_1_asks_about_a_model_the_notebook_does_not_print(three_blocks):
    assert nb10.THREE_BLOCKS == (32, 64, 128)  # the question's model
    # 28 → 14 → 7 → 3: the third pooling layer drops the odd last row and column
    assert three_blocks.get_layer("flatten").input.shape[1:] == (3, 3, 128)


@pytest.fixture(scope="module")
def dense_10_1(capstone, three_blocks):
    """The three-block model's first Dense layer, as Keras counts it, and typical wrong answers."""
    dense = three_blocks.get_layer("dense")
    units = dense.units
    h, w, c = three_blocks.get_layer("flatten").input.shape[1:]
    right = dense.count_params()
    return {
        "right": right,
        "right_text": str(right),
        "from_the_shapes": h * w * c * units,
        "inputs": f"{h * w * c:,} inputs",
        "with_bias": right + units,
        "pooled_twice": 7 * 7 * c * units,
        "rounded_up": 4 * 4 * c * units,
        "half_pixels": int(3.5 * 3.5 * c * units),
        "second_block_channels": h * w * 64 * units,
        "two_blocks": capstone.get_layer("dense").count_params(),
        "flattened": h * w * c,
        "units": units,
        "whole_model": three_blocks.count_params(),
    }


def test_10_1_matches_the_model(dense_10_1):
    """The expected answer is what Keras counts for the three-block model's dense layer."""
    assert dense_10_1["right"] == 3 * 3 * 128 * 256
    feedback("10.1", dense_10_1["right"], CORRECT, dense_10_1["inputs"])


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ("right", CORRECT, "no bias"),
        ("from_the_shapes", CORRECT, "{inputs}"),
        ("with_bias", INCORRECT, "use_bias=False"),
        ("pooled_twice", INCORRECT, "a third pooling layer: 28 → 14 → 7 → 3"),
        ("rounded_up", INCORRECT, "not rounded up"),
        ("half_pixels", INCORRECT, "3.5 pixels cannot exist"),
        ("second_block_channels", INCORRECT, "128 channels"),
        ("two_blocks", INCORRECT, "two-block capstone's dense layer"),
        ("flattened", INCORRECT, "{units} dense units"),
        ("whole_model", INCORRECT, "whole model"),
        (1_000, INCORRECT, "3 pooling layers"),
        ("right_text", INCORRECT, "Expected a number"),
    ],
)
def test_10_1_dense_parameters(dense_10_1, answer, status, hint):
    if isinstance(answer, str) and answer in dense_10_1:
        answer = dense_10_1[answer]
    feedback("10.1", answer, status, hint.format(**dense_10_1))


# --------------------------------------------------------------------------- 10.2


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        (5_628, CORRECT, "469 steps per epoch"),
        (-(-60_000 // 128) * 12, CORRECT, ""),
        (60_000 / 128 * 12, INCORRECT, "round up"),
        (60_000 // 128 * 12, INCORRECT, "96 images"),
        (469, INCORRECT, "one epoch"),
        (-(-54_000 // 128) * 12, INCORRECT, "60,000"),
        (12, INCORRECT, "not epochs"),
        (5_000, INCORRECT, "rounded up"),
    ],
)
def test_10_2_schedule_steps(answer, status, hint):
    feedback("10.2", answer, status, hint)


# --------------------------------------------------------------------------- 10.3


def small_capstone():
    """The notebook's solution to 10.3."""
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
    return nb10._data()


@pytest.fixture(scope="module")
def solution_verdict(real_sets):
    """The check's verdict on the solution: two epochs on 10,000 images, trained once for
    the two tests below."""
    return nb10.judge_small_capstone(small_capstone, *real_sets)


def test_10_3_solution_is_correct(solution_verdict):
    status, message = solution_verdict
    assert status == CORRECT, message
    assert f"{small_capstone().count_params():,} parameters" in message
    assert f"with {models.baseline_cnn().count_params():,}." in message


def test_10_3_solution_through_check(real_sets, solution_verdict, monkeypatch):
    """check('10.3', f) hands f itself and the course's images to the judge and reports its
    verdict (the judge's own training is the test above's, not repeated here)."""
    given = []

    def judge(build, *sets):
        given.append((build, sets))
        return solution_verdict

    monkeypatch.setattr(nb10, "judge_small_capstone", judge)
    feedback("10.3", small_capstone, CORRECT, "validation accuracy")
    [(build, sets)] = given
    assert build is small_capstone
    assert len(sets) == 4 and all(a is b for a, b in zip(sets, real_sets, strict=True))


def test_10_3_too_many_parameters(capstone):
    status, message = nb10.judge_small_capstone(models.capstone_cnn, None, None, None, None)
    assert status == INCORRECT and "dense" in message
    assert f"{capstone.count_params():,} parameters" in message


def test_10_3_names_the_missing_ingredients():
    def plain():
        return models.cnn(dense_units=16)

    status, message = nb10.judge_small_capstone(plain, None, None, None, None)
    assert status == INCORRECT
    assert "batch normalization" in message and "dropout" in message
    assert "pooling" not in message


def test_10_3_not_accurate_enough(real_sets):
    """The right ingredients, but a learning rate too small to learn in two epochs (on 500
    of the images and 1,000 validation images: at this rate no number of images helps)."""

    def too_slow():
        model = small_capstone()
        return models.compile_model(model, learning_rate=1e-6)

    x, y, x_val, y_val = real_sets
    status, message = nb10.judge_small_capstone(
        too_slow, x[:500], y[:500], x_val[:1000], y_val[:1000]
    )
    assert status == INCORRECT and "85% is needed" in message


def test_10_3_wants_the_function_not_a_model():
    feedback("10.3", models.baseline_cnn(), INCORRECT, "Pass the function")


def test_10_3_rejects_what_is_not_a_function():
    feedback("10.3", 42, INCORRECT, "Expected a function")


def test_10_3_rejects_a_function_returning_no_model():
    feedback("10.3", lambda: "a model", INCORRECT, "returned str")


def test_10_3_rejects_the_wrong_input_or_output():
    def two_classes():
        inputs = keras.Input((28, 28, 1))
        return models.compile_model(keras.Model(inputs, layers.Dense(2)(layers.Flatten()(inputs))))

    feedback("10.3", two_classes, INCORRECT, "ten class probabilities")


def test_10_3_rejects_an_uncompiled_model():
    def uncompiled():
        inputs = keras.Input((28, 28, 1))
        x = layers.Flatten()(inputs)
        return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))

    feedback("10.3", uncompiled, INCORRECT, "not compiled")


def test_10_3_baseline_accuracy_in_the_message_is_measured(real_sets):
    """The baseline's accuracy quoted by the check is what the same training gives it."""
    x, y, x_val, y_val = real_sets
    training.set_seed(0)
    baseline = models.baseline_cnn()
    training.train(baseline, x, y, epochs=nb10.EPOCHS, batch_size=nb10.BATCH_SIZE, verbose=0)
    accuracy = training.evaluate(baseline, x_val, y_val)["accuracy"]
    assert accuracy == pytest.approx(nb10.BASELINE_ACCURACY, abs=0.01)
    assert accuracy < nb10.MIN_ACCURACY
