"""Checks for the exercises of notebook 06 (dropout)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import CORRECT, INCORRECT, exercise, number, reference_model


@exercise("06.1")
def kept_value(answer):
    return number(
        answer,
        4.0,
        hints={
            2.0: "That is what happens at inference. In training, the inputs that survive are "
            "scaled up by 1 / (1 - rate).",
            1.0: "The survivors are divided by (1 - rate), not multiplied by the rate.",
            0.0: "This input was kept, not dropped.",
            "default": "A kept input is divided by (1 - rate) = 0.5.",
        },
        tolerance=1e-6,
        why="2.0 / (1 - 0.5) = 4.0, so that the expected value of every input, 0.5 × 0 + "
        "0.5 × 4.0 = 2.0, is the same in training and at inference.",
    )


@exercise("06.2")
def dropout_function(fn):
    if not callable(fn):
        return INCORRECT, f"Expected a function, got {type(fn).__name__}."
    x = np.full((200, 500), 3.0, dtype=np.float32)
    for rate in (0.2, 0.5):
        out = np.asarray(fn(x.copy(), rate, np.random.default_rng(0)), dtype=np.float64)
        if out.shape != x.shape:
            return INCORRECT, f"Your function changed the shape from {x.shape} to {out.shape}."
        dropped = float(np.mean(out == 0))
        kept = out[out != 0]
        if abs(dropped - (1 - rate)) < 0.02 and rate != 0.5:
            return INCORRECT, (
                f"With rate={rate} you zeroed {dropped:.0%} of the inputs: the rate is the share "
                "that is dropped, not the share that is kept."
            )
        if abs(dropped - rate) > 0.02:
            return INCORRECT, (
                f"With rate={rate} you zeroed {dropped:.1%} of the inputs; expected about "
                f"{rate:.0%}. Drop each input independently with probability rate."
            )
        if kept.size and np.allclose(kept, 3.0):
            return INCORRECT, (
                "The kept inputs are unchanged, so the layer's output is smaller on average in "
                "training than at inference. Divide them by (1 - rate)."
            )
        if kept.size and np.allclose(kept, 3.0 * (1 - rate)):
            return INCORRECT, "Divide the kept inputs by (1 - rate); you multiplied by it."
        if not np.allclose(kept, 3.0 / (1 - rate), rtol=1e-5):
            return INCORRECT, (
                f"The kept inputs should all be 3.0 / (1 - {rate}) = {3.0 / (1 - rate):.4g}; "
                f"yours range from {kept.min():.4g} to {kept.max():.4g}."
            )
    return CORRECT, (
        "This is 'inverted' dropout, as Keras implements it: the scaling happens in training, "
        "so inference needs no change at all."
    )


@exercise("06.3")
def dropout_parameters(answer):
    layer = reference_model("cnn", dense_dropout=0.5).get_layer("drop_dense")
    return number(
        answer,
        sum(int(np.prod(w.shape)) for w in layer.trainable_weights),
        hints={
            "default": "Look at the Param # column of a Dropout layer in model.summary(): the "
            "layer draws a random mask, it learns nothing.",
        },
        why="Dropout has no weights: the rate is a fixed setting, and the mask is random.",
    )
