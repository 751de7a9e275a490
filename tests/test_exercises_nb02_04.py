"""The exercise checks of notebooks 02-04: right answers, typical wrong ones, unattempted.

Answers and hints that come from a model (parameter counts, shapes) are computed here
from the model itself, so these tests follow the models and fail if a check does not.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from helpers import data, models, training
from helpers.exercises import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    check,
    nb02,
    nb03,
    reference_model,
)

IDS = ["02.1", "02.2", "02.3", "02.4", "03.1", "03.2", "03.3", "04.1", "04.2", "04.3"]


@pytest.mark.parametrize("exercise", ["02.3", "03.2"])
def test_a_function_still_raising_not_implemented_is_unattempted(exercise):
    def todo(*args):
        raise NotImplementedError

    assert check(exercise, todo).status == NOT_ATTEMPTED


def feedback(exercise, answer, status, hint=""):
    result = check(exercise, answer)
    assert result.status == status, result
    assert hint in result.message, result
    return result


def computed(exercise, values, answer, status, hint):
    """Check an answer named by a key of ``values`` (else given as is), with a hint to format."""
    if isinstance(answer, str) and answer in values:
        answer = values[answer]
    return feedback(exercise, answer, status, hint.format(**values))


@pytest.fixture(scope="module")
def baseline():
    return models.baseline_cnn()


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


@pytest.fixture(scope="module")
def conv_02_2(baseline):
    """Conv2D(64, 3) on 32 channels, as Keras counts it, and the typical wrong answers."""
    layer = keras.layers.Conv2D(64, 3)
    layer.build((None, 28, 28, 32))
    one_channel = keras.layers.Conv2D(64, 3)
    one_channel.build((None, 28, 28, 1))
    weights = math.prod(layer.kernel.shape)
    conv2 = baseline.get_layer("conv2")
    return {
        "right": layer.count_params(),
        "weights": f"{weights:,}",
        "no_biases": weights,
        "one_channel": one_channel.count_params(),
        "one_kernel_per_filter": 3 * 3 * 64,
        "baseline_conv2": conv2.count_params(),
        "baseline_filters": conv2.filters,
    }


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ("right", CORRECT, "{weights} weights + 64 biases"),
        ("no_biases", INCORRECT, "biases"),
        ("one_channel", INCORRECT, "1 input channel"),
        ("one_kernel_per_filter", INCORRECT, "one kernel per filter"),
        ("baseline_conv2", INCORRECT, "the baseline's conv2 with {baseline_filters} filters"),
        (1000, INCORRECT, "k · k · C_in · F"),
    ],
)
def test_02_2_conv_parameters(conv_02_2, answer, status, hint):
    computed("02.2", conv_02_2, answer, status, hint)


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


def _softmax(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum()


def test_02_4_right_answer_is_keras_softmax_of_the_doubled_scores():
    import keras

    doubled = 2 * np.asarray(nb02.SCORES_02_4, dtype=np.float32)
    by_keras = np.asarray(keras.activations.softmax(doubled[np.newaxis]))[0]
    feedback("02.4", by_keras, CORRECT, "more confident")


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ("right", CORRECT, "squared and rescaled"),
        ("squared", CORRECT, ""),
        ("original", INCORRECT, "not adding a constant"),
        ("doubled_probabilities", INCORRECT, "sum to 1"),
        ([0.5, 0.3, 0.3], INCORRECT, "sum to 1.100"),
        ([0.5, 0.3, 0.2], INCORRECT, "e^(2 z_i)"),
        ([0.5, 0.5], INCORRECT, "one per score"),
        ("three", INCORRECT, "Expected 3 probabilities"),
    ],
)
def test_02_4_doubled_scores(answer, status, hint):
    z = np.asarray(nb02.SCORES_02_4)
    p = _softmax(z)
    answers = {
        "right": _softmax(2 * z),
        "squared": p**2 / (p**2).sum(),
        "original": p,
        "doubled_probabilities": 2 * p,
    }
    feedback(
        "02.4", answers.get(answer, answer) if isinstance(answer, str) else answer, status, hint
    )


# ----------------------------------------------------------------- notebook 03


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        (844, CORRECT, "one of 48 images"),
        (843, INCORRECT, "last, smaller batch"),
        (843.75, INCORRECT, "round up"),
        (54_000, INCORRECT, "number of images"),
        (1688, INCORRECT, "batches of 32"),
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
    return data.course_splits(train_size=300, seed=0).train


@pytest.fixture(scope="module")
def small_model_verdicts(small_real_set):
    """One small model judged twice: after one epoch on 100 of the images (judged on all
    300), then after 40 epochs (judged on the 100 it fitted). One model, traced once,
    serves both tests; the 100 images and the learning rate of 0.003 fit it in 40 epochs
    (95% after 31 when measured)."""
    x, y = small_real_set
    training.set_seed(0)
    small = models.cnn(dense_units=16, learning_rate=3e-3)
    training.train(small, x[:100], y[:100], epochs=1, batch_size=32, verbose=0)
    early = nb03.judge_small_model(small, x, y)
    training.train(small, x[:100], y[:100], epochs=39, batch_size=32, verbose=0)
    fitted = nb03.judge_small_model(small, x[:100], y[:100])
    return {"early": early, "fitted": fitted, "parameters": small.count_params()}


def test_03_3_correct_when_small_and_accurate(small_model_verdicts, baseline):
    """A small model that fits its images: judged on those images, it passes."""
    status, message = small_model_verdicts["fitted"]
    assert status == CORRECT, message
    params, baseline_params = small_model_verdicts["parameters"], baseline.count_params()
    assert f"{params:,} parameters" in message
    assert f"{params / baseline_params:.0%} of the baseline's {baseline_params:,}" in message


def test_03_3_untrained_model_is_about_chance(small_real_set):
    x, y = small_real_set
    training.set_seed(0)
    status, message = nb03.judge_small_model(models.cnn(dense_units=16), x, y)
    assert status == INCORRECT and "has the model been trained" in message


def test_03_3_too_many_parameters(small_real_set, baseline):
    x, y = small_real_set
    status, message = nb03.judge_small_model(baseline, x, y)
    assert status == INCORRECT and "dense_units" in message
    assert f"{baseline.count_params():,} parameters" in message


def test_03_3_asks_for_the_validation_set_of_the_seed_given(monkeypatch):
    """The check uses data.course_splits(seed=SEED).validation, for the SEED it is given."""
    calls = []
    x_val, y_val = np.zeros((2, 28, 28, 1), np.float32), np.array([3, 7])

    def fake_splits(*args, **kwargs):
        calls.append((args, kwargs))
        empty = np.zeros((0, 28, 28, 1), np.float32), np.zeros(0, int)
        return data.Splits(*empty, x_val, y_val, *empty)

    monkeypatch.setattr(data, "course_splits", fake_splits)
    nb03._validation_set.cache_clear()
    try:
        got = nb03._validation_set(1)
    finally:
        nb03._validation_set.cache_clear()
    assert got[0] is x_val and got[1] is y_val
    assert len(calls) == 1 and calls[0][1].get("seed") == 1 and not calls[0][0]


def test_03_3_measures_on_the_validation_split_of_the_students_seed(fashion_mnist, monkeypatch):
    """With SEED = 1 the model is judged on seed 1's validation images, not seed 0's (most
    of which are in seed 1's training split)."""
    judged = []

    def judge(model, x, y):
        judged.append((x, y))
        return CORRECT, "judged"

    monkeypatch.setattr(nb03, "judge_small_model", judge)
    small = reference_model("cnn", dense_units=16)
    nb03._validation_set.cache_clear()
    try:
        assert check("03.3", (small, 1)).status == CORRECT
    finally:
        nb03._validation_set.cache_clear()
    ((x, y),) = judged
    seed_1, seed_0 = data.course_splits(seed=1), data.course_splits(seed=0)
    assert np.array_equal(x, seed_1.x_val) and np.array_equal(y, seed_1.y_val)
    assert not np.array_equal(x, seed_0.x_val)


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ((..., 0), NOT_ATTEMPTED, "Replace the ..."),
        ((None, 3), NOT_ATTEMPTED, "Replace the ..."),
        ("model", INCORRECT, "Expected a Keras model"),
        (("my model", 0), INCORRECT, "Expected a Keras model"),
        ("small", INCORRECT, 'check("03.3", (small_model, SEED))'),
        (("small", -1), INCORRECT, "whole number"),
        (("small", 0.5), INCORRECT, "whole number"),
        (("small", True), INCORRECT, "whole number"),
    ],
)
def test_03_3_takes_the_model_and_the_seed(answer, status, hint):
    small = reference_model("cnn", dense_units=16)
    if answer == "small":
        answer = small
    elif isinstance(answer, tuple) and answer[0] == "small":
        answer = (small, answer[1])
    feedback("03.3", answer, status, hint)


