"""helpers.comparisons: the course's paired rule for calling a difference clear."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import comparisons
from helpers.comparisons import paired


def ranges_overlap(a, b) -> bool:
    """The rule the course used before: clear only when the two ranges do not overlap."""
    return not (min(a.values()) > max(b.values()) or max(a.values()) < min(b.values()))


def test_a_hand_worked_comparison():
    # a is one point above b in each of three seeds: differences 0.01, 0.02, 0.00
    a = {0: 0.90, 1: 0.92, 2: 0.90}
    b = {0: 0.89, 1: 0.90, 2: 0.90}
    c = paired(a, b, names=("a", "b"))
    assert list(c.differences.round(6)) == [0.01, 0.02, 0.0]
    assert c.mean == pytest.approx(0.01)
    # s = 0.01, t(2) = 4.303, half-width 4.303 * 0.01 / sqrt(3) = 0.02484
    assert c.interval == pytest.approx((0.01 - 0.024844, 0.01 + 0.024844), abs=1e-6)
    assert c.verdict == "no clear difference", "the interval reaches below zero"
    assert c.higher_in == 2 and c.seeds == 3
    assert str(c) == (
        "a vs b: +1.00 points (95% interval -1.48 to +3.48, over 3 seeds; higher in 2 of 3): "
        "no clear difference"
    )


def test_a_consistent_effect_is_found_though_the_ranges_overlap():
    seeds = range(5)
    base = {k: 0.85 + 0.02 * k for k in seeds}  # the seeds differ by far more than the variants
    a = {k: base[k] + 0.006 + 0.001 * (-1) ** k for k in seeds}
    assert ranges_overlap(a, base), "the old rule would call this no clear difference"
    c = paired(a, base)
    assert c.verdict == "higher" and c.interval[0] > 0
    assert paired(base, a).verdict == "lower", "the sign follows the order of the variants"


def test_two_seeds_are_never_enough():
    c = paired({0: 0.95, 1: 0.96}, {0: 0.90, 1: 0.91})  # five points higher in both seeds
    assert c.verdict == "no clear difference"
    assert math.isnan(c.interval[0]) and "over only 2 seeds" in str(c)


def test_a_planted_null_is_rarely_clear_with_five_seeds():
    """No true difference: the rule calls one clear in about 5% of sweeps, never in most."""
    rng = np.random.default_rng(0)
    seeds, trials = 5, 4000
    clear = 0
    for _ in range(trials):
        shared = rng.normal(0.90, 0.01, seeds)  # what a seed does to both variants
        a = dict(enumerate(shared + rng.normal(0, 0.004, seeds)))
        b = dict(enumerate(shared + rng.normal(0, 0.004, seeds)))
        clear += paired(a, b).verdict != "no clear difference"
    assert clear / trials < 0.06, f"{clear} of {trials} null sweeps called clear"


def test_a_planted_null_is_never_clear_with_two_seeds():
    rng = np.random.default_rng(1)
    for _ in range(500):
        a, b = rng.normal(0.9, 0.01, 2), rng.normal(0.9, 0.01, 2)
        assert paired(dict(enumerate(a)), dict(enumerate(b))).verdict == "no clear difference"


def test_a_consistent_but_tiny_difference_is_not_worth_stating():
    a = {k: 0.90 + 0.001 + 0.0001 * k for k in range(5)}  # 0.1 points, in every seed
    b = {k: 0.90 for k in range(5)}
    c = paired(a, b)
    assert c.interval[0] > 0, "consistent"
    assert c.mean < comparisons.SMALLEST_DIFFERENCE and c.verdict == "no clear difference"


def test_only_the_seeds_both_ran_are_compared():
    a = pd.Series({0: 0.91, 1: 0.92, 2: 0.93, 7: 0.5})
    b = pd.Series({0: 0.90, 1: 0.91, 2: 0.92, 3: 0.99})
    assert list(paired(a, b).differences.index) == [0, 1, 2]
    with pytest.raises(ValueError, match=r"no seed in common"):
        paired({0: 0.9}, {1: 0.9})


def _t_cdf(x: float, df: int, steps: int = 20000) -> float:
    """P(T <= x) for Student's t, by Simpson's rule on its density from 0 to x."""
    c = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))
    h = x / steps
    ys = [c * (1 + (i * h) ** 2 / df) ** (-(df + 1) / 2) for i in range(steps + 1)]
    area = h / 3 * (ys[0] + ys[-1] + 4 * sum(ys[1:-1:2]) + 2 * sum(ys[2:-1:2]))
    return 0.5 + area


@pytest.mark.parametrize("df", [1, 2, 3, 4, 9, 29])
def test_the_t_table_is_the_975th_percentile(df):
    assert _t_cdf(comparisons.t_quantile(df), df) == pytest.approx(0.975, abs=2e-4)


def test_t_quantile_refuses_what_is_not_a_number_of_degrees():
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="degrees_of_freedom"):
            comparisons.t_quantile(bad)
    assert comparisons.t_quantile(100) == 1.960
