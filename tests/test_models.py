"""helpers.models: the baseline's architecture and the tools that look inside a model."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from helpers import models
from helpers.data import to_model_input


@pytest.fixture(scope="module")
def baseline():
    keras.utils.set_random_seed(0)
    return models.baseline_cnn()


@pytest.fixture(scope="module")
def images(fashion_mnist):
    """Five real Fashion-MNIST test images, model-ready."""
    _, (x_test, _) = fashion_mnist
    return to_model_input(x_test[:5])


def weights_of(layer) -> int:
    """A Conv2D's or Dense layer's parameters, from its settings and its input's shape."""
    inputs = int(layer.input.shape[-1])
    if isinstance(layer, keras.layers.Conv2D):
        height, width = layer.kernel_size
        return height * width * inputs * layer.filters + layer.filters
    return inputs * layer.units + layer.units


def test_baseline_architecture(baseline):
    assert tuple(baseline.input_shape[1:]) == models.INPUT_SHAPE
    assert baseline.get_layer("conv1").count_params() == 3 * 3 * 1 * 32 + 32
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in baseline.layers}
    assert shapes["conv1"] == (26, 26, 32)
    assert shapes["pool2"] == (5, 5, 32)
    assert shapes["flatten"] == (5 * 5 * 32,)
    assert shapes["probabilities"] == (models.NUM_CLASSES,)
    weighted = ["conv1", "conv2", "dense", "probabilities"]
    assert [layer.name for layer in baseline.layers if layer.weights] == weighted
    by_hand = {name: weights_of(baseline.get_layer(name)) for name in weighted}
    assert by_hand["dense"] == 5 * 5 * 32 * 128 + 128, "the flattened maps feed 128 units"
    for name, count in by_hand.items():
        assert baseline.get_layer(name).count_params() == count, name
    assert baseline.count_params() == sum(by_hand.values())


