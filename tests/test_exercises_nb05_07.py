"""The exercise checks of notebooks 05 (pooling), 06 (dropout) and 07 (batch normalization).

Answers and hints that come from a model (parameter counts, shapes) are computed here
from the model itself, so these tests follow the models and fail if a check does not.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from helpers import models
from helpers.exercises import CORRECT, INCORRECT, NOT_ATTEMPTED, check, nb06, nb07, registered

EXERCISES = ["05.1", "05.2", "05.3", "06.1", "06.2", "06.3", "07.1", "07.2", "07.3"]


def test_all_are_registered():
    assert set(EXERCISES) <= set(registered())


@pytest.mark.parametrize("exercise", ["05.2", "06.2", "07.3"])
def test_function_still_raising_not_implemented_is_unattempted(exercise):
    def todo(*args):
        raise NotImplementedError

    assert check(exercise, todo).status == NOT_ATTEMPTED


def expect(exercise, answer, status, hint=""):
    feedback = check(exercise, answer)
    assert feedback.status == status, feedback
    assert hint in feedback.message, feedback


def computed(exercise, values, answer, status, hint):
    """Check an answer named by a key of ``values`` (else given as is), with a hint to format."""
    if isinstance(answer, str) and answer in values:
        answer = values[answer]
    expect(exercise, answer, status, hint.format(**values))


def out_shape(model, name, which="output"):
    return tuple(int(v) for v in getattr(model.get_layer(name), which).shape[1:])


@pytest.fixture(scope="module")
def unpooled():
    """Notebook 05's variant without down-sampling."""
    return models.cnn(pooling="none")


# --------------------------------------------------------------------------- 05


@pytest.fixture(scope="module")
def shapes_05_1(unpooled):
    """The output of the baseline's first pooling, as Keras computes it, and wrong answers."""
    conv1 = out_shape(models.baseline_cnn(), "conv1")
    h_in, _, c = conv1
    right = tuple(keras.layers.MaxPooling2D(2).compute_output_shape((None, *conv1))[1:])
    return {
        "right": right,
        "right_list": list(right),
        "h_in": h_in,
        "conv1": conv1,
        "half_the_channels": (*right[:2], c // 2),
        "second_conv": out_shape(unpooled, "conv2"),
        "cropped": ((h_in - 2) // 2, (h_in - 2) // 2, c),
        "no_channels": right[:2],
    }


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ("right", CORRECT, "{h_in} / 2"),
        ("right_list", CORRECT, ""),
        ("conv1", INCORRECT, "That is the input"),
        ("half_the_channels", INCORRECT, "channel"),
        ("second_conv", INCORRECT, "convolution"),
        ("cropped", INCORRECT, "border"),
        ("no_channels", INCORRECT, "(height, width, channels)"),
        (13, INCORRECT, "Expected a shape"),
    ],
)
def test_05_1_pooled_shape(shapes_05_1, answer, status, hint):
    computed("05.1", shapes_05_1, answer, status, hint)


