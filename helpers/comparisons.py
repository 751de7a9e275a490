"""The course's one rule for calling a difference between two variants clear
(introduced in notebook 05).

Every sweep trains each variant once per seed, and seed *k* of every variant shares the
split, the initial weights and the order of the batches. Two variants are therefore
compared **seed by seed**: the difference ``a - b`` of each seed, not the two ranges
over the seeds (two ranges can overlap while ``a`` is higher in every seed, when the
seeds themselves differ more than the variants do).

The rule (:func:`paired`):

1. take the per-seed differences ``d = a - b`` (the seeds both variants ran);
2. with fewer than :data:`MIN_SEEDS` seeds, call nothing clear: two seeds are never
   enough (with two seeds and no difference at all, both of ``a``'s values lie above
   both of ``b``'s one time in six);
3. otherwise compute the 95% interval of the mean difference, ``mean ± t · s / √n``
   (Student's *t* with ``n - 1`` degrees of freedom, *s* the standard deviation of
   the differences);
4. the verdict is ``"higher"`` (or ``"lower"``) when the interval lies wholly above
   (below) zero **and** the mean difference is at least :data:`SMALLEST_DIFFERENCE`
   (0.2 points of accuracy, 12 of the 6,000 validation images): a difference smaller
   than that is not worth stating, however consistent. Otherwise
   ``"no clear difference"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

__all__ = ["MIN_SEEDS", "SMALLEST_DIFFERENCE", "Comparison", "paired", "t_quantile"]

#: The fewest seeds on which a difference can be called clear.
MIN_SEEDS = 3
#: The smallest mean difference worth stating: 0.2 points of accuracy.
SMALLEST_DIFFERENCE = 0.002
#: Student's t, 97.5th percentile (two-sided 95%), by degrees of freedom 1-30
#: (the values every statistics table gives, to three decimals).
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_NORMAL_975 = 1.960  # beyond 30 degrees of freedom


def t_quantile(degrees_of_freedom: int) -> float:
    """Student's t at 97.5% for ``degrees_of_freedom`` (1 or more)."""
    if isinstance(degrees_of_freedom, bool) or int(degrees_of_freedom) != degrees_of_freedom:
        raise ValueError(f"degrees_of_freedom is {degrees_of_freedom!r}; expected a whole number")
    if degrees_of_freedom < 1:
        raise ValueError(f"degrees_of_freedom is {degrees_of_freedom}; expected 1 or more")
    if degrees_of_freedom <= len(_T975):
        return _T975[int(degrees_of_freedom) - 1]
    return _NORMAL_975


@dataclass(frozen=True)
class Comparison:
    """Variant ``a`` against ``b``, seed by seed (:func:`paired`)."""

    a: str
    b: str
    differences: pd.Series  # a - b, indexed by seed
    mean: float
    interval: tuple[float, float]  # the 95% interval of the mean difference (nan: too few seeds)
    verdict: str  # "higher", "lower" or "no clear difference"

    @property
    def seeds(self) -> int:
        return len(self.differences)

    @property
    def higher_in(self) -> int:
        """In how many seeds ``a`` is higher than ``b``."""
        return int((self.differences > 0).sum())

    def as_dict(self) -> dict:
        """The numbers, as the notebooks record them (helpers.claims)."""
        return {
            "mean difference": self.mean,
            "lowest difference": float(self.differences.min()),
            "highest difference": float(self.differences.max()),
            "interval low": self.interval[0],
            "interval high": self.interval[1],
            "higher in": self.higher_in,
            "seeds": self.seeds,
            "verdict": self.verdict,
        }

    def __str__(self) -> str:
        low, high = self.interval
        points = f"{100 * self.mean:+.2f} points"
        if math.isnan(low):
            spread = f"over only {self.seeds} seed{'s' if self.seeds != 1 else ''}"
        else:
            spread = f"95% interval {100 * low:+.2f} to {100 * high:+.2f}, over {self.seeds} seeds"
        return (
            f"{self.a} vs {self.b}: {points} ({spread}; higher in {self.higher_in} of "
            f"{self.seeds}): {self.verdict}"
        )


def paired(
    a: Mapping[int, float] | pd.Series,
    b: Mapping[int, float] | pd.Series,
    names: tuple[str, str] = ("a", "b"),
    smallest: float = SMALLEST_DIFFERENCE,
) -> Comparison:
    """Compare two variants' per-seed values (indexed by seed) by the course's rule.

    Only the seeds both ran are compared. See the module's docstring for the rule.
    """
    a, b = pd.Series(a, dtype=float), pd.Series(b, dtype=float)
    common = a.index.intersection(b.index)
    if len(common) == 0:
        raise ValueError(
            f"{names[0]} ran the seeds {sorted(a.index)}, {names[1]} {sorted(b.index)}: "
            "no seed in common to compare"
        )
    differences = (a[common] - b[common]).sort_index()
    n = len(differences)
    mean = float(differences.mean())
    if n < MIN_SEEDS:
        return Comparison(*names, differences, mean, (math.nan, math.nan), "no clear difference")
    half = t_quantile(n - 1) * float(differences.std(ddof=1)) / math.sqrt(n)
    low, high = mean - half, mean + half
    if low > 0 and mean >= smallest:
        verdict = "higher"
    elif high < 0 and mean <= -smallest:
        verdict = "lower"
    else:
        verdict = "no clear difference"
    return Comparison(*names, differences, mean, (low, high), verdict)
