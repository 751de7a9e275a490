"""Checks for the exercises of notebook 05 (pooling)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import CORRECT, INCORRECT, exercise, number, shape


@exercise("05.1")
def pooled_shape(answer):
    return shape(
        answer,
        (13, 13, 32),
        hints={
            (26, 26, 32): "That is the input. A 2 × 2 window moving 2 pixels at a time halves "
            "the height and the width.",
            (13, 13, 16): "Pooling works on each channel separately: the number of channels "
            "stays 32.",
            (24, 24, 32): "That is what a second 3 × 3 convolution would give; the question is "
            "about the pooling layer.",
            (12, 12, 32): "26 / 2 = 13: the pooling layer has no 3 × 3 kernel that loses a border.",
            "default": "Answer (height, width, channels) of the output.",
        },
        why="26 / 2 = 13 in each direction, and pooling keeps every channel.",
    )


def _reference_max_pool(a: np.ndarray) -> np.ndarray:
    h, w = a.shape
    return a.reshape(h // 2, 2, w // 2, 2).max(axis=(1, 3))


@exercise("05.2")
def max_pool_function(fn):
    if not callable(fn):
        return INCORRECT, f"Expected a function, got {type(fn).__name__}."
    rng = np.random.default_rng(5)
    cases = [
        np.array([[1, 3, 2, 0], [4, 2, 1, 1], [0, 0, 5, 6], [1, 2, 7, 8]], dtype=np.float32),
        rng.normal(size=(6, 8)).astype(np.float32),
        -rng.random((4, 4)).astype(np.float32),  # all negative: a zero start would be wrong
    ]
    for a in cases:
        out = np.asarray(fn(a.copy()))
        expected = _reference_max_pool(a)
        if out.shape == (a.shape[0] - 1, a.shape[1] - 1):
            return INCORRECT, (
                f"For a {a.shape} input you returned {out.shape}: the window moved one pixel at "
                "a time. With stride 2 the 2 × 2 windows do not overlap."
            )
        if out.shape != expected.shape:
            return INCORRECT, (
                f"For a {a.shape} input the result should be {expected.shape}, one value per "
                f"2 × 2 window; you returned {out.shape}."
            )
        if np.allclose(out, a.reshape(out.shape[0], 2, out.shape[1], 2).mean(axis=(1, 3))):
            return INCORRECT, "That is average pooling: take the largest value of each window."
        if not np.allclose(out, expected):
            if (expected < 0).any() and np.allclose(out, np.maximum(expected, 0)):
                return INCORRECT, (
                    "Where a window holds only negative values you returned 0: start the "
                    "maximum from the window's own values, not from 0 (all-negative windows "
                    "happen as soon as there is no ReLU before the pooling)."
                )
            return INCORRECT, (
                f"For\n{a.round(2)}\nthe 2 × 2 maxima are\n{expected.round(2)}\nbut you "
                f"returned\n{out.round(2)}."
            )
    return CORRECT, "Each output pixel is the largest value of its own 2 × 2 window."


@exercise("05.3")
def dense_parameters_without_pooling(answer):
    return number(
        answer,
        24 * 24 * 32 * 128 + 128,
        hints={
            24 * 24 * 32 * 128: "Close: each of the 128 units also has a bias.",
            5 * 5 * 32 * 128 + 128: "That is the Dense layer of the pooled baseline. Without "
            "pooling the second convolution outputs 24 × 24 × 32.",
            24 * 24 * 128 + 128: "Flatten keeps every channel: the vector has 24 × 24 × 32 "
            "entries.",
            26 * 26 * 32 * 128 + 128: "The second 3 × 3 convolution (no padding) shrinks "
            "26 × 26 to 24 × 24.",
            "default": "Without pooling: 28 → 26 (conv1) → 24 (conv2), 32 channels; the Dense "
            "layer has one weight per input per unit, plus one bias per unit.",
        },
        why="24 × 24 × 32 = 18,432 inputs × 128 units + 128 biases = 2,359,424, about 23 times "
        "the pooled model's Dense layer.",
    )