def test_03_3_not_accurate_enough(small_model_verdicts):
    """Trained for one epoch on 100 images, judged on 300."""
    status, message = small_model_verdicts["early"]
    assert status == INCORRECT
    assert "has the model been trained" in message or "85% is needed" in message


def test_03_3_rejects_a_model_with_the_wrong_input_or_output():
    import keras

    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(2)(keras.layers.Flatten()(inputs))
    status, message = nb03.judge_small_model(keras.Model(inputs, outputs), None, None)
    assert status == INCORRECT and "ten class probabilities" in message


# ----------------------------------------------------------------- notebook 04


@pytest.fixture(scope="module")
def kernels_04_1(baseline):
    """The kernel shape of a Conv2D(128, 3) after pool2, from the shapes the notebook prints,
    and the typical wrong answers."""
    k, _, _, c_in = conv2 = models.conv_kernels(baseline, "conv2").shape
    f = 128
    right = (k, k, c_in, f)
    return {
        "right": right,
        "right_list": list(right),
        "c_in": c_in,
        "conv2": conv2,
        "filters_first": (f, k, k, c_in),
        "no_filters_axis": (k, k, c_in),
        "channels_first": (f, c_in, k, k),
        "twice_the_channels": (k, k, 2 * c_in, f),
    }


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ("right", CORRECT, "each of the {c_in} maps of pool2"),
        ("right_list", CORRECT, ""),
        ("conv2", INCORRECT, "conv2's shape, printed above"),
        ("filters_first", INCORRECT, "filters last"),
        ("no_filters_axis", INCORRECT, "filters axis"),
        ("channels_first", INCORRECT, "(height, width, input channels, filters)"),
        ("twice_the_channels", INCORRECT, "kernel height"),
        (32, INCORRECT, "Expected a shape"),
    ],
)
def test_04_1_a_third_convolutions_kernel_shape(kernels_04_1, answer, status, hint):
    computed("04.1", kernels_04_1, answer, status, hint)


