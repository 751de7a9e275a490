"""helpers.params.check_params: every rule's good values, wrong types, booleans, values
out of range and unknown names; each message names the parameter, the value received
and what is expected."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from helpers import params
from helpers.params import ParameterError, check_params

# The documented ranges, written out independently of helpers/params.py:
# name: (good value, lowest allowed, highest allowed, a word of the expectation).
RANGES = {
    "SEED": (0, 0, 2**31 - 1, "whole number"),
    "EPOCHS": (5, 1, 500, "epochs"),
    "TRAIN_SIZE": (10_000, 100, 60_000, "training images"),
    "TEST_SIZE": (2_000, 100, 10_000, "test images"),
    "VAL_SIZE": (1_000, 100, 6_000, "validation images"),
    "VAL_FRACTION": (0.1, 0.01, 0.5, "fraction"),
    "BATCH_SIZE": (128, 1, 8192, "batch size"),
    "LEARNING_RATE": (1e-3, 1e-6, 1.0, "learning rate"),
    "HIGH_LEARNING_RATE": (1e-2, 1e-6, 1.0, "learning rate"),
    "IMAGE_INDEX": (42, 0, 9_999, "test-image index"),
    "FILTER_INDEX": (3, 0, 31, "filter index"),
    "CLASS_INDEX": (9, 0, 9, "class label"),
    "MAX_SHIFT": (2, 0, 14, "shift"),
    "TIME_BUDGET_S": (60, 1, 3600, "seconds"),
}
INTEGER = {"SEED", "EPOCHS", "TRAIN_SIZE", "TEST_SIZE", "VAL_SIZE", "BATCH_SIZE"} | {
    "IMAGE_INDEX",
    "FILTER_INDEX",
    "CLASS_INDEX",
    "MAX_SHIFT",
}
NUMERIC_RULES = sorted(n for n in params._RULES if n != "PROFILE")  # new rules are picked up too


def message_of(**kwargs) -> str:
    with pytest.raises(ParameterError) as err:
        check_params(**kwargs)
    assert isinstance(err.value, ValueError), "ParameterError is a ValueError"
    return str(err.value)


def assert_readable(message: str, name: str, value) -> None:
    assert f"{name} = {value!r}" in message, f"names the parameter and the value: {message}"
    assert "expected" in message, f"says what is expected: {message}"
    assert "parameters cell" in message and "papermill" in message, f"says what to do: {message}"


# --------------------------------------------------------------------------- the ranges


def test_the_documented_ranges_are_the_rules():
    assert set(RANGES) <= set(params._RULES), "a documented parameter lost its rule"


@pytest.mark.parametrize("name", sorted(RANGES))
def test_good_values_and_both_bounds_pass(name):
    good, low, high, _ = RANGES[name]
    for value in (good, low, high):
        assert check_params(**{name: value}) is None


@pytest.mark.parametrize("name", sorted(RANGES))
def test_just_outside_the_range_fails_and_says_the_range(name):
    good, low, high, word = RANGES[name]
    step = 1 if name in INTEGER else low / 2
    for value in (low - step, high + (1 if name in INTEGER else high)):
        message = message_of(**{name: value})
        assert_readable(message, name, value)
        assert word in message, f"the expectation mentions {word!r}: {message}"


@pytest.mark.parametrize("name", NUMERIC_RULES)
@pytest.mark.parametrize("value", [-1, 10**9])
def test_minus_one_and_a_billion(name, value):
    """-1 is below every range; 10**9 above all but SEED's."""
    if name == "SEED" and value == 10**9:
        check_params(SEED=value)  # a valid seed
        return
    assert_readable(message_of(**{name: value}), name, value)


# --------------------------------------------------------------------------- types


@pytest.mark.parametrize("name", sorted(params._RULES))
def test_a_string_is_rejected_with_its_type(name):
    message = message_of(**{name: "five"})
    assert_readable(message, name, "five")
    if name != "PROFILE":  # PROFILE is a string; "five" is just not one of its choices
        assert "(str)" in message


@pytest.mark.parametrize("name", sorted(params._RULES))
@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_not_numbers_here(name, value):
    message = message_of(**{name: value})
    assert_readable(message, name, value)
    assert "(bool)" in message


@pytest.mark.parametrize("name", sorted(INTEGER))
def test_whole_number_parameters_reject_floats(name):
    good = RANGES[name][0]
    message = message_of(**{name: float(good)})
    assert_readable(message, name, float(good))
    assert "(float)" in message


@pytest.mark.parametrize("name", sorted(INTEGER))
def test_numpy_integers_are_whole_numbers(name):
    check_params(**{name: np.int64(RANGES[name][0])})


@pytest.mark.parametrize("name", sorted(set(RANGES) - INTEGER))
def test_real_parameters_take_ints_floats_numpy_and_fractions(name):
    good = RANGES[name][0]
    for value in (good, np.float64(good), np.float32(good), Fraction(good)):
        check_params(**{name: value})


@pytest.mark.parametrize("name", sorted(set(RANGES) - INTEGER))
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float32("nan")])
def test_real_parameters_reject_nan_and_infinity(name, value):
    assert_readable(message_of(**{name: value}), name, value)


@pytest.mark.parametrize("value", [None, [5], 5 + 0j])
def test_other_types_are_rejected(value):
    message = message_of(EPOCHS=value)
    assert_readable(message, "EPOCHS", value)
    assert f"({type(value).__name__})" in message


# --------------------------------------------------------------------------- PROFILE


@pytest.mark.parametrize("value", ["fast", "full"])
def test_profile_choices(value):
    check_params(PROFILE=value)
    assert value in params.PROFILES


@pytest.mark.parametrize("value", ["Fast", "book", "", 1])
def test_profile_rejects_anything_else(value):
    message = message_of(PROFILE=value)
    assert_readable(message, "PROFILE", value)
    assert "'fast'" in message and "'full'" in message


# --------------------------------------------------------------------------- names, several


@pytest.mark.parametrize("name, value", [("EPOCH", 5), ("seed", 0), ("LR", "five")])
def test_unknown_parameter_names_are_rejected(name, value):
    message = message_of(SEED=0, **{name: value})
    assert f"No rule for the parameter {name}" in message
    assert repr(value) in message, "says the value received"
    assert "SEED" in message and "EPOCHS" in message, "lists the known parameters"
    assert "helpers/params.py" in message, "says what to do"


def test_several_problems_are_reported_together():
    message = message_of(SEED=-1, EPOCHS="five", BATCH_SIZE=64, PROFILE="full")
    assert message.startswith("Invalid notebook parameters:")
    assert "SEED = -1" in message and "EPOCHS = 'five'" in message
    assert "BATCH_SIZE" not in message and "PROFILE" not in message, "only the bad ones"


def test_one_problem_is_singular():
    assert message_of(EPOCHS=0).startswith("Invalid notebook parameter:")


def test_a_typical_notebook_call_passes():
    assert (
        check_params(SEED=0, EPOCHS=10, TRAIN_SIZE=60_000, BATCH_SIZE=128, PROFILE="full") is None
    )
    assert check_params() is None
