"""helpers.checks: every check accepts good values (NumPy scalars too) and rejects bools,
wrong types, NaN and out-of-range values with one message pattern: what was received,
what was expected, and an example where one helps."""

from __future__ import annotations

import re
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from helpers import checks

NAN, INF = float("nan"), float("inf")


def message(text: str) -> str:
    """A ``match=`` pattern for exactly this message."""
    return f"^{re.escape(text)}$"


# --------------------------------------------------------------------------- the module


def test_every_check_is_exported():
    defined = {
        name
        for name, value in vars(checks).items()
        if not name.startswith("_")
        and callable(value)
        and getattr(value, "__module__", None) == checks.__name__
    }
    assert sorted(checks.__all__) == sorted(defined)


def test_importing_the_checks_imports_neither_keras_nor_tensorflow():
    """Every helper module imports checks, so it must stay light (NumPy only)."""
    code = (
        "import sys, helpers.checks; "
        "heavy = sorted(m for m in ('keras', 'tensorflow', 'matplotlib', 'pandas') "
        "if m in sys.modules); print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"importing helpers.checks imported {done.stdout.strip()}"


# --------------------------------------------------------------------------- whole


@pytest.mark.parametrize("value", [0, 5, 10**12, np.int64(5), np.int32(5), np.uint8(5), np.int8(0)])
def test_whole_accepts_whole_numbers_as_python_ints(value):
    result = checks.whole("n", value)
    assert result == value and type(result) is int


@pytest.mark.parametrize(
    "value",
    [True, False, np.bool_(True), 5.0, 2.5, np.float64(5.0), NAN, INF, "5", None, [5], 5j],
)
def test_whole_rejects_bools_floats_and_other_types(value):
    with pytest.raises(ValueError, match=message(f"n is {value!r}; expected a whole number")):
        checks.whole("n", value)


def test_whole_bounds_are_inclusive():
    assert checks.whole("filter_index", 0, 0, 7) == 0
    assert checks.whole("filter_index", 7, 0, 7) == 7
    assert checks.whole("epochs", 1, 1) == 1
    assert checks.whole("shift", -3, high=-3) == -3


@pytest.mark.parametrize(
    ("value", "low", "high", "example", "expected"),
    [
        (0, 1, None, 5, "a whole number >= 1, e.g. 5"),
        (-1, 1, None, None, "a whole number >= 1"),
        (8, 0, 7, None, "a whole number from 0 to 7"),
        (-1, 0, 7, None, "a whole number from 0 to 7"),
        (10, None, 9, 3, "a whole number <= 9, e.g. 3"),
        (np.int64(0), 1, None, 5, "a whole number >= 1, e.g. 5"),
        (2.5, 1, None, 5, "a whole number >= 1, e.g. 5"),
        (True, 1, None, 5, "a whole number >= 1, e.g. 5"),
    ],
)
def test_whole_says_what_it_got_and_what_it_expected(value, low, high, example, expected):
    text = f"epochs is {value!r}; expected {expected}"
    with pytest.raises(ValueError, match=message(text)):
        checks.whole("epochs", value, low, high, example=example)


def test_whole_message_for_the_examples_of_the_course():
    with pytest.raises(
        ValueError, match=message("epochs is 0; expected a whole number >= 1, e.g. 5")
    ):
        checks.whole("epochs", 0, 1, example=5)
    with pytest.raises(
        ValueError, match=message("batch_size is 0; expected a whole number >= 1, e.g. 128")
    ):
        checks.whole("batch_size", 0, 1, example=128)
    with pytest.raises(
        ValueError, match=message("filter_index is 8; expected a whole number from 0 to 7")
    ):
        checks.whole("filter_index", 8, 0, 7)


# --------------------------------------------------------------------------- number


@pytest.mark.parametrize(
    "value", [0, 0.1, -3, 1e300, np.float32(0.25), np.float64(0.1), np.int64(2), Fraction(1, 4)]
)
def test_number_accepts_real_numbers_as_python_floats(value):
    result = checks.number("x", value)
    assert result == pytest.approx(float(value)) and type(result) is float


@pytest.mark.parametrize(
    "value", [True, False, np.bool_(False), "0.1", None, 1j, [0.1], NAN, INF, -INF, np.nan]
)
def test_number_rejects_bools_other_types_and_non_finite_values(value):
    with pytest.raises(ValueError, match=message(f"x is {value!r}; expected a number")):
        checks.number("x", value)


def test_number_bounds_low_high_inclusive_above_below_exclusive():
    assert checks.number("x", 0, low=0) == 0.0
    assert checks.number("x", 1, high=1) == 1.0
    assert checks.number("x", 0.5, above=0, high=0.5) == 0.5
    for kwargs in ({"above": 0}, {"below": 0}):
        with pytest.raises(ValueError):
            checks.number("x", 0, **kwargs)
    with pytest.raises(ValueError):
        checks.number("x", -1e-12, low=0)
    with pytest.raises(ValueError):
        checks.number("x", 1 + 1e-12, high=1)


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        (
            1.5,
            {"above": 0, "below": 1, "example": 0.1},
            "fraction is 1.5; expected a number > 0 and < 1, e.g. 0.1",
        ),
        (
            0,
            {"above": 0, "below": 1, "example": 0.1},
            "fraction is 0; expected a number > 0 and < 1, e.g. 0.1",
        ),
        (NAN, {"above": 0, "below": 1}, "fraction is nan; expected a number > 0 and < 1"),
        (-1, {"low": 0}, "fraction is -1; expected a number >= 0"),
        (
            0.6,
            {"above": 0, "high": 0.5, "example": 0.1},
            "fraction is 0.6; expected a number > 0 and <= 0.5, e.g. 0.1",
        ),
        (2, {"low": 0, "high": 1}, "fraction is 2; expected a number >= 0 and <= 1"),
        (2, {"low": 1e-6, "high": 1e-3}, "fraction is 2; expected a number >= 1e-06 and <= 0.001"),
        ("0.1", {"above": 0, "example": 0.1}, "fraction is '0.1'; expected a number > 0, e.g. 0.1"),
    ],
)
def test_number_says_what_it_got_and_what_it_expected(value, kwargs, text):
    with pytest.raises(ValueError, match=message(text)):
        checks.number("fraction", value, **kwargs)