def notebook_02_baseline() -> keras.Model:
    """The baseline as notebook 02 writes it, layer by layer, with Keras' own layer names."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(models.INPUT_SHAPE),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(models.NUM_CLASSES, activation="softmax"),
        ]
    )


def test_architecture_has_one_line_per_layer_after_the_input(baseline):
    lines = models.architecture(baseline)
    assert lines[0] == f"input {models.INPUT_SHAPE}"
    kinds = [line.split()[0] for line in lines[1:]]
    assert kinds == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dense",
    ]
    assert all(isinstance(line, str) for line in lines)
    assert not any(layer.name in " ".join(lines) for layer in baseline.layers[1:]), "no names"


def test_architecture_of_the_sequential_and_the_functional_baseline_agree(baseline):
    assert models.architecture(notebook_02_baseline()) == models.architecture(baseline)
    assert models.architecture(models.cnn()) == models.architecture(baseline)
    keras.utils.set_random_seed(1)
    assert models.architecture(models.baseline_cnn()) == models.architecture(baseline)


@pytest.mark.parametrize(
    "other",
    [
        {"dense_units": 64},
        {"filters": (32, 16)},
        {"filters": (32, 32, 32)},
        {"pooling": "average"},
        {"pooling": "strided"},
        {"batch_norm": True},
        {"dense_dropout": 0.5},
        {"conv_dropout": 0.25},
    ],
    ids=lambda change: "-".join(f"{k}={v}" for k, v in change.items()),
)
def test_architecture_tells_every_variant_from_the_baseline(baseline, other):
    assert models.architecture(models.cnn(**other)) != models.architecture(baseline)


def test_architecture_tells_other_settings_apart():
    dropout = [models.architecture(models.cnn(dense_dropout=r)) for r in (0.25, 0.5)]
    assert dropout[0] != dropout[1]
    relu = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="relu")])
    tanh = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="tanh")])
    wider = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2, activation="relu")])
    assert len({tuple(models.architecture(m)) for m in (relu, tanh, wider)}) == 3


def test_architecture_ignores_names_and_learning_rates():
    a = models.cnn(name="a", learning_rate=1e-3)
    b = models.cnn(name="b", learning_rate=1e-2)
    assert models.architecture(a) == models.architecture(b)


def test_architecture_refuses_what_is_not_a_model():
    with pytest.raises(TypeError, match="^model is a list; expected a Keras model"):
        models.architecture([keras.layers.Dense(2)])


# --------------------------------------------------------------------------- builders' checks


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        (
            {"pooling": "min"},
            "pooling is 'min'; expected one of ('max', 'average', 'strided', 'none')",
        ),
        (
            {"filters": ()},
            "filters is (); expected a non-empty tuple of positive ints, e.g. (32, 32)",
        ),
        (
            {"filters": (32, 0)},
            "filters is (32, 0); expected a non-empty tuple of positive ints, e.g. (32, 32)",
        ),
        ({"dense_units": 0}, "dense_units is 0; expected a whole number >= 1, e.g. 128"),
        ({"dense_units": 64.0}, "dense_units is 64.0; expected a whole number >= 1, e.g. 128"),
        ({"batch_norm": 1}, "batch_norm is 1; expected True or False"),
        (
            {"conv_dropout": 1.0},
            "conv_dropout is 1.0; expected a dropout rate in [0, 1), e.g. 0.25",
        ),
        (
            {"dense_dropout": True},
            "dense_dropout is True; expected a dropout rate in [0, 1), e.g. 0.25",
        ),
        ({"learning_rate": 0}, "learning_rate is 0; expected a number > 0 and <= 1, e.g. 0.001"),
        (
            {"learning_rate": float("nan")},
            "learning_rate is nan; expected a number > 0 and <= 1, e.g. 0.001",
        ),
    ],
)
def test_cnn_rejects_bad_settings(kwargs, text):
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        models.cnn(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        (
            {"widths": (32, 0)},
            "widths is (32, 0); expected a non-empty tuple of positive ints, e.g. (32, 64), one per block",
        ),
        ({"convs_per_block": 0}, "convs_per_block is 0; expected a whole number >= 1, e.g. 2"),
        ({"dense_units": -1}, "dense_units is -1; expected a whole number >= 1, e.g. 256"),
        ({"max_shift": 15}, "max_shift is 15; expected a whole number from 0 to 14, e.g. 2"),
        ({"flip": "yes"}, "flip is 'yes'; expected True or False"),
        (
            {"conv_dropout": -0.1},
            "conv_dropout is -0.1; expected a dropout rate in [0, 1), e.g. 0.25",
        ),
    ],
)
def test_capstone_cnn_rejects_bad_settings(kwargs, text):
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        models.capstone_cnn(**kwargs)


def test_capstone_cnn_refuses_a_fourth_block():
    with pytest.raises(
        ValueError, match=r"^widths is \(8, 8, 8, 8\) \(4 blocks\); expected at most 3"
    ):
        models.capstone_cnn(widths=(8, 8, 8, 8))


def test_feature_layer_names(baseline):
    assert models.feature_layer_names(baseline) == ["conv1", "pool1", "conv2", "pool2"]
    assert models.conv_layer_names(baseline) == ["conv1", "conv2"]


def test_feature_layer_names_of_other_variants():
    average = models.cnn(pooling="average")
    assert models.feature_layer_names(average) == ["conv1", "pool1", "conv2", "pool2"]
    assert models.feature_layer_names(models.cnn(pooling="strided")) == ["conv1", "conv2"]


def test_conv_kernels(baseline):
    k1 = models.conv_kernels(baseline, "conv1")
    assert k1.shape == (3, 3, 1, 32)
    assert models.conv_kernels(baseline, "conv2").shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(k1, np.asarray(baseline.get_layer("conv1").kernel))


def test_conv_kernels_of_a_layer_that_is_not_a_convolution_lists_the_valid_names(baseline):
    with pytest.raises(ValueError, match=r"no Conv2D layer named 'pool1'.*\['conv1', 'conv2'\]"):
        models.conv_kernels(baseline, "pool1")


def test_layer_outputs_shapes(baseline, images):
    outputs = models.layer_outputs(baseline, images)
    assert list(outputs) == ["conv1", "pool1", "conv2", "pool2"]
    assert outputs["conv1"].shape == (5, 26, 26, 32)
    assert outputs["pool1"].shape == (5, 13, 13, 32)
    assert outputs["conv2"].shape == (5, 11, 11, 32)
    assert outputs["pool2"].shape == (5, 5, 5, 32)
    assert (outputs["conv1"] >= 0).all(), "conv1 ends with a ReLU"


def test_layer_outputs_match_the_model_and_keep_the_requested_order(baseline, images):
    outputs = models.layer_outputs(baseline, images, ["probabilities", "conv1"])
    assert list(outputs) == ["probabilities", "conv1"]
    expected = baseline.predict(images, verbose=0)
    np.testing.assert_allclose(outputs["probabilities"], expected, rtol=1e-5, atol=1e-6)


def test_pooling_is_the_max_of_each_block(baseline, images):
    outputs = models.layer_outputs(baseline, images[:1], ["conv1", "pool1"])
    conv = outputs["conv1"][0]
    by_hand = conv.reshape(13, 2, 13, 2, 32).max(axis=(1, 3))
    np.testing.assert_array_equal(outputs["pool1"][0], by_hand)


@pytest.mark.parametrize("one_image", ["2d", "3d"])
def test_layer_outputs_accepts_one_image(baseline, images, one_image):
    image = images[0, :, :, 0] if one_image == "2d" else images[0]
    outputs = models.layer_outputs(baseline, image, ["conv1"])
    assert outputs["conv1"].shape == (1, 26, 26, 32)


def test_layer_outputs_unknown_layer_lists_the_valid_names(baseline, images):
    with pytest.raises(ValueError, match=r"no layer named 'conv3'.*'conv1', 'pool1'"):
        models.layer_outputs(baseline, images, ["conv3"])


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [((28, 27), np.float32), ((2, 32, 32, 1), np.float32), ((2, 28, 28, 3), np.float32)],
)
def test_layer_outputs_wrong_image_shape_says_what_is_expected(baseline, shape, dtype):
    with pytest.raises(ValueError, match=r"expected one image of shape \(28, 28\)"):
        models.layer_outputs(baseline, np.zeros(shape, dtype=dtype))


def test_layer_outputs_refuses_unscaled_pixels(baseline):
    with pytest.raises(ValueError, match="to_model_input"):
        models.layer_outputs(baseline, np.zeros((1, *models.INPUT_SHAPE), dtype=np.uint8))


def test_feature_extractor_shares_the_weights(baseline):
    extractor = models.feature_extractor(baseline, ["conv1"])
    assert extractor.get_layer("conv1") is baseline.get_layer("conv1")


def test_feature_extractor_rejects_bad_names(baseline):
    with pytest.raises(TypeError, match=r"expected a list of names, e.g. \['conv1'\]"):
        models.feature_extractor(baseline, "conv1")
    with pytest.raises(ValueError, match="layer_names is empty"):
        models.feature_extractor(baseline, [])


def test_helpers_refuse_something_that_is_not_a_model():
    with pytest.raises(TypeError, match="expected a Keras model"):
        models.feature_layer_names("baseline")
    with pytest.raises(TypeError, match="expected a Keras model"):
        models.conv_kernels(None, "conv1")
    with pytest.raises(TypeError, match="^model is a NoneType; expected a Keras model"):
        models.feature_extractor(None)


def test_capstone_without_batch_norm_has_biases_instead():
    """Notebook 10's ablation: without BN, every convolution and the dense layer get a bias."""
    with_bn = models.capstone_cnn()
    without = models.capstone_cnn(batch_norm=False)
    kinds = [type(layer).__name__ for layer in without.layers]
    assert "BatchNormalization" not in kinds
    assert "BatchNormalization" in [type(layer).__name__ for layer in with_bn.layers]
    for name in ("conv1_1", "conv1_2", "conv2_1", "conv2_2", "dense"):
        assert without.get_layer(name).use_bias and not with_bn.get_layer(name).use_bias
    assert without.output_shape == with_bn.output_shape == (None, 10)
    with pytest.raises(ValueError, match="batch_norm is 'no'"):
        models.capstone_cnn(batch_norm="no")
