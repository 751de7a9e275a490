"""helpers.calibration: the expected calibration error and temperature scaling.

Notebook 09 writes both itself and checks, in a cell with an assert, that the helpers
give the same numbers on the baseline's predictions; these tests pin them down on small
cases worked out by hand.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from helpers import calibration


def _two_class(confidences, correct):
    """Probabilities whose largest entry is ``confidence``, right or wrong as given."""
    p = np.array([[c, 1 - c] for c in confidences])
    labels = np.array([0 if ok else 1 for ok in correct])
    return p, labels


def test_ece_is_zero_when_confidence_matches_accuracy():
    # 0.75 confident four times, right three times: perfectly calibrated.
    p, y = _two_class([0.75] * 4, [1, 1, 1, 0])
    assert calibration.expected_calibration_error(p, y, n_bins=10) == pytest.approx(0.0)


def test_ece_weights_each_bin_by_its_share():
    # Bin (0.9, 1.0]: three at 0.95, all right (gap 0.05); bin (0.6, 0.7]: one at 0.65, wrong
    # (gap 0.65). ECE = 3/4 * 0.05 + 1/4 * 0.65 = 0.2.
    p, y = _two_class([0.95, 0.95, 0.95, 0.65], [1, 1, 1, 0])
    assert calibration.expected_calibration_error(p, y, n_bins=10) == pytest.approx(0.2)


def test_a_confidence_on_an_edge_belongs_to_the_lower_bin():
    # With 2 bins, 0.5 is in (0, 0.5] with 0.4 (here: a third class keeps 0.4 the largest).
    p = np.array([[0.5, 0.5, 0.0], [0.4, 0.3, 0.3], [1.0, 0.0, 0.0]])
    y = np.array([0, 1, 0])
    # Bin (0, 0.5]: confidences 0.5 and 0.4, one right: |0.5 - 0.45| = 0.05, share 2/3.
    # Bin (0.5, 1]: confidence 1.0, right: gap 0. ECE = 2/3 * 0.05.
    assert calibration.expected_calibration_error(p, y, n_bins=2) == pytest.approx(0.1 / 3)


def test_ece_of_an_overconfident_model():
    p, y = _two_class([0.99] * 10, [1] * 5 + [0] * 5)
    assert calibration.expected_calibration_error(p, y) == pytest.approx(0.49)


@pytest.mark.parametrize(
    ("probabilities", "labels", "message"),
    [
        (np.ones(4), np.zeros(4, int), "expected (N, classes)"),
        (np.full((2, 3), 2.0), np.zeros(2, int), "outside [0, 1]"),
        (np.full((2, 2), 0.5), np.zeros(3, int), "expected (2,) integer class labels"),
        (np.full((2, 2), 0.5), np.array([0.0, 1.0]), "integer class labels"),
        (np.full((2, 2), 0.5), np.array([0, 2]), "expected 0 to 1"),
    ],
)
def test_ece_rejects_what_is_not_predictions(probabilities, labels, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        calibration.expected_calibration_error(probabilities, labels)


def test_ece_rejects_a_bad_number_of_bins():
    p, y = _two_class([0.9], [1])
    with pytest.raises(ValueError, match=re.escape("n_bins is 0; expected a whole number >= 1")):
        calibration.expected_calibration_error(p, y, n_bins=0)


def _sampled(temperature, seed=0, n=5000):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, size=(n, 10))
    z = logits / temperature
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    labels = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return logits, labels


@pytest.mark.parametrize("truth", [0.5, 1.0, 2.0])
def test_fit_temperature_finds_the_temperature_the_labels_were_drawn_with(truth):
    logits, labels = _sampled(truth)
    assert calibration.fit_temperature(logits, labels) == pytest.approx(truth, rel=0.06)


def test_fit_temperature_returns_a_value_of_the_grid_with_the_lowest_nll():
    logits, labels = _sampled(1.5, seed=1)
    grid = np.array([0.5, 1.0, 1.5, 2.0, 3.0])
    assert calibration.fit_temperature(logits, labels, grid) == 1.5


def test_fit_temperature_refuses_a_best_value_at_the_end_of_the_grid():
    logits, labels = _sampled(3.0, seed=2)
    with pytest.raises(ValueError, match="an end of the temperatures tried"):
        calibration.fit_temperature(logits, labels, [0.5, 1.0, 1.5])


@pytest.mark.parametrize(
    ("logits", "labels", "temperatures", "message"),
    [
        (np.zeros(3), np.zeros(3, int), None, "expected finite scores (N, classes)"),
        (np.full((2, 2), np.inf), np.zeros(2, int), None, "expected finite scores"),
        (np.zeros((2, 2)), np.zeros(2, int), [0.0, 1.0, 2.0], "at least three positive"),
        (np.zeros((2, 2)), np.zeros(2, int), [1.0, 2.0], "at least three positive"),
    ],
)
def test_fit_temperature_rejects_bad_arguments(logits, labels, temperatures, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        calibration.fit_temperature(logits, labels, temperatures)


def test_the_default_grid_runs_from_a_quarter_to_four():
    grid = calibration.TEMPERATURES
    assert grid[0] == pytest.approx(0.25) and grid[-1] == pytest.approx(4.0)
    assert np.all(np.diff(grid) > 0) and 1.0 in np.round(grid, 12)