# --------------------------------------------------------------------------- rate


@pytest.mark.parametrize(
    "value", [0, 0.0, 0.25, 0.999, np.float32(0.5), np.float64(0.1), np.int64(0)]
)
def test_rate_accepts_dropout_rates(value):
    result = checks.rate("conv_dropout", value)
    assert result == pytest.approx(float(value)) and type(result) is float


@pytest.mark.parametrize(
    "value", [1, 1.0, -0.1, 1.5, NAN, INF, True, False, "0.5", None, np.float64(1.0)]
)
def test_rate_rejects_what_is_not_a_rate_in_0_1(value):
    text = f"conv_dropout is {value!r}; expected a dropout rate in [0, 1), e.g. 0.25"
    with pytest.raises(ValueError, match=message(text)):
        checks.rate("conv_dropout", value)


# --------------------------------------------------------------------------- flag


@pytest.mark.parametrize("value", [True, False, np.bool_(True), np.bool_(False)])
def test_flag_accepts_booleans(value):
    result = checks.flag("batch_norm", value)
    assert result == bool(value) and type(result) is bool


@pytest.mark.parametrize("value", [1, 0, 1.0, "True", "yes", None, np.int64(1), [True]])
def test_flag_rejects_what_is_not_true_or_false(value):
    text = f"batch_norm is {value!r}; expected True or False"
    with pytest.raises(ValueError, match=message(text)):
        checks.flag("batch_norm", value)


# --------------------------------------------------------------------------- choice


@pytest.mark.parametrize(
    ("value", "choices"), [(0, (0, 1, 2)), (np.int64(2), (0, 1, 2)), ("max", ["max", "none"])]
)
def test_choice_accepts_one_of_the_choices(value, choices):
    assert checks.choice("verbose", value, choices) == value


@pytest.mark.parametrize(
    ("value", "choices", "text"),
    [
        (3, (0, 1, 2), "verbose is 3; expected one of (0, 1, 2)"),
        (True, (0, 1, 2), "verbose is True; expected one of (0, 1, 2)"),
        (False, (0, 1, 2), "verbose is False; expected one of (0, 1, 2)"),
        ("1", (0, 1, 2), "verbose is '1'; expected one of (0, 1, 2)"),
        (None, (0, 1, 2), "verbose is None; expected one of (0, 1, 2)"),
        (NAN, (0, 1, 2), "verbose is nan; expected one of (0, 1, 2)"),
        ("Max", ["max", "none"], "verbose is 'Max'; expected one of ('max', 'none')"),
    ],
)
def test_choice_rejects_anything_else_naming_the_choices(value, choices, text):
    with pytest.raises(ValueError, match=message(text)):
        checks.choice("verbose", value, choices)


# --------------------------------------------------------------------------- positive_ints