@pytest.fixture(scope="module")
def maps_04_2(baseline):
    """conv1's output size with 'same' padding (a real layer built so), and the typical
    wrong answers, next to the real output as the notebook gets it."""
    maps = models.layer_outputs(baseline, np.zeros((28, 28, 1), np.float32), ["conv1"])
    _, h, w, c = maps["conv1"].shape
    conv1 = baseline.get_layer("conv1")
    same = keras.layers.Conv2D(conv1.filters, conv1.kernel_size, padding="same")
    same_size = int(np.prod(same(np.zeros((1, 28, 28, 1), np.float32)).shape[1:]))
    in_h, in_w, _ = baseline.input_shape[1:]
    return {
        "right": same_size,
        "h": in_h,
        "w": in_w,
        "c": c,
        "valid_padding": maps["conv1"][0].size,
        "one_map": in_h * in_w,
        "parameters": conv1.count_params(),
    }


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ("right", CORRECT, "{h} × {w} × {c}"),
        ("valid_padding", INCORRECT, "'valid' padding"),
        ("one_map", INCORRECT, "one feature map"),
        ("parameters", INCORRECT, "padding does not change it"),
        (1000, INCORRECT, "keeps the input's {h} × {w} size"),
    ],
)
def test_04_2_conv1_output_values_with_same_padding(maps_04_2, answer, status, hint):
    computed("04.2", maps_04_2, answer, status, hint)


def receptive_fields(model):
    """Walk the layers: each adds (window - 1) × (distance between its inputs, in pixels)."""
    fields, field, step = {}, 1, 1
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            size, stride = layer.kernel_size[0], layer.strides[0]
        elif isinstance(layer, keras.layers.MaxPooling2D):
            size, stride = layer.pool_size[0], layer.strides[0]
        else:
            continue
        field += (size - 1) * step
        step *= stride
        fields[layer.name] = field
    return fields


@pytest.fixture(scope="module")
def fields_04_3(baseline):
    fields = receptive_fields(baseline)
    k1 = baseline.get_layer("conv1").kernel_size[0]
    k2 = baseline.get_layer("conv2").kernel_size[0]
    right = fields["conv2"]
    return {
        "right": right,
        "k1": k1,
        "conv1_span": right - (k1 - 1),
        "edge": k1 - 1,
        "unpooled": receptive_fields(models.cnn(pooling="none"))["conv2"],
        "kernel_values": k2 * k2,
        "pool2": fields["pool2"],
        "pool1": fields["pool1"],
    }


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ("right", CORRECT, "{conv1_span} + {k1} - 1 = {right}"),
        ("unpooled", INCORRECT, "without pooling"),
        ("kernel_values", INCORRECT, "width of the image patch"),
        ("pool2", INCORRECT, "pool2"),
        ("conv1_span", INCORRECT, "add the {edge} extra pixels"),
        ("pool1", INCORRECT, "pool1's receptive field"),
        (28, INCORRECT, "Work outwards"),
    ],
)
def test_04_3_receptive_field(fields_04_3, answer, status, hint):
    computed("04.3", fields_04_3, answer, status, hint)
