"""helpers.models.capstone_cnn, notebook 10's model: its structure, its parameter count
and the errors it gives for bad arguments."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from helpers import models


def kinds(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def test_defaults_build_the_capstone():
    model = models.capstone_cnn()
    assert model.name == "capstone_cnn"
    assert model.count_params() == 871_978
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert models.conv_layer_names(model) == ["conv1_1", "conv1_2", "conv2_1", "conv2_2"]
    assert model.get_layer("flatten").output.shape[1:] == (7 * 7 * 64,)
    assert model.get_layer("dense").count_params() == 802_816  # no bias: BN follows
    assert kinds(model).count("BatchNormalization") == 5
    assert kinds(model).count("MaxPooling2D") == 2
    assert kinds(model).count("Dropout") == 3
    assert model.optimizer is not None, "the model is returned compiled"


def test_convolutions_have_no_bias_before_batch_norm():
    model = models.capstone_cnn()
    for name in models.conv_layer_names(model):
        assert model.get_layer(name).use_bias is False


def test_no_augmentation_by_default():
    assert not {"RandomFlip", "RandomTranslation"} & set(kinds(models.capstone_cnn()))


def test_augmentation_layers_are_optional_and_only_active_in_training():
    model = models.capstone_cnn(flip=True, max_shift=2)
    assert model.get_layer("flip").mode == "horizontal"
    assert model.get_layer("shift").height_factor == pytest.approx(2 / 28)
    assert model.count_params() == 871_978, "augmentation adds no parameters"
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    augment = keras.Model(model.input, model.get_layer("shift").output)
    np.testing.assert_array_equal(np.asarray(augment(x, training=False)), x)


@pytest.mark.parametrize(
    ("kwargs", "params"),
    [
        # conv 3*3*1*16 + BN 4*16, conv 3*3*16*32 + BN 4*32, dense 7*7*32*16 + BN 4*16, 16*10+10
        (dict(widths=(16, 32), convs_per_block=1, dense_units=16), 30_266),
        # three blocks: 28 -> 14 -> 7 -> 3, so Flatten gives 3*3*128 = 1,152 values
        (dict(widths=(32, 64, 128), convs_per_block=1), 391_850),
        (dict(conv_dropout=0.0, dense_dropout=0.0), 871_978),
    ],
)
def test_variants(kwargs, params):
    assert models.capstone_cnn(**kwargs).count_params() == params


def test_without_dropout_there_are_no_dropout_layers():
    model = models.capstone_cnn(conv_dropout=0.0, dense_dropout=0.0)
    assert "Dropout" not in kinds(model)


def test_accepts_a_learning_rate_schedule():
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=100)
    model = models.capstone_cnn(learning_rate=schedule)
    assert float(model.optimizer.learning_rate) == pytest.approx(2e-3)


def test_trains_one_step_and_predicts_probabilities():
    rng = np.random.default_rng(0)
    x = rng.random((8, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, 8)
    model = models.capstone_cnn(flip=True, max_shift=1)
    model.train_on_batch(x, y)
    probabilities = np.asarray(model.predict(x, verbose=0))
    assert probabilities.shape == (8, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(widths=()), "widths is ()"),
        (dict(widths=32), "widths is 32"),
        (dict(widths=(32, 0)), "widths is (32, 0)"),
        (dict(widths=(32, 64.0)), "non-empty tuple of positive ints"),
        (dict(widths=(8, 16, 32, 64)), "at most 3 blocks"),
        (dict(convs_per_block=0), "convs_per_block is 0; expected a whole number >= 1"),
        (dict(convs_per_block=2.0), "convs_per_block is 2.0"),
        (dict(dense_units=0), "dense_units is 0"),
        (dict(dense_units=True), "dense_units is True"),
        (dict(conv_dropout=1.0), "conv_dropout is 1.0; expected a dropout rate in [0, 1)"),
        (dict(dense_dropout=-0.1), "dense_dropout is -0.1"),
        (dict(flip="yes"), "flip is 'yes'; expected True or False"),
        (dict(max_shift=-1), "max_shift is -1"),
        (dict(max_shift=15), "max_shift is 15; expected a whole number from 0 to 14"),
        (dict(learning_rate=0.0), "learning_rate is 0.0"),
        (dict(bn_momentum=1.0), "bn_momentum is 1.0"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError) as err:
        models.capstone_cnn(**kwargs)
    assert message in str(err.value)


def test_bn_momentum_reaches_every_batch_norm_layer():
    model = models.capstone_cnn(widths=(8, 16), bn_momentum=0.9)
    momenta = {
        layer.name: layer.momentum
        for layer in model.layers
        if isinstance(layer, layers.BatchNormalization)
    }
    assert set(momenta) == {"bn1_1", "bn1_2", "bn2_1", "bn2_2", "bn_dense"}
    assert set(momenta.values()) == {0.9}
    assert models.capstone_cnn(widths=(8,)).get_layer("bn1_1").momentum == 0.99  # Keras' default


def test_layers_are_named_for_inspection():
    model = models.capstone_cnn(widths=(8, 16), convs_per_block=1, flip=True)
    names = [layer.name for layer in model.layers]
    assert names[:2] == ["image", "flip"]
    assert {"conv1_1", "bn1_1", "relu1_1", "pool1", "drop1", "conv2_1", "pool2"} <= set(names)
    assert names[-1] == "probabilities"
    assert isinstance(model.get_layer("probabilities"), layers.Dense)


# ------------------------------------------------------------ notebook 10's parameter rules


@pytest.mark.parametrize(
    ("name", "good", "low", "high"),
    [("BASELINE_TRAIN_SIZE", 54_000, 100, 54_000), ("BASELINE_EPOCHS", 5, 1, 500)],
)
def test_baseline_parameter_rules(name, good, low, high):
    from helpers.params import ParameterError, check_params

    for value in (good, low, high):
        check_params(**{name: value})
    for bad in (low - 1, high + 1, float(good), True):
        with pytest.raises(ParameterError) as err:
            check_params(**{name: bad})
        assert f"{name} = {bad!r}" in str(err.value) and "the baseline's" in str(err.value)
