"""Checks for the exercises of notebook 07 (batch normalization)."""

from __future__ import annotations

import math

import numpy as np

from helpers.exercises import CORRECT, INCORRECT, exercise, number

#: Exercise 07.1: one epoch of training, and the statistics of one BN channel.
IMAGES_07_1 = 50_000
BATCH_07_1 = 250
MOMENTUM_07_1 = 0.99
VARIANCE_07_1 = 0.04


@exercise("07.1")
def moving_variance_after_one_epoch(answer):
    steps = math.ceil(IMAGES_07_1 / BATCH_07_1)
    left = MOMENTUM_07_1**steps
    expected = left * 1.0 + (1 - left) * VARIANCE_07_1
    return number(
        answer,
        expected,
        tolerance=5e-4,
        hints={
            VARIANCE_07_1: "That is where the average is heading, not where it is after one epoch: "
            "part of the starting value 1 is still in it.",
            round(left, 6): "That is the share of the starting value left; the rest of the "
            "average is the real variance.",
            round(
                MOMENTUM_07_1 * 1.0 + (1 - MOMENTUM_07_1) * VARIANCE_07_1, 6
            ): f"That is one step; one epoch is {steps} steps.",
            "default": f"After t steps a share momentum**t of the starting value 1 is left; one "
            f"epoch is {IMAGES_07_1:,} / {BATCH_07_1} steps.",
        },
        why=f"{steps} steps leave 0.99**{steps} = {left:.3f} of the start: {left:.3f} × 1 + "
        f"{1 - left:.3f} × {VARIANCE_07_1} = {expected:.3f}, about {expected / VARIANCE_07_1:.1f} "
        "times the real variance.",
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
