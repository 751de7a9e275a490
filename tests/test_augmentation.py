"""helpers.augmentation (notebook 08): the Cutout layer, the named augmentation layers, and
models.cnn's augment and head options."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from helpers import augmentation, models, training


def batch(n=32, value=None, seed=0):
    if value is not None:
        return np.full((n, 28, 28, 1), value, dtype=np.float32)
    return np.random.default_rng(seed).random((n, 28, 28, 1)).astype(np.float32)


# --------------------------------------------------------------------------- Cutout


def test_cutout_changes_nothing_at_prediction_time():
    x = batch()
    layer = augmentation.Cutout(8, seed=1)
    for training_flag in (None, False):
        assert np.array_equal(np.asarray(layer(x, training=training_flag)), x)


def test_cutout_erases_one_square_of_at_most_size_squared_pixels():
    x = batch(256, value=1.0)
    out = np.asarray(augmentation.Cutout(8, seed=3)(x, training=True))
    assert out.shape == x.shape
    assert set(np.unique(out)) <= {0.0, 1.0}
    erased = (out == 0).sum(axis=(1, 2, 3))
    assert erased.max() == 64 and erased.min() > 0
    # Some squares reach over a border (the centre is anywhere), so some erase fewer.
    assert (erased < 64).any()
    for image in out[..., 0]:
        rows, cols = np.nonzero(image == 0)
        # The erased pixels form one axis-aligned rectangle (the square, clipped).
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert height * width == len(rows) and height <= 8 and width <= 8


def test_cutout_is_seeded():
    x = batch()
    a = np.asarray(augmentation.Cutout(8, seed=5)(x, training=True))
    b = np.asarray(augmentation.Cutout(8, seed=5)(x, training=True))
    c = np.asarray(augmentation.Cutout(8, seed=6)(x, training=True))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_cutout_draws_new_squares_on_every_call():
    x = batch()
    layer = augmentation.Cutout(8, seed=5)
    assert not np.array_equal(
        np.asarray(layer(x, training=True)), np.asarray(layer(x, training=True))
    )


def test_cutout_rejects_a_bad_size():
    with pytest.raises(ValueError, match="size is 0; expected a whole number from 1 to 28"):
        augmentation.Cutout(0)


def test_a_model_with_cutout_saves_and_loads(tmp_path):
    training.set_seed(0)
    model = models.cnn(augment=("shift", "erase"))
    path = tmp_path / "augmented.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert models.architecture(loaded) == models.architecture(model)
    x = batch(8)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


# --------------------------------------------------------------------------- layers_for


def test_layers_for_builds_each_named_layer_in_order():
    built = augmentation.layers_for(["shift", "flip", "rotate", "zoom", "erase"])
    assert [type(layer) for layer in built] == [
        layers.RandomTranslation,
        layers.RandomFlip,
        layers.RandomRotation,
        layers.RandomZoom,
        augmentation.Cutout,
    ]
    assert augmentation.layers_for([]) == []


def test_shift_moves_whole_pixels_by_at_most_max_shift():
    x = np.zeros((64, 28, 28, 1), dtype=np.float32)
    x[:, 14, 14, 0] = 1.0  # one bright pixel in the middle
    (shift,) = augmentation.layers_for(["shift"], max_shift=3)
    out = np.asarray(shift(x, training=True))
    assert set(np.unique(out)) <= {0.0, 1.0}  # nearest: no blurred, fractional values
    for image in out[..., 0]:
        rows, cols = np.nonzero(image)
        assert len(rows) == 1
        assert abs(rows[0] - 14) <= 3 and abs(cols[0] - 14) <= 3


@pytest.mark.parametrize(
    "names, message",
    [
        ("shift", "names is the string 'shift'; expected a list"),
        (["shfit"], "augmentation is 'shfit'; expected one of"),
    ],
)
def test_layers_for_rejects_bad_names(names, message):
    with pytest.raises(ValueError, match=message):
        augmentation.layers_for(names)


# --------------------------------------------------------------------------- models.cnn


def test_cnn_without_options_is_the_baseline():
    assert models.architecture(models.cnn(augment=(), head="flatten")) == models.architecture(
        models.baseline_cnn()
    )


def test_cnn_augment_puts_the_layers_in_front_and_keeps_the_weights():
    plain, augmented = models.cnn(), models.cnn(augment=("shift", "erase"))
    assert [type(layer) for layer in augmented.layers[1:3]] == [
        layers.RandomTranslation,
        augmentation.Cutout,
    ]
    assert augmented.count_params() == plain.count_params()
    assert models.architecture(augmented)[3:] == models.architecture(plain)[1:]


def test_cnn_gap_head_replaces_flatten():
    gap = models.cnn(head="gap")
    assert isinstance(gap.get_layer("average"), layers.GlobalAveragePooling2D)
    assert "flatten" not in [layer.name for layer in gap.layers]
    filters, units = 32, 128
    assert gap.get_layer("dense").count_params() == filters * units + units


def test_cnn_rejects_an_unknown_head():
    with pytest.raises(ValueError, match=r"head is 'avg'; expected one of \('flatten', 'gap'\)"):
        models.cnn(head="avg")
