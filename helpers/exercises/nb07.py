"""Checks for the exercises of notebook 07 (batch normalization)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import CORRECT, INCORRECT, exercise, number, reference_model


def _count(weights) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


@exercise("07.1")
def bn_parameters(answer):
    bn = reference_model("cnn", batch_norm=True).get_layer("bn1")
    channels = int(bn.output.shape[-1])
    total = bn.count_params()
    trainable = _count(bn.trainable_weights)
    moving = _count(bn.non_trainable_weights)
    per_channel = total // channels
    return number(
        answer,
        total,
        hints={
            trainable: "Those are the trainable ones, γ and β. The moving mean and variance are "
            "parameters too, just not trained by the gradient.",
            channels: "There is more than one number per channel.",
            per_channel: f"{per_channel} numbers per channel, and there are {channels} channels.",
            trainable // channels: "γ and β are vectors with one entry per channel, and BN "
            f"keeps {moving // channels} more statistics per channel.",
            "default": "Per channel, BN keeps γ, β, a moving mean and a moving variance.",
        },
        why=f"{per_channel} per channel × {channels} channels: {trainable} trainable (γ, β) and "
        f"{moving} non-trainable (moving mean and variance).",
    )


@exercise("07.2")
def inference_output(answer):
    return number(
        answer,
        7.0,
        hints={
            13.0: "Divide by the standard deviation, √4 = 2, not by nothing.",
            4.0: "Divide by the standard deviation √4 = 2, not by the variance 4.",
            2.0: "That is the normalized value; now apply γ and β: γ · x̂ + β.",
            6.0: "At inference the input is normalized with the moving statistics, then scaled "
            "and shifted.",
            "default": "y = γ · (x − moving mean) / √(moving variance) + β.",
        },
        tolerance=1e-6,
        why="(6 − 2) / √4 = 2, then 3 × 2 + 1 = 7.",
    )


def _reference(x, gamma, beta, epsilon):
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta


@exercise("07.3")
def batch_norm_function(fn):
    if not callable(fn):
        return INCORRECT, f"Expected a function, got {type(fn).__name__}."
    rng = np.random.default_rng(7)
    # Channels with very different scales; the small one makes epsilon visible.
    x = rng.normal(size=(16, 3, 3, 3)) * np.array([0.01, 1.0, 10.0]) + np.array([5.0, -1.0, 2.0])
    gamma = np.array([1.5, 0.5, 2.0])
    beta = np.array([0.1, -0.2, 0.3])
    epsilon = 1e-3
    out = np.asarray(fn(x.copy(), gamma, beta, epsilon), dtype=np.float64)
    expected = _reference(x, gamma, beta, epsilon)
    if out.shape != x.shape:
        return INCORRECT, f"Your function changed the shape from {x.shape} to {out.shape}."
    if np.allclose(out, expected, atol=1e-6):
        return CORRECT, (
            "Each channel is normalized with its own batch mean and variance, then scaled by γ "
            "and shifted by β."
        )
    whole = gamma * (x - x.mean()) / np.sqrt(x.var() + epsilon) + beta
    if np.allclose(out, whole, atol=1e-6):
        return INCORRECT, (
            "You used one mean and variance for the whole batch. Compute them per channel, over "
            "the batch, height and width axes: x.mean(axis=(0, 1, 2))."
        )
    if np.allclose(out, _reference(x, 1.0, 0.0, epsilon), atol=1e-6):
        return INCORRECT, "The normalization is right; now scale by gamma and add beta."
    if np.allclose(out, _reference(x, gamma, beta, 0.0), atol=1e-6):
        return INCORRECT, (
            "Add epsilon to the variance inside the square root: without it a channel with "
            "(almost) no variance divides by (almost) zero."
        )
    axes = (0, 1, 2)
    std_eps = gamma * (x - x.mean(axis=axes)) / (x.std(axis=axes) + epsilon) + beta
    if np.allclose(out, std_eps, atol=1e-6):
        return INCORRECT, "Add epsilon to the variance, under the square root: √(σ² + ε)."
    return INCORRECT, (
        "Not the expected values. Per channel: x̂ = (x − mean) / √(variance + ε), then "
        "y = γ · x̂ + β."
    )
