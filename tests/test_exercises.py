"""The exercise-feedback framework and notebook 01's checks."""

from __future__ import annotations

import random

import numpy as np
import pytest

from helpers import models
from helpers.exercises import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    check,
    reference_model,
    registered,
)


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="registered ones are"):
        check("99.9", 1)


@pytest.mark.parametrize("exercise", registered())
def test_every_check_accepts_the_unattempted_default(exercise):
    for default in (..., None):
        feedback = check(exercise, default)
        assert feedback.status == NOT_ATTEMPTED
        assert "Not attempted yet" in repr(feedback)


def test_a_crashing_answer_is_feedback_not_an_error():
    def broken(images):
        raise ZeroDivisionError("oops")

    feedback = check("01.4", broken)
    assert feedback.status == INCORRECT and "ZeroDivisionError" in feedback.message


def test_a_function_still_raising_not_implemented_is_unattempted():
    def todo(images):
        raise NotImplementedError

    assert check("01.4", todo).status == NOT_ATTEMPTED


def test_reference_models_are_built_once_and_leave_the_random_state_alone():
    """Checks read numbers from models they build; that must not change a notebook's run."""
    random.seed(1)
    np.random.seed(1)
    expected = random.random(), np.random.random()
    random.seed(1)
    np.random.seed(1)
    model = reference_model("cnn", dense_units=7)
    assert (random.random(), np.random.random()) == expected
    assert reference_model("cnn", dense_units=7) is model
    assert model.count_params() == models.cnn(dense_units=7).count_params()


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        (784, CORRECT, "28 × 28"),
        (28 * 28.0, CORRECT, ""),
        (28, INCORRECT, "one side"),
        (60000, INCORRECT, "training images"),
        (100, INCORRECT, "28 pixels high"),
        ("784", INCORRECT, "Expected a number"),
    ],
)
def test_01_1_pixels(answer, status, hint):
    feedback = check("01.1", answer)
    assert feedback.status == status and hint in feedback.message


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [(600, CORRECT, ""), (6000, INCORRECT, "per class"), (5400, INCORRECT, "stays in training")],
)
def test_01_2_validation_per_class(answer, status, hint):
    feedback = check("01.2", answer)
    assert feedback.status == status and hint in feedback.message


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ((64, 28, 28, 1), CORRECT, ""),
        ([64, 28, 28, 1], CORRECT, ""),
        ((64, 28, 28), INCORRECT, "channel axis"),
        ((28, 28, 1), INCORRECT, "batch axis"),
        ((64, 784), INCORRECT, "flatten"),
        (64, INCORRECT, "Expected a shape"),
    ],
)
def test_01_3_batch_shape(answer, status, hint):
    feedback = check("01.3", answer)
    assert feedback.status == status and hint in feedback.message


@pytest.mark.parametrize(
    ("fn", "status", "hint"),
    [
        (lambda x: x.astype(np.float32) / 255.0, CORRECT, ""),
        (lambda x: x / 255.0, INCORRECT, "float64"),
        (lambda x: x // 255, INCORRECT, "still integers"),
        (lambda x: (x / 256.0).astype(np.float32), INCORRECT, "Divide by 255"),
        (lambda x: x.reshape(-1).astype(np.float32) / 255, INCORRECT, "changed the shape"),
        ("not a function", INCORRECT, "Expected a function"),
    ],
)
def test_01_4_normalize(fn, status, hint):
    feedback = check("01.4", fn)
    assert feedback.status == status and hint in feedback.message
