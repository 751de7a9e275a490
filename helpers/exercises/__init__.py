"""Instant feedback on the exercises at the end of each notebook.

Introduced in notebook 01. Every checkable exercise has an id such as ``"01.2"``
(notebook 01, exercise 2). In the notebook the answer starts as ``...`` (Ellipsis),
and ``check("01.2", answer)`` says one of three things:

- **Correct**, with a line on why;
- **Not yet**, with a hint aimed at the most common mistake;
- **Not attempted yet**, for the untouched ``...`` default (or a function that
  still raises ``NotImplementedError``). This never raises, so a notebook with no
  answers filled in still runs from top to bottom.

The checks of notebook NN live in ``helpers/exercises/nbNN.py`` and register
themselves with :func:`exercise`.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = [
    "CORRECT",
    "INCORRECT",
    "NOT_ATTEMPTED",
    "Feedback",
    "check",
    "exercise",
    "is_unanswered",
    "last_answer",
    "layer_shape",
    "reference_model",
    "registered",
]

CORRECT = "correct"
INCORRECT = "not yet"
NOT_ATTEMPTED = "not attempted"
_SYMBOLS = {CORRECT: "✅ Correct", INCORRECT: "❌ Not yet", NOT_ATTEMPTED: "⏳ Not attempted yet"}


@dataclass(frozen=True)
class Feedback:
    """The result of a check; shown as one readable line in the notebook."""

    exercise: str
    status: str
    message: str

    @property
    def correct(self) -> bool:
        return self.status == CORRECT

    def __repr__(self) -> str:
        return f"Exercise {self.exercise}: {_SYMBOLS[self.status]}. {self.message}"

    __str__ = __repr__


_REGISTRY: dict[str, Callable[[Any], tuple[str, str]]] = {}


def exercise(exercise_id: str):
    """Register a checker: a function of the answer returning (status, message)."""

    def decorate(fn):
        if exercise_id in _REGISTRY:
            raise ValueError(f"exercise {exercise_id!r} is registered twice")
        _REGISTRY[exercise_id] = fn
        return fn

    return decorate


def is_unanswered(answer: Any) -> bool:
    """True for the notebook's untouched default: ``...`` or ``None``."""
    return answer is Ellipsis or answer is None


_ANSWERS: dict[str, Any] = {}


def check(exercise_id: str, answer: Any = ...) -> Feedback:
    """Check an answer and return feedback; never raises for the unanswered default.

    The answer is kept as the exercise's :func:`last_answer`, which the course's
    autograder checks again once the notebook has run (``make grade``).
    """
    _load_all()
    if exercise_id not in _REGISTRY:
        raise KeyError(f"No exercise {exercise_id!r}; the registered ones are {sorted(_REGISTRY)}")
    _ANSWERS[exercise_id] = answer
    if is_unanswered(answer):
        return Feedback(
            exercise_id, NOT_ATTEMPTED, "Replace the ... with your answer and run the cell again."
        )
    try:
        status, message = _REGISTRY[exercise_id](answer)
    except NotImplementedError:
        return Feedback(
            exercise_id,
            NOT_ATTEMPTED,
            "Your function still raises NotImplementedError: fill in its body.",
        )
    except Exception as err:  # an answer that crashes is feedback too, not a notebook failure
        return Feedback(exercise_id, INCORRECT, f"Your answer raised {type(err).__name__}: {err}")
    return Feedback(exercise_id, status, message)


def last_answer(exercise_id: str) -> Any:
    """The answer last given to ``check`` for this exercise in this session, or ``...``.

    The autograder's test of an exercise is ``check(exercise_id, last_answer(exercise_id))``
    after the whole submission has run: a notebook is graded on the answers its own
    check cells gave, as the student saw them checked.
    """
    return _ANSWERS.get(exercise_id, ...)


def registered() -> list[str]:
    """The ids of all registered exercises."""
    _load_all()
    return sorted(_REGISTRY)


_loaded = False


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("nb"):
            importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True


# ---------------------------------------------------------------- reusable checkers


@cache
def reference_model(builder: str = "baseline_cnn", **options: Any):
    """The untrained model ``helpers.models.<builder>(**options)``, built once per process.

    Checkers take their expected answers and hints (parameter counts, shapes, units)
    from it, so that they follow the models instead of repeating numbers typed by
    hand. It is shared: read it, never train or change it. Building it leaves the
    random state of Python and NumPy as it was, so a check does not change what a
    notebook computes after it.
    """
    import numpy as np

    from helpers import models

    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        return getattr(models, builder)(**options)
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def layer_shape(model: Any, name: str, which: str = "output") -> tuple[int, ...]:
    """The shape of one example at a layer's ``"output"`` (or ``"input"``), without the batch axis."""
    return tuple(int(v) for v in getattr(model.get_layer(name), which).shape[1:])


def number(
    answer: Any, expected: float, hints: dict | None = None, tolerance: float = 0.0, why: str = ""
) -> tuple[str, str]:
    """Compare a numeric answer; ``hints`` maps typical wrong answers to a hint."""
    if (
        isinstance(answer, bool)
        or not isinstance(answer, (int, float))
        and not hasattr(answer, "__float__")
    ):
        return INCORRECT, f"Expected a number, got {type(answer).__name__} {answer!r}."
    value = float(answer)
    if abs(value - expected) <= tolerance:
        return CORRECT, why
    for wrong, hint in (hints or {}).items():
        if wrong != "default" and abs(value - float(wrong)) <= tolerance:
            return INCORRECT, hint
    return INCORRECT, f"{answer!r} is not it. " + (hints or {}).get("default", "")


def classifier_problem(model: Any) -> str | None:
    """What keeps ``model`` from being a Fashion-MNIST classifier, or None if nothing does.

    A classifier here is a Keras model from (None, 28, 28, 1) images to ten class
    probabilities (None, 10).
    """
    import keras

    if not isinstance(model, keras.Model):
        return f"Expected a Keras model, got {type(model).__name__}."
    if tuple(model.input_shape[1:]) != (28, 28, 1) or tuple(model.output_shape[1:]) != (10,):
        return (
            f"The model maps {model.input_shape} to {model.output_shape}; expected images "
            "(None, 28, 28, 1) to ten class probabilities (None, 10)."
        )
    return None


def shape(
    answer: Any, expected: tuple, hints: dict | None = None, why: str = ""
) -> tuple[str, str]:
    """Compare a shape given as a tuple (a list is accepted too)."""
    try:
        got = tuple(int(v) if v is not None else None for v in answer)
    except TypeError:
        return INCORRECT, f"Expected a shape such as (28, 28, 1), got {answer!r}."
    if got == tuple(expected):
        return CORRECT, why
    for wrong, hint in (hints or {}).items():
        if wrong != "default" and got == tuple(wrong):
            return INCORRECT, hint
    return INCORRECT, f"{got} is not it. " + (hints or {}).get("default", "")