def _max_pool(a):
    h, w = a.shape
    return a.reshape(h // 2, 2, w // 2, 2).max(axis=(1, 3))


def _max_pool_loops(a):
    out = np.zeros((a.shape[0] // 2, a.shape[1] // 2), dtype=a.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = a[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].max()
    return out


def _max_pool_from_zero(a):
    out = np.zeros((a.shape[0] // 2, a.shape[1] // 2), dtype=a.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            best = 0.0
            for v in a[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].ravel():
                best = max(best, v)
            out[i, j] = best
    return out


def _max_pool_stride_1(a):
    return np.maximum.reduce([a[:-1, :-1], a[1:, :-1], a[:-1, 1:], a[1:, 1:]])


@pytest.mark.parametrize(
    ("fn", "status", "hint"),
    [
        (_max_pool, CORRECT, "largest value"),
        (_max_pool_loops, CORRECT, ""),
        (
            lambda a: a.reshape(a.shape[0] // 2, 2, a.shape[1] // 2, 2).mean(axis=(1, 3)),
            INCORRECT,
            "average pooling",
        ),
        (_max_pool_stride_1, INCORRECT, "one pixel at a time"),
        (_max_pool_from_zero, INCORRECT, "all-negative"),
        (lambda a: a[::2, ::2], INCORRECT, "2 × 2 maxima"),
        (lambda a: a.max(), INCORRECT, "one value per 2 × 2 window"),
        ("max", INCORRECT, "Expected a function"),
    ],
)
def test_05_2_max_pool(fn, status, hint):
    expect("05.2", fn, status, hint)


@pytest.fixture(scope="module")
def dense_05_3(unpooled):
    """The Dense layer of the variant without pooling, as Keras counts it, and wrong answers."""
    dense = unpooled.get_layer("dense")
    units = dense.units
    h, w, c = out_shape(unpooled, "conv2")
    h1, w1, _ = out_shape(unpooled, "conv1")
    right = dense.count_params()
    return {
        "right": right,
        "right_text": str(right),
        "right_formatted": f"{right:,}",
        "no_bias": math.prod(dense.kernel.shape),
        "pooled": models.cnn().get_layer("dense").count_params(),
        "one_channel": h * w * units + units,
        "conv1_maps": h1 * w1 * c * units + units,
        "shrink": f"{h1} × {w1} to {h} × {w}",
        "in_h": unpooled.input_shape[1],
        "h1": h1,
    }


def test_05_3_right_answer_is_the_flattened_maps_times_the_units(dense_05_3, unpooled):
    """Worked out from the shapes, as the question asks, the answer is what Keras counts."""
    h, w, c = out_shape(unpooled, "flatten", "input")
    units = unpooled.get_layer("dense").units
    expect("05.3", h * w * c * units + units, CORRECT, dense_05_3["right_formatted"])


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ("right", CORRECT, "{right_formatted}"),
        ("no_bias", INCORRECT, "bias"),
        ("pooled", INCORRECT, "pooled baseline"),
        ("one_channel", INCORRECT, "every channel"),
        ("conv1_maps", INCORRECT, "shrinks {shrink}"),
        (1000, INCORRECT, "{in_h} → {h1}"),
        ("right_text", INCORRECT, "Expected a number"),
    ],
)
def test_05_3_dense_parameters(dense_05_3, answer, status, hint):
    computed("05.3", dense_05_3, answer, status, hint)


# --------------------------------------------------------------------------- 06


def _dropout_samples(rate, x, n=400_000):
    """What Keras' Dropout layer outputs for one input value, over many training steps."""
    layer = keras.layers.Dropout(rate, seed=0)
    return np.asarray(layer(np.full((n,), x, dtype=np.float32), training=True), dtype=np.float64)


def test_06_1_right_answer_is_what_keras_does():
    samples = _dropout_samples(nb06.DROPOUT_RATE_06_1, nb06.INPUT_06_1)
    mean, std = samples.mean(), samples.std()
    assert abs(mean - _06_1()[0]) < 0.02 and abs(std - _06_1()[1]) < 0.02


def _06_1():
    rate, x = nb06.DROPOUT_RATE_06_1, nb06.INPUT_06_1
    return x, x * math.sqrt(rate / (1 - rate))


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ("right", CORRECT, "spread"),
        ("kept_mean", INCORRECT, "also counts the steps"),
        ("shrunk_mean", INCORRECT, "scaled up"),
        ("no_spread", INCORRECT, "not 0"),
        ("variance", INCORRECT, "square root"),
        ("wrong_spread", INCORRECT, "E[output²]"),
        (3.0, INCORRECT, "a pair"),
    ],
)
def test_06_1_dropout_statistics(answer, status, hint):
    mean, std = _06_1()
    rate, x = nb06.DROPOUT_RATE_06_1, nb06.INPUT_06_1
    answers = {
        "right": (mean, std),
        "kept_mean": (x / (1 - rate), std),
        "shrunk_mean": (x * (1 - rate), std),
        "no_spread": (mean, 0.0),
        "variance": (mean, std**2),
        "wrong_spread": (mean, 1.0),
    }
    expect("06.1", answers.get(answer, answer), status, hint)


def _dropout(x, rate, rng):
    keep = rng.random(x.shape) >= rate
    return np.where(keep, x / (1 - rate), 0.0)


@pytest.mark.parametrize(
    ("fn", "status", "hint"),
    [
        (_dropout, CORRECT, "inverted"),
        (
            lambda x, rate, rng: np.where(rng.random(x.shape) >= rate, x, 0.0),
            INCORRECT,
            "Divide them by (1 - rate)",
        ),
        (
            lambda x, rate, rng: np.where(rng.random(x.shape) >= rate, x * (1 - rate), 0.0),
            INCORRECT,
            "you multiplied",
        ),
        (
            lambda x, rate, rng: np.where(rng.random(x.shape) < rate, x / (1 - rate), 0.0),
            INCORRECT,
            "not the share that is kept",
        ),
        (lambda x, rate, rng: x / (1 - rate), INCORRECT, "expected about"),
        (
            lambda x, rate, rng: np.where(
                rng.random(x.shape) >= rate, x * rng.random(x.shape) * 2, 0.0
            ),
            INCORRECT,
            "should all be",
        ),
        (lambda x, rate, rng: _dropout(x, rate, rng)[:10], INCORRECT, "changed the shape"),
        (42, INCORRECT, "Expected a function"),
    ],
)
def test_06_2_dropout_function(fn, status, hint):
    expect("06.2", fn, status, hint)


def _keras_early_stopping(losses, patience):
    """(last epoch trained, epoch whose weights are kept) by Keras' own EarlyStopping."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    callback = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, restore_best_weights=True
    )
    callback.set_model(model)
    model.stop_training = False  # what fit() sets before the first epoch
    callback.on_train_begin()
    for epoch, loss in enumerate(losses):
        model.layers[0].bias.assign([float(epoch + 1)])  # the weights name their epoch
        callback.on_epoch_end(epoch, {"val_loss": loss})
        if model.stop_training:
            break
    callback.on_train_end()
    return epoch + 1, int(round(float(model.layers[0].bias.numpy()[0])))


def test_06_3_answer_is_what_keras_early_stopping_does():
    right = _keras_early_stopping(nb06.VAL_LOSSES_06_3, nb06.PATIENCE_06_3)
    assert nb06.early_stop(nb06.VAL_LOSSES_06_3, nb06.PATIENCE_06_3) == right
    assert check("06.3", right).status == CORRECT


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ((8, 5), CORRECT, "patience trades"),
        ([8, 5], CORRECT, ""),
        ((10, 10), INCORRECT, "does not reach the last epoch"),
        ((10, 9), INCORRECT, "does not reach the last epoch"),
        ((8, 10), INCORRECT, "cannot see the future"),
        ((8, 8), INCORRECT, "not the last"),
        ((7, 5), INCORRECT, "stops after the last of them"),
        ((6, 3), INCORRECT, "Walk through the list"),
        (8, INCORRECT, "Expected a pair"),
    ],
)
def test_06_3_early_stopping_epochs(answer, status, hint):
    expect("06.3", answer, status, hint)


# --------------------------------------------------------------------------- 07


def _keras_moving_variance(images, batch, momentum, variance):
    """The moving variance Keras' BatchNormalization holds after one epoch of batches whose
    variance is ``variance`` (each batch: a channel of constant spread)."""
    layer = keras.layers.BatchNormalization(momentum=momentum)
    layer.build((None, 1))
    rng = np.random.default_rng(0)
    for _ in range(math.ceil(images / batch)):
        x = rng.standard_normal((batch, 1))
        x = (x - x.mean()) / x.std() * math.sqrt(variance)  # exactly this variance
        layer(x.astype(np.float32), training=True)
    return float(layer.moving_variance.numpy()[0])


def test_07_1_answer_is_what_keras_computes():
    keras_value = _keras_moving_variance(
        nb07.IMAGES_07_1, nb07.BATCH_07_1, nb07.MOMENTUM_07_1, nb07.VARIANCE_07_1
    )
    assert check("07.1", keras_value).status == CORRECT, keras_value


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ("right", CORRECT, "times the real variance"),
        ("target", INCORRECT, "where the average is heading"),
        ("left", INCORRECT, "share of the starting value"),
        ("one_step", INCORRECT, "That is one step"),
        (0.5, INCORRECT, "momentum**t"),
        ("not a number", INCORRECT, "Expected a number"),
    ],
)
def test_07_1_moving_variance(answer, status, hint):
    steps = math.ceil(nb07.IMAGES_07_1 / nb07.BATCH_07_1)
    left = nb07.MOMENTUM_07_1**steps
    answers = {
        "right": left + (1 - left) * nb07.VARIANCE_07_1,
        "target": nb07.VARIANCE_07_1,
        "left": left,
        "one_step": nb07.MOMENTUM_07_1 + (1 - nb07.MOMENTUM_07_1) * nb07.VARIANCE_07_1,
    }
    expect("07.1", answers.get(answer, answer), status, hint)


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        (7, CORRECT, "3 × 2 + 1"),
        (7.0, CORRECT, ""),
        (13, INCORRECT, "standard deviation"),
        (4, INCORRECT, "not by the variance"),
        (2, INCORRECT, "γ · x̂ + β"),
        (6, INCORRECT, "moving statistics"),
        (0, INCORRECT, "moving mean"),
    ],
)
def test_07_2_inference_output(answer, status, hint):
    expect("07.2", answer, status, hint)


def _bn(x, gamma, beta, epsilon):
    mean = x.mean(axis=(0, 1, 2))
    var = x.var(axis=(0, 1, 2))
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta


def _bn_any_rank(x, gamma, beta, epsilon):
    axes = tuple(range(x.ndim - 1))
    return (
        gamma
        * (x - x.mean(axis=axes, keepdims=True))
        / np.sqrt(x.var(axis=axes, keepdims=True) + epsilon)
        + beta
    )


@pytest.mark.parametrize(
    ("fn", "status", "hint"),
    [
        (_bn, CORRECT, "own batch mean"),
        (_bn_any_rank, CORRECT, ""),
        (
            lambda x, g, b, e: g * (x - x.mean()) / np.sqrt(x.var() + e) + b,
            INCORRECT,
            "per channel",
        ),
        (lambda x, g, b, e: _bn(x, 1.0, 0.0, e), INCORRECT, "scale by gamma"),
        (lambda x, g, b, e: _bn(x, g, b, 0.0), INCORRECT, "without it a channel"),
        (
            lambda x, g, b, e: g * (x - x.mean(axis=(0, 1, 2))) / (x.std(axis=(0, 1, 2)) + e) + b,
            INCORRECT,
            "under the square root",
        ),
        (lambda x, g, b, e: x, INCORRECT, "Not the expected values"),
        (lambda x, g, b, e: x[0], INCORRECT, "changed the shape"),
        ("bn", INCORRECT, "Expected a function"),
    ],
)
def test_07_3_batch_norm_function(fn, status, hint):
    expect("07.3", fn, status, hint)
