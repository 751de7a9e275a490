"""Checks for the exercises of notebook 08 (data augmentation and invariance)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import CORRECT, INCORRECT, exercise

_BATCH = 16
_ZOOM = 0.5


def _zoom_shape() -> tuple[int, ...]:
    """What Keras' RandomZoom returns, in training, for a batch of 16 course images."""
    from keras import layers

    zoom = layers.RandomZoom(_ZOOM, fill_mode="constant", seed=0)
    images = np.zeros((_BATCH, 28, 28, 1), dtype=np.float32)
    return tuple(int(d) for d in zoom(images, training=True).shape)


def _as_shape(value) -> tuple[int, ...] | None:
    try:
        return tuple(int(d) for d in value)
    except (TypeError, ValueError):
        return None


@exercise("08.1")
def zoom_shape_and_range(answer):
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return INCORRECT, (
            "Expected a pair (shape, (lowest value, highest value)), e.g. "
            f"((8, 32, 32, 3), (-1.0, 1.0)), the form only; got {answer!r}."
        )
    shape, value_range = _as_shape(answer[0]), answer[1]
    if shape is None:
        return (
            INCORRECT,
            f"The shape is a tuple of whole numbers, e.g. (8, 32, 32, 3); got {answer[0]!r}.",
        )
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        return INCORRECT, f"The range is a pair of numbers (lowest, highest); got {value_range!r}."
    expected = _zoom_shape()
    if len(shape) == 3:
        return (
            INCORRECT,
            "Include the batch axis: a batch of 16 images, so the shape starts with 16.",
        )
    if shape != expected:
        return INCORRECT, (
            "A zoom layer keeps the image's size: zooming in enlarges the centre and crops "
            "what falls outside, zooming out shrinks the image and fills the border."
        )
    if high > 1.0:
        return INCORRECT, (
            "The shape is right. Each new pixel is a weighted mean of neighbouring pixels, "
            "with weights that add up to 1: can a mean of values in [0, 1] be larger than 1?"
        )
    if (low, high) != (0.0, 1.0):
        return INCORRECT, (
            "The shape is right. The border is filled with 0, and a mean of values between 0 "
            "and 1 stays between them: what are the smallest and largest possible values?"
        )
    return CORRECT, (
        "the layer keeps the size; interpolation takes weighted means of pixels in [0, 1] and "
        "the border is filled with 0, so the values stay in [0, 1]."
    )


def _reference_erase(image: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    out = image.copy()
    rows, cols = image.shape
    r0, r1 = max(top, 0), min(top + size, rows)
    c0, c1 = max(left, 0), min(left + size, cols)
    if r0 < r1 and c0 < c1:
        out[r0:r1, c0:c1] = 0
    return out


@exercise("08.2")
def erase_function(fn):
    if not callable(fn):
        return (
            INCORRECT,
            f"Expected a function erase(image, top, left, size), got {type(fn).__name__}.",
        )
    rng = np.random.default_rng(8)
    image = rng.random((28, 28)).astype(np.float32) + 0.1  # no zeros before erasing
    cases = [
        ((10, 10, 8), "a square inside the image"),
        ((0, 0, 8), "a square in the top-left corner"),
        ((24, 20, 8), "a square reaching over the bottom border"),
        ((-3, 5, 8), "a square reaching over the top border (top < 0)"),
        ((6, -5, 8), "a square reaching over the left border (left < 0)"),
        ((-10, -10, 8), "a square wholly outside the image"),
        ((3, 4, 1), "a square of one pixel"),
    ]
    for (top, left, size), what in cases:
        original = image.copy()
        got = fn(image, top, left, size)
        if not np.array_equal(image, original):
            return INCORRECT, (
                f"Your function changed the image it was given ({what}); work on a copy "
                "(image.copy())."
            )
        got = np.asarray(got)
        if got.shape != image.shape:
            return INCORRECT, f"For {what} it returned shape {got.shape}; expected {image.shape}."
        expected = _reference_erase(image, top, left, size)
        if not np.array_equal(got, expected):
            wrong = int((got != expected).sum())
            hint = ""
            if top < 0 or left < 0:
                hint = (
                    " A negative slice start counts from the end in NumPy: clip the square to "
                    "the image first."
                )
            return INCORRECT, (
                f"For {what} (top={top}, left={left}, size={size}) {wrong} pixels differ from "
                f"the expected image.{hint}"
            )
    return CORRECT, "the square is erased where it lies inside the image, and nowhere else."


_SITUATIONS = {
    "off centre": ("shift", "a garment away from the centre is the same garment, moved"),
    "tilted": ("rotate", "a slightly askew photo is the garment turned by a few degrees"),
    "distance": ("zoom", "closer or further away makes the garment larger or smaller"),
    "hidden": ("erase", "a covered part is a part of the image missing"),
}


@exercise("08.3")
def choose_augmentations(answer):
    from helpers.augmentation import AUGMENTATIONS

    if not isinstance(answer, dict):
        return INCORRECT, (
            f"Expected a dict such as {{'off centre': 'shift', ...}}, got {type(answer).__name__}."
        )
    missing = sorted(set(_SITUATIONS) - set(answer))
    if missing:
        return INCORRECT, f"Answer every situation; missing: {missing}."
    unknown = {k: v for k, v in answer.items() if v not in AUGMENTATIONS}
    if unknown:
        return INCORRECT, f"Use the names {list(AUGMENTATIONS)}; got {unknown}."
    for key, (expected, _why) in _SITUATIONS.items():
        if answer[key] != expected:
            if answer[key] == "flip":
                return INCORRECT, (
                    f"{key!r}: a mirror image is not what the situation describes; which change "
                    "does it really make to the photo?"
                )
            return (
                INCORRECT,
                f"{key!r}: not {answer[key]!r}. Think of what the situation does to the photo.",
            )
    return CORRECT, "; ".join(f"{k}: {v[1]}" for k, v in _SITUATIONS.items()) + "."
