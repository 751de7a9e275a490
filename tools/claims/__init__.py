"""The course's checks of what each notebook's text says about its numbers.

Every notebook records the values its prose rests on (:func:`helpers.claims.record`);
``tools/claims/<notebook>.py`` (for example ``05_pooling.py``) states each claim of
that notebook's text as a check over those values and over the shipped seed sweeps:

    def check(c):
        c.claim("the helpers' Cutout erases the same squares as the notebook's",
                c["same_cutout"])
        if c.full:  # the book's settings: what the text says about this run
            t = c["table"]
            c.claim("shifts lower the validation accuracy on the images as they are",
                    t.loc["shifts", "validation accuracy"] < t.loc["none", "validation accuracy"],
                    shifts=t.loc["shifts", "validation accuracy"],
                    none=t.loc["none", "validation accuracy"])

``c.full`` is true when the notebook ran with the book's settings (``make book``);
claims outside such a block hold with any settings, the tests' fast ones included.
:func:`check` runs a notebook's checks and returns one line per claim that does not
hold, naming the notebook, the claim and its numbers; ``course.execute`` fails with
them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
PROFILES = ("fast", "full")


#: A validation accuracy below this ends a run at chance (one right answer in ten).
CHANCE = 0.11


def seeds_at_chance(sweep, rate: float) -> dict[str, int]:
    """Seeds of notebook 07's sweep ("batch_norm") whose model ended at chance at ``rate``,
    for the baseline and for batch normalization (notebooks 07 and 10 state them)."""
    return {
        name: int((sweep.values(f"{name}, lr {rate:g}") < CHANCE).sum())
        for name in ("baseline", "BN")
    }


class MissingValue(KeyError):
    """A claim needs a value the notebook did not record."""


def _show(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4f}"
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)) and len(value) <= 12:
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


class Checker:
    """What one notebook's checks see: its recorded values, the profile, the sweeps."""

    def __init__(self, notebook: str, profile: str, values: dict[str, Any]) -> None:
        if profile not in PROFILES:
            raise ValueError(f"profile is {profile!r}; expected one of {PROFILES}")
        self.notebook = notebook
        self.profile = profile
        self.values = values
        self.failures: list[str] = []
        self.checked = 0

    @property
    def full(self) -> bool:
        """Whether the notebook ran with the book's settings (the full profile)."""
        return self.profile == "full"

    def __getitem__(self, name: str) -> Any:
        if name not in self.values:
            raise MissingValue(
                f"the notebook recorded no value {name!r}; it recorded "
                f"{sorted(self.values) or 'nothing'} (helpers.claims.record)"
            )
        return self.values[name]

    def sweep(self, name: str):
        """The shipped seed sweep ``name`` (:func:`helpers.sweeps.load`)."""
        # Here, not at the top: helpers.sweeps imports Keras (seconds), and every process
        # that imports tools.course (each test run, each tool) imports this module.
        from helpers import sweeps

        return sweeps.load(name)

    def claim(self, text: str, holds: Any, **numbers: Any) -> bool:
        """State that ``text`` holds (``holds`` true); ``numbers`` are shown if it does not."""
        self.checked += 1
        ok = bool(holds)
        if not ok:
            shown = ", ".join(f"{k} = {_show(v)}" for k, v in numbers.items())
            self.failures.append(
                f"{self.notebook}: the text says that {text}, but it does not hold"
                + (f" ({shown})" if shown else "")
            )
        return ok


def claims_file(notebook: str) -> Path:
    """Where the checks of ``notebook`` (its name, e.g. ``05_pooling``) are written."""
    return HERE / f"{notebook}.py"


def _load(notebook: str) -> Callable[[Checker], None] | None:
    path = claims_file(notebook)
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"claims_{notebook}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.check


def check(notebook: str, profile: str, values: dict[str, Any]) -> tuple[list[str], int]:
    """Run the checks of ``notebook`` over ``values``; return (failures, claims checked)."""
    run = _load(notebook)
    if run is None:
        return [f"{notebook}: no checks of its text ({claims_file(notebook)} is missing)"], 0
    checker = Checker(notebook, profile, values)
    try:
        run(checker)
    except MissingValue as err:
        checker.failures.append(f"{notebook}: {err.args[0]}")
    return checker.failures, checker.checked
