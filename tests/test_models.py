"""helpers.models: the baseline's architecture and the tools that look inside a model."""

from __future__ import annotations

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


def test_baseline_architecture(baseline):
    assert baseline.count_params() == 113_386
    assert baseline.get_layer("conv1").count_params() == 3 * 3 * 1 * 32 + 32
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in baseline.layers}
    assert shapes["conv1"] == (26, 26, 32)
    assert shapes["pool2"] == (5, 5, 32)
    assert shapes["flatten"] == (800,)
    assert shapes["probabilities"] == (10,)


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
        models.layer_outputs(baseline, np.zeros((1, 28, 28, 1), dtype=np.uint8))


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
