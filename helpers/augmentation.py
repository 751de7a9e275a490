"""Data augmentation: random changes to the training images, as Keras layers.

Introduced in notebook 08, which writes each augmentation it teaches and its own
``Cutout`` layer, and checks that this module's gives the same images. Random layers
are active only in training (``model.fit`` calls them with ``training=True``); in
``evaluate`` and ``predict`` they pass the images through unchanged.

:func:`layers_for` turns names such as ``("shift", "erase")`` into the layers that
:func:`helpers.models.cnn` puts in front of the baseline (its ``augment`` option),
which is how notebook 08's experiment and its seed sweep build their variants.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers, ops

from helpers import checks

__all__ = ["AUGMENTATIONS", "ERASE_SIZE", "MAX_SHIFT", "Cutout", "layers_for"]

#: The augmentations :func:`layers_for` knows, by name.
AUGMENTATIONS = ("shift", "flip", "rotate", "zoom", "erase")
#: Largest training shift, in pixels: the largest shift notebooks 05 and 08 test with.
MAX_SHIFT = 4
#: Side of the square :class:`Cutout` erases, in pixels.
ERASE_SIZE = 8


@keras.saving.register_keras_serializable(package="course")
class Cutout(layers.Layer):
    """Cutout (DeVries and Taylor, 2017): set one ``size`` x ``size`` square of each image to 0.

    Introduced in notebook 08, which writes the same layer. The square's centre is
    drawn uniformly over the image, so that near a border part of the square falls
    outside and less is erased (DeVries and Taylor, 2017). Only in training: called
    with ``training`` false or unset, the layer returns its input.
    """

    def __init__(self, size: int = ERASE_SIZE, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.size = checks.whole("size", size, 1, 28, example=ERASE_SIZE)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        shape = ops.shape(images)
        batch, height, width = shape[0], shape[1], shape[2]
        top = keras.random.randint((batch, 1, 1, 1), 0, height, seed=self.seed_generator)
        left = keras.random.randint((batch, 1, 1, 1), 0, width, seed=self.seed_generator)
        top, left = top - self.size // 2, left - self.size // 2
        rows = ops.reshape(ops.arange(height), (1, -1, 1, 1))
        cols = ops.reshape(ops.arange(width), (1, 1, -1, 1))
        inside = (
            (rows >= top) & (rows < top + self.size) & (cols >= left) & (cols < left + self.size)
        )
        return ops.where(inside, ops.zeros_like(images), images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return super().get_config() | {"size": self.size, "seed": self.seed}


def layers_for(names: Sequence[str], max_shift: int = MAX_SHIFT) -> list[layers.Layer]:
    """The augmentation layers named in ``names``, in that order (introduced in notebook 08).

    - ``"shift"``: RandomTranslation by up to ``max_shift`` pixels in each direction,
      the uncovered border filled with 0 (the background), nearest-pixel, so that the
      image moves by whole pixels as :func:`helpers.experiments.shift_images` moves it;
    - ``"flip"``: RandomFlip("horizontal"), a mirror image half of the time;
    - ``"rotate"``: RandomRotation by up to 10 degrees either way;
    - ``"zoom"``: RandomZoom in or out by up to 10%;
    - ``"erase"``: :class:`Cutout` of an :data:`ERASE_SIZE`-pixel square.

    Each layer draws from its own seed generator, seeded from Keras' global seed when
    it is built (call :func:`helpers.training.set_seed` first). An empty ``names``
    gives no layers: no augmentation.
    """
    if isinstance(names, str):
        raise ValueError(
            f"names is the string {names!r}; expected a list of augmentations, e.g. [{names!r}]"
        )
    names = [checks.choice("augmentation", name, AUGMENTATIONS) for name in names]
    max_shift = checks.whole("max_shift", max_shift, 1, 14, example=MAX_SHIFT)
    fraction = max_shift / 28
    build = {
        "shift": lambda: layers.RandomTranslation(
            fraction, fraction, fill_mode="constant", interpolation="nearest", name="shift"
        ),
        "flip": lambda: layers.RandomFlip("horizontal", name="flip"),
        "rotate": lambda: layers.RandomRotation(10 / 360, fill_mode="constant", name="rotate"),
        "zoom": lambda: layers.RandomZoom(0.1, fill_mode="constant", name="zoom"),
        "erase": lambda: Cutout(ERASE_SIZE, name="erase"),
    }
    return [build[name]() for name in names]