@pytest.mark.parametrize(
    ("value", "expected"),
    [((32, 32), (32, 32)), ([16], (16,)), ((np.int64(8), 1), (8, 1))],
)
def test_positive_ints_returns_a_tuple_of_python_ints(value, expected):
    result = checks.positive_ints("filters", value, "(32, 32)")
    assert result == expected and all(type(v) is int for v in result)


@pytest.mark.parametrize(
    "value", [(), [], (0,), (32, -1), (True,), (32, 2.0), (NAN,), "32", 32, None, {32: 1}]
)
def test_positive_ints_rejects_empty_non_positive_and_non_integer_entries(value):
    text = f"filters is {value!r}; expected a non-empty tuple of positive ints, e.g. (32, 32)"
    with pytest.raises(ValueError, match=message(text)):
        checks.positive_ints("filters", value, "(32, 32)")


# --------------------------------------------------------------------------- names


def test_names_accepts_one_name_or_several_in_the_given_order():
    known = ["max", "average", "none"]
    assert checks.names("none", known, "variants") == ["none"]
    assert checks.names(("none", "max"), known, "variants") == ["none", "max"]
    assert checks.names(iter(["average"]), known, "variants") == ["average"]


def test_names_rejects_unknown_and_empty_lists_naming_the_known_ones():
    known = ["max", "none"]
    text = "variants names ['average'] that are not in the experiment; expected some of ['max', 'none']"
    with pytest.raises(ValueError, match=message(text)):
        checks.names(["max", "average"], known, "variants")
    with pytest.raises(
        ValueError, match=message("directions is empty; expected some of ['max', 'none']")
    ):
        checks.names([], known, "directions")
    with pytest.raises(ValueError, match=r"names \['MAX'\] that are not"):
        checks.names("MAX", known, "variants")


# --------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    "y", [[0, 9, 3], np.array([0, 9, 3], np.uint8), np.array([0, 9, 3], np.int64), (0, 9, 3)]
)
def test_labels_accepts_integer_class_labels(y):
    result = checks.labels(y, 3)
    assert isinstance(result, np.ndarray) and result.tolist() == [0, 9, 3]


def test_labels_accepts_no_labels_for_no_images():
    assert len(checks.labels(np.array([], np.int64), 0)) == 0


@pytest.mark.parametrize(
    ("y", "text"),
    [
        (np.zeros(4, int), "y_train has shape (4,); expected (3,), one label per image"),
        (np.zeros((3, 1), int), "y_train has shape (3, 1); expected (3,), one label per image"),
        (np.eye(3, dtype=int), "y_train has shape (3, 3); expected (3,), one label per image"),
        (7, "y_train has shape (); expected (3,), one label per image"),
        (np.zeros(3), "y_train has dtype float64; expected integer class labels 0-9"),
        (np.array([0, 1, np.nan]), "y_train has dtype float64; expected integer class labels 0-9"),
        (
            np.array([True, False, True]),
            "y_train has dtype bool; expected integer class labels 0-9",
        ),
        (np.array(["0", "1", "2"]), "y_train has dtype <U1; expected integer class labels 0-9"),
        (np.array([0, 10, 3]), "y_train holds labels from 0 to 10; expected 0-9"),
        (np.array([-1, 2, 3]), "y_train holds labels from -1 to 3; expected 0-9"),
    ],
)
def test_labels_rejects_wrong_shapes_dtypes_and_classes(y, text):
    with pytest.raises(ValueError, match=message(text)):
        checks.labels(y, 3, "y_train")


# --------------------------------------------------------------------------- images


