"""Validation of notebook parameters (introduced in notebook 01).

Every notebook has one cell tagged ``parameters`` (which papermill overrides) and,
right after it, a call to :func:`check_params` with every one of those parameters, so
that a bad value such as ``papermill ... -p EPOCHS -1`` stops the notebook at once with
a readable message instead of failing deep inside TensorFlow. A parameter the notebook
does not have, such as a misspelled ``-p EPOCH 1``, stops it just as early: papermill
itself only warns about it, and the run would go on with the defaults.

A rule says what a parameter may be: a whole number or a real number in a range, a
string from a list of choices, or ``True``/``False`` (``_Rule(bool, ...)``). A new
parameter name needs one rule in :data:`_RULES`.
"""

from __future__ import annotations

import ast
import numbers
from dataclasses import dataclass
from typing import Any

__all__ = ["PROFILES", "ParameterError", "check_params"]

#: The execution profiles: ``fast`` for the tests, ``full`` for the book.
PROFILES = ("fast", "full")


class ParameterError(ValueError):
    """A notebook parameter has a wrong type or value (introduced in notebook 01)."""


@dataclass(frozen=True)
class _Rule:
    kind: type | tuple[type, ...]
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    description: str = ""


_INT = (numbers.Integral,)
_REAL = (numbers.Real,)

_RULES: dict[str, _Rule] = {
    "SEED": _Rule(_INT, 0, 2**31 - 1, description="a whole number >= 0, e.g. 0"),
    "PROFILE": _Rule(str, choices=PROFILES, description="'fast' (tests) or 'full' (book)"),
    "EPOCHS": _Rule(_INT, 1, 500, description="a whole number of epochs from 1 to 500"),
    "TRAIN_SIZE": _Rule(
        _INT, 100, 60_000, description="a number of training images from 100 to 60,000"
    ),
    "TEST_SIZE": _Rule(_INT, 100, 10_000, description="a number of test images from 100 to 10,000"),
    "VAL_SIZE": _Rule(
        _INT, 100, 6_000, description="a number of validation images from 100 to 6,000 (all)"
    ),
    "VAL_FRACTION": _Rule(_REAL, 0.01, 0.5, description="a fraction from 0.01 to 0.5, e.g. 0.1"),
    "BATCH_SIZE": _Rule(_INT, 1, 8192, description="a batch size from 1 to 8192, e.g. 128"),
    "LEARNING_RATE": _Rule(
        _REAL, 1e-6, 1.0, description="a learning rate from 1e-6 to 1, e.g. 1e-3"
    ),
    "HIGH_LEARNING_RATE": _Rule(
        _REAL, 1e-6, 1.0, description="a learning rate from 1e-6 to 1, e.g. 1e-2"
    ),
    "IMAGE_INDEX": _Rule(_INT, 0, 9_999, description="a test-image index from 0 to 9,999"),
    "FILTER_INDEX": _Rule(_INT, 0, 31, description="a filter index from 0 to 31"),
    "CLASS_INDEX": _Rule(_INT, 0, 9, description="a class label from 0 to 9"),
    "MAX_SHIFT": _Rule(_INT, 0, 14, description="a shift in pixels from 0 to 14"),
    "TIME_BUDGET_S": _Rule(_REAL, 1, 3600, description="a number of seconds from 1 to 3600"),
    "BASELINE_TRAIN_SIZE": _Rule(
        _INT, 100, 54_000, description="the baseline's training images, from 100 to 54,000"
    ),
    "BASELINE_EPOCHS": _Rule(_INT, 1, 500, description="the baseline's epochs, from 1 to 500"),
}


def check_params(**params: Any) -> None:
    """Check notebook parameters against the course's rules (introduced in notebook 01).

    Raises :class:`ParameterError` naming the parameter, the value received and what
    is expected. Pass every parameter of the notebook's ``parameters`` cell: a
    parameter that papermill was given but that is not among them is refused too
    (see :func:`injected_names`). Example::

        check_params(SEED=SEED, EPOCHS=EPOCHS, TRAIN_SIZE=TRAIN_SIZE, PROFILE=PROFILE)
    """
    unknown = [name for name in injected_names() if name not in params]
    if unknown:
        raise ParameterError(
            f"This notebook has no parameter {', '.join(unknown)} (papermill was given "
            + ", ".join(f"-p {name}" for name in unknown)
            + f"); its parameters are {', '.join(params)}. Check the spelling of the "
            "-p option given to papermill."
        )
    problems = []
    for name, value in params.items():
        rule = _RULES.get(name)
        if rule is None:
            raise ParameterError(
                f"No rule for the parameter {name} (received {name} = {value!r}); known "
                f"parameters are {sorted(_RULES)}. Check the spelling, or add a rule to "
                "helpers/params.py."
            )
        ok_type = isinstance(value, rule.kind) and (
            rule.kind is bool or not isinstance(value, bool)
        )
        if not ok_type:
            problems.append(
                f"{name} = {value!r} ({type(value).__name__}); expected {rule.description}"
            )
            continue
        if rule.choices is not None and value not in rule.choices:
            problems.append(f"{name} = {value!r}; expected {rule.description}")
        elif (
            value != value  # NaN compares false with every bound
            or (rule.low is not None and value < rule.low)
            or (rule.high is not None and value > rule.high)
        ):
            problems.append(f"{name} = {value!r}; expected {rule.description}")
    if problems:
        raise ParameterError(
            "Invalid notebook parameter"
            + ("s" if len(problems) > 1 else "")
            + ":\n  "
            + "\n  ".join(problems)
            + "\nChange the value in the parameters cell (or the -p option given to papermill)."
        )


#: The first line of the cell papermill inserts with the values it was given.
INJECTED_MARKER = "# Parameters"


def injected_names(history: list[str] | None = None) -> list[str]:
    """The names papermill injected into this notebook's kernel, in order.

    Papermill runs its values as a cell of plain assignments that starts with
    ``# Parameters``, right after the notebook's own ``parameters`` cell. ``history``
    is the kernel's input history (IPython's ``In``), read from the running kernel when
    not given; outside IPython, or in a notebook papermill did not run, there is none
    and the result is empty.
    """
    if history is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return []
        shell = get_ipython()
        history = list(shell.user_ns.get("In", [])) if shell is not None else []
    for source in reversed(history):
        if isinstance(source, str) and source.lstrip().startswith(INJECTED_MARKER):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return []
            return [
                target.id
                for node in tree.body
                if isinstance(node, ast.Assign)
                for target in node.targets
                if isinstance(target, ast.Name)
            ]
    return []
