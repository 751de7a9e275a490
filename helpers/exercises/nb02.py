"""Checks for the exercises of notebook 02 (what a CNN is made of)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import CORRECT, INCORRECT, exercise, number, reference_model


@exercise("02.1")
def strided_output_size(answer):
    return number(
        answer,
        12,
        hints={
            11: "Off by one: the formula ends with + 1, since the first position counts too.",
            11.5: "The division rounds down (a position where the kernel does not fit is "
            "skipped), and then 1 is added.",
            24: "24 is the output with stride 1; a stride of 2 visits every other position.",
            14: "28 / 2 = 14 would need 'same' padding; without padding the 5 × 5 kernel "
            "first loses 4 pixels.",
            13: "That is the answer for a 3 × 3 kernel; this one is 5 × 5.",
            "default": "Use o = floor((n + 2p - k) / s) + 1 with n = 28, k = 5, p = 0, s = 2.",
        },
        why="floor((28 - 5) / 2) + 1 = 11 + 1 = 12.",
    )


#: Exercise 02.2's layer: Conv2D(FILTERS, kernel_size=KERNEL) reading IN_CHANNELS channels.
KERNEL, IN_CHANNELS, FILTERS = 3, 32, 64


@exercise("02.2")
def conv_parameter_count(answer):
    k, c_in, f = KERNEL, IN_CHANNELS, FILTERS
    weights = k * k * c_in * f
    conv2 = reference_model("baseline_cnn").get_layer("conv2")
    return number(
        answer,
        weights + f,
        hints={
            weights: f"Close: add the biases, one per filter ({f}).",
            k * k * 1 * f + f: f"That would be a layer reading 1 input channel; this one reads "
            f"{c_in}, and each filter has a {k} × {k} kernel for every input channel.",
            k * k * f: f"{k} × {k} × {f} counts one kernel per filter; each filter has one "
            "kernel per input channel, plus a bias.",
            conv2.count_params(): f"That is the baseline's conv2 with {conv2.filters} filters; "
            f"this layer has {f}.",
            "default": "A convolution has k · k · C_in · F weights plus F biases.",
        },
        why=f"{k} · {k} · {c_in} · {f} + {f} = {weights:,} weights + {f} biases = {weights + f:,}.",
    )


def _correlate_valid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def _same_reference(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    p = (kernel.shape[0] - 1) // 2
    return _correlate_valid(np.pad(image, p), kernel)


@exercise("02.3")
def conv2d_same(fn):
    if not callable(fn):
        return INCORRECT, f"Expected a function, got {type(fn).__name__}."
    rng = np.random.default_rng(2)
    for shape, k in (((7, 6), 3), ((6, 8), 5)):
        image = rng.normal(size=shape)
        kernel = rng.normal(size=(k, k))
        out = np.asarray(fn(image.copy(), kernel.copy()), dtype=float)
        expected = _same_reference(image, kernel)
        if out.shape != image.shape:
            valid = (shape[0] - k + 1, shape[1] - k + 1)
            if out.shape == valid:
                return INCORRECT, (
                    f"The output is {out.shape}, the 'valid' size for a {shape} image: pad the "
                    f"image with (k - 1) // 2 zeros on every side first (np.pad(image, p))."
                )
            return INCORRECT, (
                f"For a {shape} image and a {k} × {k} kernel the output is {out.shape}; it "
                f"should keep the image's size {shape}. Pad with (k - 1) // 2 = {(k - 1) // 2}."
            )
        if np.allclose(out, expected):
            continue
        if np.allclose(out, _same_reference(image, kernel[::-1, ::-1])):
            return INCORRECT, (
                "You flipped the kernel (a mathematician's convolution). Keras, and conv2d in "
                "this notebook, do not flip it: multiply each patch with the kernel as it is."
            )
        p = (k - 1) // 2
        edge = _correlate_valid(np.pad(image, p, mode="edge"), kernel)
        if np.allclose(out, edge):
            return INCORRECT, "Pad with zeros (np.pad's default), not by repeating the edge pixels."
        if np.allclose(out[p:-p, p:-p], expected[p:-p, p:-p]):
            return INCORRECT, (
                "The inside is right but the border is not: check the padding, which should be "
                "(k - 1) // 2 zeros on every side."
            )
        return INCORRECT, (
            f"The values differ from a zero-padded convolution for a {shape} image and a "
            f"{k} × {k} kernel. Pad with np.pad(image, (k - 1) // 2), then call conv2d."
        )
    return (
        CORRECT,
        "Padding (k - 1) / 2 zeros on each side keeps the size: n + (k - 1) - k + 1 = n.",
    )


@exercise("02.4")
def stable_softmax(fn):
    if not callable(fn):
        return INCORRECT, f"Expected a function, got {type(fn).__name__}."
    small = np.array([1.0, 2.0, 3.0])
    expected = np.exp(small) / np.exp(small).sum()
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(fn(small.copy()), dtype=float)
        if out.shape != small.shape:
            return (
                INCORRECT,
                f"The output has shape {out.shape}; expected {small.shape}, one per score.",
            )
        if not np.allclose(out, expected):
            if np.allclose(out, small / small.sum()):
                return INCORRECT, (
                    "Dividing the scores by their sum is not softmax: take e to the power of "
                    "each score first (np.exp)."
                )
            if np.allclose(out.sum(), 1.0):
                return INCORRECT, "The values sum to 1 but are not e^z_i / sum_j e^z_j."
            return (
                INCORRECT,
                f"For [1, 2, 3] expected {np.round(expected, 4)}, got {np.round(out, 4)}.",
            )
        big = np.asarray(fn(small + 1000.0), dtype=float)
    if not np.all(np.isfinite(big)):
        return INCORRECT, (
            "Right for small scores, but [1001, 1002, 1003] gives inf or nan: subtract the "
            "largest score from every score before np.exp (this does not change the result)."
        )
    if not np.allclose(big, expected):
        return (
            INCORRECT,
            "For [1001, 1002, 1003] the probabilities should equal those of [1, 2, 3].",
        )
    return CORRECT, "Subtracting max(z) leaves the probabilities unchanged and keeps np.exp finite."
