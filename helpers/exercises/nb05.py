"""Checks for the exercises of notebook 05 (pooling)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import (
    CORRECT,
    INCORRECT,
    exercise,
    layer_shape,
    number,
    reference_model,
    shape,
)


@exercise("05.1")
def pooled_shape(answer):
    baseline = reference_model("baseline_cnn")
    conv1 = layer_shape(baseline, "conv1")
    expected = layer_shape(baseline, "pool1")
    h_in, _, c = conv1
    k = int(baseline.get_layer("conv2").kernel_size[0])
    second_conv = layer_shape(reference_model("cnn", pooling="none"), "conv2")
    cropped = ((h_in - k + 1) // 2, (h_in - k + 1) // 2, c)
    return shape(
        answer,
        expected,
        hints={
            conv1: "That is the input. A 2 × 2 window moving 2 pixels at a time halves "
            "the height and the width.",
            (*expected[:2], c // 2): "Pooling works on each channel separately: the number of "
            f"channels stays {c}.",
            second_conv: f"That is what a second {k} × {k} convolution would give; the question "
            "is about the pooling layer.",
            cropped: f"{h_in} / 2 = {expected[0]}: the pooling layer has no {k} × {k} kernel "
            "that loses a border.",
            "default": "Answer (height, width, channels) of the output.",
        },
        why=f"{h_in} / 2 = {expected[0]} in each direction, and pooling keeps every channel.",
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
    unpooled = reference_model("cnn", pooling="none")
    dense = unpooled.get_layer("dense")
    units = int(dense.units)
    h, w, c = layer_shape(unpooled, "flatten", "input")
    h1, w1, _ = layer_shape(unpooled, "conv1")
    in_h = int(unpooled.input_shape[1])
    k = int(unpooled.get_layer("conv2").kernel_size[0])
    inputs = h * w * c
    expected = dense.count_params()
    pooled = reference_model("cnn").get_layer("dense").count_params()
    return number(
        answer,
        expected,
        hints={
            inputs * units: f"Close: each of the {units} units also has a bias.",
            pooled: "That is the Dense layer of the pooled baseline. Without pooling the "
            f"second convolution outputs {h} × {w} × {c}.",
            h * w * units + units: f"Flatten keeps every channel: the vector has {h} × {w} × {c} "
            "entries.",
            h1 * w1 * c * units + units: f"The second {k} × {k} convolution (no padding) shrinks "
            f"{h1} × {w1} to {h} × {w}.",
            "default": f"Without pooling: {in_h} → {h1} (conv1) → {h} (conv2), {c} channels; the "
            "Dense layer has one weight per input per unit, plus one bias per unit.",
        },
        why=f"{h} × {w} × {c} = {inputs:,} inputs × {units} units + {units} biases = "
        f"{expected:,}, about {expected / pooled:.0f} times the pooled model's Dense layer.",
    )
