"""Checks for the exercises of notebook 01 (data preparation)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import CORRECT, INCORRECT, exercise, number, shape


@exercise("01.1")
def pixels_per_image(answer):
    return number(
        answer,
        784,
        hints={
            28: "28 is one side of the image; how many pixels does the whole square hold?",
            60000: "That is the number of training images, not the pixels in one image.",
            "default": "An image is 28 pixels high and 28 pixels wide.",
        },
        why="28 × 28 = 784 grey values, which is also the length of a flattened image.",
    )


@exercise("01.2")
def validation_per_class(answer):
    return number(
        answer,
        600,
        hints={
            6000: "6,000 is the whole validation set; the question asks per class.",
            5400: "5,400 is what stays in training for each class; the validation part is the rest.",
            "default": "Each class has 6,000 training images, and the split takes the same "
            "fraction of every class.",
        },
        why="A stratified 10% split takes 10% of each class's 6,000 images.",
    )


@exercise("01.3")
def batch_shape(answer):
    return shape(
        answer,
        (64, 28, 28, 1),
        hints={
            (64, 28, 28): "Conv2D expects a channel axis: the images are (28, 28, 1).",
            (28, 28, 1): "That is one image; a batch adds the batch axis in front.",
            (64, 784): "The pipeline does not flatten the images: they keep their 2-D layout.",
            "default": "A batch is (batch size, height, width, channels).",
        },
        why="batch × height × width × channels.",
    )


@exercise("01.4")
def normalize_function(fn):
    if not callable(fn):
        return INCORRECT, f"Expected a function, got {type(fn).__name__}."
    images = np.array([[[0, 51], [204, 255]]], dtype=np.uint8)
    out = np.asarray(fn(images.copy()))
    if out.shape != images.shape:
        return INCORRECT, f"Your function changed the shape from {images.shape} to {out.shape}."
    if np.issubdtype(out.dtype, np.integer):
        return INCORRECT, (
            "The result is still integers: 51 // 255 is 0. Convert to float before dividing "
            "(images.astype('float32') / 255)."
        )
    if out.dtype != np.float32:
        return INCORRECT, (
            f"The values are right in spirit but the dtype is {out.dtype}; Keras works in "
            "float32, which also halves the memory of float64."
        )
    if np.allclose(out, images / 256.0):
        return (
            INCORRECT,
            "Divide by 255, the largest pixel value, so that white maps to exactly 1.0.",
        )
    if not np.allclose(out, images / 255.0):
        return INCORRECT, "The values should be pixel / 255: 0 → 0.0, 51 → 0.2, 255 → 1.0."
    return CORRECT, "Pixels now lie in [0, 1] as float32."
