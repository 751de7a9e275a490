"""The exercise checks of notebooks 02-04: right answers, typical wrong ones, unattempted."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import models, training
from helpers.exercises import CORRECT, INCORRECT, NOT_ATTEMPTED, check, nb03

IDS = ["02.1", "02.2", "02.3", "02.4", "03.1", "03.2", "03.3", "04.1", "04.2", "04.3"]


@pytest.mark.parametrize("exercise", IDS)
def test_unattempted_default(exercise):
    assert check(exercise, ...).status == NOT_ATTEMPTED


@pytest.mark.parametrize("exercise", ["02.3", "02.4", "03.2"])
def test_a_function_still_raising_not_implemented_is_unattempted(exercise):
    def todo(*args):
        raise NotImplementedError

    assert check(exercise, todo).status == NOT_ATTEMPTED


def feedback(exercise, answer, status, hint=""):
    result = check(exercise, answer)
    assert result.status == status, result
    assert hint in result.message, result
    return result


# ----------------------------------------------------------------- notebook 02


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        (12, CORRECT, "11 + 1 = 12"),
        (12.0, CORRECT, ""),
        (11, INCORRECT, "+ 1"),
        (11.5, INCORRECT, "rounds down"),
        (24, INCORRECT, "stride 1"),
        (14, INCORRECT, "'same' padding"),
        (13, INCORRECT, "3 × 3 kernel"),
        (20, INCORRECT, "floor((n + 2p - k) / s) + 1"),
        ("12", INCORRECT, "Expected a number"),
    ],
)
def test_02_1_output_size(answer, status, hint):
    feedback("02.1", answer, status, hint)


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        (18_496, CORRECT, "18,432 weights + 64 biases"),
        (18_432, INCORRECT, "biases"),
        (640, INCORRECT, "1 input channel"),
        (576, INCORRECT, "one kernel per filter"),
        (9_248, INCORRECT, "32 filters"),
        (1000, INCORRECT, "k · k · C_in · F"),
    ],
)
def test_02_2_conv_parameters(answer, status, hint):
    feedback("02.2", answer, status, hint)


def _valid(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def _same(image, kernel):
    return _valid(np.pad(image, (len(kernel) - 1) // 2), kernel)


@pytest.mark.parametrize(
    ("fn", "status", "hint"),
    [
        (_same, CORRECT, "keeps the size"),
        (_valid, INCORRECT, "'valid' size"),
        (lambda im, k: _same(im, k[::-1, ::-1]), INCORRECT, "flipped the kernel"),
        (
            lambda im, k: _valid(np.pad(im, (len(k) - 1) // 2, mode="edge"), k),
            INCORRECT,
            "Pad with zeros",
        ),
        (lambda im, k: _valid(np.pad(im, 1), k), INCORRECT, "keep the image's size"),
        (lambda im, k: 2 * _same(im, k), INCORRECT, "differ from a zero-padded convolution"),
        ("conv2d", INCORRECT, "Expected a function"),
    ],
)
def test_02_3_conv2d_same(fn, status, hint):
    feedback("02.3", fn, status, hint)


def test_02_3_wrong_border_only():
    def border_wrong(image, kernel):
        out = _same(image, kernel)
        out[0, 0] += 1.0
        return out

    feedback("02.3", border_wrong, INCORRECT, "border")


def _naive_softmax(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum()


@pytest.mark.parametrize(
    ("fn", "status", "hint"),
    [
        (lambda z: _naive_softmax(np.asarray(z) - np.max(z)), CORRECT, "max(z)"),
        (_naive_softmax, INCORRECT, "subtract the"),
        (lambda z: np.asarray(z) / np.sum(z), INCORRECT, "np.exp"),
        (lambda z: np.ones(len(z)) / len(z), INCORRECT, "sum to 1 but"),
        (lambda z: _naive_softmax(z)[:2], INCORRECT, "shape"),
        (lambda z: np.exp(z - np.max(z)), INCORRECT, "For [1, 2, 3]"),
    ],
)
def test_02_4_stable_softmax(fn, status, hint):
    feedback("02.4", fn, status, hint)


def test_02_4_a_crashing_function_is_feedback():
    feedback("02.4", lambda z: z.nope, INCORRECT, "AttributeError")


# ----------------------------------------------------------------- notebook 03


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        (1688, CORRECT, "one of 16 images"),
        (1687, INCORRECT, "last, smaller batch"),
        (1687.5, INCORRECT, "round up"),
        (54_000, INCORRECT, "number of images"),
        (422, INCORRECT, "batch size of 128"),
        (100, INCORRECT, "round up"),
    ],
)
def test_03_1_steps_per_epoch(answer, status, hint):
    feedback("03.1", answer, status, hint)


@pytest.mark.parametrize(
    ("fn", "status", "hint"),
    [
        (lambda m: np.diag(m) / m.sum(axis=1), CORRECT, "row sums"),
        (lambda m: np.diag(m) / m.sum(axis=0), INCORRECT, "precision"),
        (lambda m: np.diag(m), INCORRECT, "counts"),
        (lambda m: np.diag(m) / m.sum(), INCORRECT, "own total"),
        (lambda m: m.sum(axis=1), INCORRECT, "expected [0.8, 0.6, 0.75]"),
        (lambda m: np.diag(m)[:2], INCORRECT, "shape (2,)"),
        (42, INCORRECT, "Expected a function"),
    ],
)
def test_03_2_per_class_from_confusion(fn, status, hint):
    feedback("03.2", fn, status, hint)


@pytest.fixture(scope="module")
def small_real_set(fashion_mnist):
    """300 real training images, class-balanced, model-ready."""
    splits = training.course_splits(train_size=300, seed=0)
    return splits.x_train, splits.y_train


def test_03_3_correct_when_small_and_accurate(small_real_set):
    """A small model that fits its images: judged on those images, it passes."""
    x, y = small_real_set
    training.set_seed(0)
    small = models.cnn(dense_units=16)
    training.train(small, x, y, epochs=40, batch_size=32, verbose=0)
    status, message = nb03.judge_small_model(small, x, y)
    assert status == CORRECT, message
    assert "22,554 parameters" in message


def test_03_3_untrained_model_is_about_chance(small_real_set):
    x, y = small_real_set
    training.set_seed(0)
    status, message = nb03.judge_small_model(models.cnn(dense_units=16), x, y)
    assert status == INCORRECT and "has the model been trained" in message


def test_03_3_too_many_parameters(small_real_set):
    x, y = small_real_set
    status, message = nb03.judge_small_model(models.baseline_cnn(), x, y)
    assert status == INCORRECT and "113,386 parameters" in message and "dense_units" in message


def test_03_3_not_accurate_enough(small_real_set):
    x, y = small_real_set
    training.set_seed(0)
    small = models.cnn(dense_units=16)
    training.train(small, x[:100], y[:100], epochs=1, batch_size=32, verbose=0)
    status, message = nb03.judge_small_model(small, x, y)
    assert status == INCORRECT
    assert "has the model been trained" in message or "85% is needed" in message


def test_03_3_rejects_what_is_not_a_model():
    feedback("03.3", "my model", INCORRECT, "Expected a Keras model")


def test_03_3_rejects_a_model_with_the_wrong_input_or_output():
    import keras

    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(2)(keras.layers.Flatten()(inputs))
    status, message = nb03.judge_small_model(keras.Model(inputs, outputs), None, None)
    assert status == INCORRECT and "ten class probabilities" in message


# ----------------------------------------------------------------- notebook 04


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ((3, 3, 32, 32), CORRECT, "32 input channels"),
        ([3, 3, 32, 32], CORRECT, ""),
        ((3, 3, 1, 32), INCORRECT, "conv1's shape"),
        ((32, 3, 3, 32), INCORRECT, "filters last"),
        ((3, 3, 32), INCORRECT, "filters axis"),
        ((32, 32, 3, 3), INCORRECT, "(height, width, input channels, filters)"),
        ((3, 3, 64, 32), INCORRECT, "kernel height"),
        (32, INCORRECT, "Expected a shape"),
    ],
)
def test_04_1_conv2_kernel_shape(answer, status, hint):
    feedback("04.1", answer, status, hint)


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        (21_632, CORRECT, "26 × 26 × 32"),
        (25_088, INCORRECT, "'same' padding"),
        (5_408, INCORRECT, "after pooling"),
        (676, INCORRECT, "one feature map"),
        (320, INCORRECT, "parameters"),
        (784, INCORRECT, "one 26 × 26 map per filter"),
    ],
)
def test_04_2_conv1_output_values(answer, status, hint):
    feedback("04.2", answer, status, hint)


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        (8, CORRECT, "6 + 3 - 1 = 8"),
        (5, INCORRECT, "without pooling"),
        (9, INCORRECT, "width of the image patch"),
        (10, INCORRECT, "pool2"),
        (6, INCORRECT, "add the 2 extra pixels"),
        (4, INCORRECT, "pool1's receptive field"),
        (28, INCORRECT, "Work outwards"),
    ],
)
def test_04_3_receptive_field(answer, status, hint):
    feedback("04.3", answer, status, hint)
