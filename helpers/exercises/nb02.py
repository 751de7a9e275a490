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


#: Exercise 02.4: three scores of a last layer, before they are doubled.
SCORES_02_4 = (2.0, 1.0, 0.1)


def _softmax(z) -> np.ndarray:
    e = np.exp(np.asarray(z, dtype=float) - np.max(z))
    return e / e.sum()


@exercise("02.4")
def doubled_scores(answer):
    z = np.asarray(SCORES_02_4)
    expected = _softmax(2 * z)
    try:
        got = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return INCORRECT, f"Expected {len(z)} probabilities, got {answer!r}."
    if got.shape != z.shape:
        return INCORRECT, f"Expected {len(z)} probabilities, one per score; got shape {got.shape}."
    if np.allclose(got, expected, atol=1e-3):
        p = _softmax(z)
        return CORRECT, (
            f"The largest probability grows from {p.max():.3f} to {expected.max():.3f}: doubling "
            "the scores makes the model more confident without changing its ranking. "
            "e^(2z) = (e^z)², so the new probabilities are the old ones squared and rescaled to "
            "sum to 1. Adding a constant to every score, by contrast, changes nothing."
        )
    if np.allclose(got, _softmax(z), atol=1e-3):
        return INCORRECT, (
            "Those are the probabilities of the original scores. Adding a constant to every "
            "score changes nothing, but doubling is not adding a constant."
        )
    if np.allclose(got, 2 * _softmax(z), atol=1e-3):
        return INCORRECT, "Probabilities must sum to 1; doubling them does not give probabilities."
    if not np.isclose(got.sum(), 1.0, atol=1e-3):
        return INCORRECT, f"Your values sum to {got.sum():.3f}; probabilities sum to 1."
    return INCORRECT, "Compute e^(2 z_i) for each score and divide by their sum."