def model_input(n: int = 3, dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(0).random((n, 28, 28, 1)).astype(dtype)


def test_indices_returns_distinct_positions_as_an_int_array():
    result = checks.indices("chosen", [3, 0, np.int64(2)], 4)
    assert result.tolist() == [3, 0, 2] and result.dtype == np.int64


@pytest.mark.parametrize("value", [[], [0, 4], [-1], [1, 1], [0.5], [True, False], [[0]], "0"])
def test_indices_rejects_empty_out_of_range_repeated_and_non_integer_lists(value):
    with pytest.raises(
        ValueError,
        match=(
            f"^chosen is {re.escape(repr(value))}; expected a non-empty list of distinct "
            r"whole numbers from 0 to 3, e\.g\. \[0, 5, 9\]$"
        ),
    ):
        checks.indices("chosen", value, 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_images_accepts_model_input(dtype):
    x = model_input(dtype=dtype)
    assert checks.images(x) is x
    assert checks.images(np.zeros((1, 28, 28, 1), dtype)).shape == (1, 28, 28, 1)
    assert checks.images(np.ones((1, 28, 28, 1), dtype)).shape == (1, 28, 28, 1)


def test_images_flags_floats_still_in_0_255():
    x = (model_input() * 255).round()
    with pytest.raises(ValueError, match="look like they are still in 0-255") as err:
        checks.images(x, "x_train")
    assert "x_train has values from" in str(err.value) and "expected [0, 1]" in str(err.value)
    assert "to_model_input" in str(err.value)


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (
            np.zeros((2, 28, 28), np.float32),
            r"^x has shape \(2, 28, 28\); expected \(N, 28, 28, 1\)",
        ),
        (
            np.zeros((2, 28, 28, 3), np.float32),
            r"^x has shape \(2, 28, 28, 3\); expected \(N, 28, 28, 1\)",
        ),
        (
            np.zeros((28, 28, 1), np.float32),
            r"^x has shape \(28, 28, 1\); expected \(N, 28, 28, 1\)",
        ),
        (np.zeros((0, 28, 28, 1), np.float32), "^x is empty; expected at least one image$"),
        (np.zeros((2, 28, 28, 1), np.uint8), "^x has dtype uint8; expected float32 values in"),
        (np.zeros((2, 28, 28, 1), bool), "^x has dtype bool; expected float32 values in"),
        (
            np.full((2, 28, 28, 1), -0.5, np.float32),
            r"^x has values from -0.5 to -0.5; expected \[0, 1\]",
        ),
        (np.full((2, 28, 28, 1), np.nan, np.float32), "^x holds 1568 NaN or infinite values"),
        (np.full((2, 28, 28, 1), np.inf, np.float32), "^x holds 1568 NaN or infinite values"),
    ],
    ids=["no-channel", "rgb", "one-image", "empty", "uint8", "bool", "negative", "nan", "inf"],
)
def test_images_errors(x, match):
    with pytest.raises(ValueError, match=match):
        checks.images(x)


def test_images_says_which_argument_and_how_to_fix_it():
    with pytest.raises(ValueError, match=r"^validation x has shape .*to_model_input\(images\)"):
        checks.images(np.zeros((2, 28, 28), np.float32), "validation x")
    one_nan = model_input()
    one_nan[1, 3, 4, 0] = np.nan
    with pytest.raises(ValueError, match="^x holds 1 NaN or infinite values; expected finite"):
        checks.images(one_nan)


# --------------------------------------------------------------------------- model


def test_model_accepts_keras_models():
    import keras

    sequential = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    inputs = keras.Input((3,))
    functional = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    assert checks.model(sequential) is sequential
    assert checks.model(functional, "helper") is functional


@pytest.mark.parametrize("value", ["baseline", None, 3, "dense-layer"])
def test_model_rejects_what_is_not_a_keras_model(value):
    import keras

    if value == "dense-layer":
        value = keras.layers.Dense(2)
    text = (
        f"baseline is a {type(value).__name__}; expected a Keras model, "
        "e.g. helpers.models.baseline_cnn()"
    )
    with pytest.raises(TypeError, match=message(text)):
        checks.model(value, "baseline")


# --------------------------------------------------------------------------- the pattern


SCALAR_CHECKS = {
    "whole": lambda v: checks.whole("value", v, 0, example=1),
    "number": lambda v: checks.number("value", v, example=1),
    "rate": lambda v: checks.rate("value", v),
    "flag": lambda v: checks.flag("value", v),
    "choice": lambda v: checks.choice("value", v, (0, 1)),
}


@pytest.mark.parametrize("check", list(SCALAR_CHECKS))
@pytest.mark.parametrize("value", ["1", None, NAN], ids=["string", "none", "nan"])
def test_every_scalar_check_names_the_value_and_what_it_expected(check, value):
    with pytest.raises(ValueError) as err:
        SCALAR_CHECKS[check](value)
    text = str(err.value)
    assert text.startswith(f"value is {value!r}; expected "), text


@pytest.mark.parametrize("check", [c for c in SCALAR_CHECKS if c != "flag"])
@pytest.mark.parametrize(
    "value",
    [True, False, np.bool_(True), np.bool_(False)],
    ids=["True", "False", "np.True_", "np.False_"],
)
def test_every_scalar_check_but_flag_rejects_bools(check, value):
    """True == 1 and False == 0, so a bool would pass as a number or a choice unless refused."""
    with pytest.raises(ValueError, match=f"^value is {re.escape(repr(value))}; expected "):
        SCALAR_CHECKS[check](value)
