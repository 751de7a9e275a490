"""Argument checks shared by every helper module.

Each check returns the value in a clean form (a Python ``int``, ``float``, array) or
raises ``ValueError`` (``TypeError`` for :func:`model`) with one message pattern: what was received, what was expected,
and an example, e.g. ``epochs is 0; expected a whole number >= 1, e.g. 5``. Checks
that Keras already makes with a clear message are not repeated here.

This module imports only NumPy, so every other helper module can use it.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "choice",
    "flag",
    "images",
    "indices",
    "labels",
    "model",
    "names",
    "number",
    "positive_ints",
    "rate",
    "whole",
]


def _eg(example: Any) -> str:
    return "" if example is None else f", e.g. {example}"


def _range(low, high, unit: str) -> str:
    if low is not None and high is not None:
        return f"{unit} from {low} to {high}"
    if low is not None:
        return f"{unit} >= {low}"
    if high is not None:
        return f"{unit} <= {high}"
    return unit


def whole(
    name: str, value: Any, low: int | None = None, high: int | None = None, example=None
) -> int:
    """``value`` as an ``int`` if it is a whole number (not a bool) within ``[low, high]``."""
    expected = _range(low, high, "a whole number")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} is {value!r}; expected {expected}{_eg(example)}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} is {value!r}; expected {expected}{_eg(example)}")
    return int(value)


def number(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    above: float | None = None,
    below: float | None = None,
    example=None,
) -> float:
    """``value`` as a ``float`` if it is a finite real number (not a bool) in range.

    ``low``/``high`` are inclusive bounds, ``above``/``below`` exclusive ones.
    """
    parts = []
    if low is not None:
        parts.append(f">= {low:g}")
    if above is not None:
        parts.append(f"> {above:g}")
    if high is not None:
        parts.append(f"<= {high:g}")
    if below is not None:
        parts.append(f"< {below:g}")
    expected = "a number" + (" " + " and ".join(parts) if parts else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} is {value!r}; expected {expected}{_eg(example)}")
    v = float(value)
    if (
        not np.isfinite(v)
        or (low is not None and v < low)
        or (high is not None and v > high)
        or (above is not None and not v > above)
        or (below is not None and not v < below)
    ):
        raise ValueError(f"{name} is {value!r}; expected {expected}{_eg(example)}")
    return v


def rate(name: str, value: Any) -> float:
    """A dropout rate: a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{name} is {value!r}; expected a dropout rate in [0, 1), e.g. 0.25")
    return float(value)


def flag(name: str, value: Any) -> bool:
    """``value`` if it is ``True`` or ``False``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} is {value!r}; expected True or False")
    return bool(value)


def choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``."""
    if isinstance(value, (bool, np.bool_)) or value not in tuple(choices):
        raise ValueError(f"{name} is {value!r}; expected one of {tuple(choices)}")
    return value


def positive_ints(name: str, value: Any, example: str) -> tuple[int, ...]:
    """A non-empty tuple (or list) of whole numbers >= 1, e.g. filters per block."""
    if (
        not isinstance(value, (tuple, list))
        or not value
        or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in value)
    ):
        raise ValueError(
            f"{name} is {value!r}; expected a non-empty tuple of positive ints, e.g. {example}"
        )
    return tuple(int(v) for v in value)


def names(values: Sequence[str] | str, known: Sequence[str], what: str) -> list[str]:
    """``values`` (one name or several) if each is one of ``known``."""
    if isinstance(values, str):
        values = [values]
    values = list(values)
    if not values:
        raise ValueError(f"{what} is empty; expected some of {list(known)}")
    unknown = [n for n in values if n not in known]
    if unknown:
        raise ValueError(
            f"{what} names {unknown} that are not in the experiment; expected some of {list(known)}"
        )
    return values


def labels(y: Any, n: int, name: str = "y") -> np.ndarray:
    """``y`` as an array if it holds ``n`` integer class labels 0-9."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{name} has shape {y.shape}; expected ({n},), one label per image")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{name} has dtype {y.dtype}; expected integer class labels 0-9")
    if n and (y.min() < 0 or y.max() > 9):
        raise ValueError(f"{name} holds labels from {y.min()} to {y.max()}; expected 0-9")
    return y


def indices(name: str, values: Any, size: int, example: str = "[0, 5, 9]") -> np.ndarray:
    """``values`` as an int array if it is a non-empty list of distinct positions 0 to ``size - 1``."""
    array = np.asarray(values)
    expected = f"a non-empty list of distinct whole numbers from 0 to {size - 1}, e.g. {example}"
    if (
        array.ndim != 1
        or len(array) == 0
        or array.dtype == bool
        or not np.issubdtype(array.dtype, np.integer)
    ):
        raise ValueError(f"{name} is {values!r}; expected {expected}")
    if array.min() < 0 or array.max() >= size or len(np.unique(array)) != len(array):
        raise ValueError(f"{name} is {values!r}; expected {expected}")
    return array.astype(np.int64)


def images(x: Any, name: str = "x") -> np.ndarray:
    """``x`` as an array if it is a model-ready batch: float, (N, 28, 28, 1), values in [0, 1]."""
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[1:] != (28, 28, 1):
        raise ValueError(
            f"{name} has shape {x.shape}; expected (N, 28, 28, 1). "
            "Use helpers.data.to_model_input(images) to add the channel axis."
        )
    if len(x) == 0:
        raise ValueError(f"{name} is empty; expected at least one image")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"{name} has dtype {x.dtype}; expected float32 values in [0, 1]. "
            "Use helpers.data.to_model_input(images) to scale uint8 pixels."
        )
    if not np.isfinite(x).all():
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise ValueError(
            f"{name} holds {bad} NaN or infinite values; expected finite values in [0, 1]. "
            "Check the computation that produced the images."
        )
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(
            f"{name} has values from {lo:g} to {hi:g}; expected [0, 1]. "
            + (
                "The images look like they are still in 0-255: divide by 255 or use "
                "helpers.data.to_model_input()."
                if hi > 1.0
                else ""
            )
        )
    return x


def model(value: Any, name: str = "model"):
    """``value`` if it is a Keras model."""
    import keras

    if not isinstance(value, keras.Model):
        raise TypeError(
            f"{name} is a {type(value).__name__}; expected a Keras model, "
            "e.g. helpers.models.baseline_cnn()"
        )
    return value
