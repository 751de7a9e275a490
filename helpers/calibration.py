"""How far to trust a classifier's probabilities: calibration error and temperature scaling.

Introduced in notebook 09, which writes both in the open: the reliability table and the
expected calibration error (ECE) of Guo et al. (2017), and temperature scaling fitted by
minimising the validation set's negative log-likelihood over a grid of temperatures.
These are the same computations, for the notebooks that reuse them (notebook 09 checks
that they agree with its own code).

This module imports only NumPy and :mod:`helpers.checks`: it works on arrays of
probabilities or logits, whatever model produced them.
"""

from __future__ import annotations

import numpy as np

from helpers import checks

__all__ = [
    "TEMPERATURES",
    "expected_calibration_error",
    "fit_temperature",
]

#: The temperatures :func:`fit_temperature` tries: 401 values from 0.25 to 4, each about
#: 0.7% above the one before (the grid notebook 09 searches).
TEMPERATURES = np.geomspace(0.25, 4.0, 401)


def _probabilities(probabilities, name: str = "probabilities") -> np.ndarray:
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0 or p.shape[1] < 2:
        raise ValueError(
            f"{name} has shape {p.shape}; expected (N, classes), one row of class "
            "probabilities per image, e.g. helpers.training.predict(model, x)"
        )
    if not np.isfinite(p).all() or p.min() < 0 or p.max() > 1:
        raise ValueError(
            f"{name} holds values outside [0, 1] (or NaN); expected probabilities, e.g. the "
            "output of a softmax layer"
        )
    return p


def _labels(labels, n: int, classes: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != n or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"labels has shape {y.shape} and dtype {y.dtype}; expected ({n},) integer class "
            "labels, one per row"
        )
    if n and (y.min() < 0 or y.max() >= classes):
        raise ValueError(
            f"labels run from {y.min()} to {y.max()}; expected 0 to {classes - 1}, one per class"
        )
    return y


def expected_calibration_error(probabilities, labels, n_bins: int = 15) -> float:
    """The expected calibration error of predictions (introduced in notebook 09).

    Each prediction's confidence is its largest probability. The confidences are put
    into ``n_bins`` bins of equal width, (0, 1/n], (1/n, 2/n], ..., ((n-1)/n, 1]; in each
    bin, the accuracy of its predictions is compared with their mean confidence. The ECE
    is the mean of these gaps, each weighted by the share of predictions in its bin: 0
    for a perfectly calibrated model (Guo et al., 2017, with 15 bins).
    """
    p = _probabilities(probabilities)
    y = _labels(labels, len(p), p.shape[1])
    n_bins = checks.whole("n_bins", n_bins, 1, example=15)
    confidence = p.max(axis=1)
    correct = p.argmax(axis=1) == y
    # Bin b holds the confidences in (b / n_bins, (b + 1) / n_bins]; a confidence of 0
    # (possible only when every probability is 0) goes into the first bin.
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    error = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            gap = abs(correct[in_bin].mean() - confidence[in_bin].mean())
            error += in_bin.mean() * gap
    return float(error)


def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(log_sum - z[np.arange(len(labels)), labels]))


def fit_temperature(logits, labels, temperatures=None) -> float:
    """The temperature T whose ``softmax(logits / T)`` has the lowest mean NLL (introduced in notebook 09).

    ``logits`` are the scores before the softmax, shape (N, classes); ``labels`` the true
    classes. Every value of ``temperatures`` (default :data:`TEMPERATURES`) is tried and
    the best one returned. Fit it on the validation set, never on the test set. Raises
    ``ValueError`` if the best value is at an end of the grid, where a better one may lie
    beyond it.
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2 or len(z) == 0 or z.shape[1] < 2 or not np.isfinite(z).all():
        raise ValueError(
            f"logits has shape {z.shape}; expected finite scores (N, classes), the values "
            "before the softmax"
        )
    y = _labels(labels, len(z), z.shape[1])
    grid = TEMPERATURES if temperatures is None else np.asarray(temperatures, dtype=np.float64)
    if grid.ndim != 1 or len(grid) < 3 or not np.isfinite(grid).all() or grid.min() <= 0:
        raise ValueError(
            f"temperatures is {temperatures!r}; expected at least three positive numbers, "
            "e.g. numpy.geomspace(0.25, 4, 401)"
        )
    grid = np.sort(grid)
    losses = [_nll(z, y, float(t)) for t in grid]
    best = int(np.argmin(losses))
    if best in (0, len(grid) - 1):
        raise ValueError(
            f"the lowest NLL is at T = {grid[best]:g}, an end of the temperatures tried "
            f"({grid[0]:g} to {grid[-1]:g}); expected it inside: try a wider range"
        )
    return float(grid[best])
