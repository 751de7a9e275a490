"""The exercise checks of notebook 08 (data augmentation): right answers, typical mistakes
and their hints. The expected shapes of 08.1 come from Keras itself."""

from __future__ import annotations

import numpy as np
import pytest
from keras import layers

from helpers.exercises import CORRECT, INCORRECT, NOT_ATTEMPTED, check, registered

IDS = ["08.1", "08.2", "08.3"]


def test_all_are_registered():
    assert set(IDS) <= set(registered())


def expect(exercise, answer, status, hint=""):
    feedback = check(exercise, answer)
    assert feedback.status == status, feedback
    assert hint in feedback.message, feedback


# --------------------------------------------------------------------------- 08.1


def test_08_1_the_shape_keras_gives_and_the_range_it_keeps():
    zoom = layers.RandomZoom(0.5, fill_mode="constant", seed=1)
    x = np.random.default_rng(0).random((16, 28, 28, 1)).astype(np.float32)
    x[:, 10:18, 10:18] = 1.0  # some pixels at the top of the range
    out = np.asarray(zoom(x, training=True))
    assert out.min() >= 0.0 and out.max() <= 1.0 + 1e-6
    expect("08.1", (out.shape, (0.0, 1.0)), CORRECT, "stay in [0, 1]")
    expect("08.1", [list(out.shape), [0, 1]], CORRECT)


@pytest.mark.parametrize(
    "answer, hint",
    [
        (((16, 42, 42, 1), (0.0, 1.0)), "keeps the image's size"),
        (((28, 28, 1), (0.0, 1.0)), "Include the batch axis"),
        (((16, 28, 28, 1), (0.0, 1.5)), "weights that add up to 1"),
        (((16, 28, 28, 1), (0.5, 1.0)), "The border is filled with 0"),
        ((16, 28, 28, 1), "Expected a pair"),
        ((("a", 1), (0.0, 1.0)), "tuple of whole numbers"),
        (((16, 28, 28, 1), "0 to 1"), "pair of numbers"),
    ],
)
def test_08_1_typical_mistakes(answer, hint):
    expect("08.1", answer, INCORRECT, hint)


@pytest.mark.parametrize(
    "answer", [(16, 28, 28, 1), (("a", 1), (0.0, 1.0)), ((28, 28, 1), (0.0, 1.0)), "?"]
)
def test_08_1_no_hint_gives_the_answer_away(answer):
    feedback = check("08.1", answer)
    assert feedback.status == INCORRECT
    advice = feedback.message.split("; got ")[0]  # what follows echoes the answer received
    assert "(0.0, 1.0)" not in advice and "16, 28, 28" not in advice, feedback


# --------------------------------------------------------------------------- 08.2


def erase_right(image, top, left, size):
    out = image.copy()
    rows, cols = image.shape
    r0, r1 = max(top, 0), min(top + size, rows)
    c0, c1 = max(left, 0), min(left + size, cols)
    if r0 < r1 and c0 < c1:
        out[r0:r1, c0:c1] = 0
    return out


def erase_negative_slices(image, top, left, size):
    out = image.copy()
    out[top : top + size, left : left + size] = 0  # a negative start wraps around
    return out


def erase_in_place(image, top, left, size):
    image[max(top, 0) : max(top + size, 0), max(left, 0) : max(left + size, 0)] = 0
    return image


def erase_transposed(image, top, left, size):
    return erase_right(image.T, top, left, size).T


def test_08_2_right():
    expect("08.2", erase_right, CORRECT)


def test_08_2_unimplemented_is_unattempted():
    def erase(image, top, left, size):
        raise NotImplementedError

    assert check("08.2", erase).status == NOT_ATTEMPTED


@pytest.mark.parametrize(
    "fn, hint",
    [
        (erase_negative_slices, "A negative slice start counts from the end"),
        (erase_in_place, "changed the image it was given"),
        (erase_transposed, "pixels differ"),
        (lambda image, top, left, size: image[:10], "returned shape (10, 28)"),
        ("erase", "Expected a function"),
    ],
)
def test_08_2_typical_mistakes(fn, hint):
    expect("08.2", fn, INCORRECT, hint)


# --------------------------------------------------------------------------- 08.3

RIGHT = {"off centre": "shift", "tilted": "rotate", "distance": "zoom", "hidden": "erase"}


def test_08_3_right():
    expect("08.3", RIGHT, CORRECT)


@pytest.mark.parametrize(
    "answer, hint",
    [
        (RIGHT | {"tilted": "flip"}, "a mirror image is not what the situation describes"),
        (RIGHT | {"distance": "shift"}, "'distance': not 'shift'"),
        ({"off centre": "shift"}, "missing: ['distance', 'hidden', 'tilted']"),
        (RIGHT | {"hidden": "cutout"}, "Use the names"),
        (["shift", "rotate", "zoom", "erase"], "Expected a dict"),
    ],
)
def test_08_3_typical_mistakes(answer, hint):
    expect("08.3", answer, INCORRECT, hint)
