"""Checks for the exercises of notebook 03 (training and evaluating)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from helpers.exercises import (
    CORRECT,
    INCORRECT,
    NOT_ATTEMPTED,
    classifier_problem,
    exercise,
    is_unanswered,
    number,
    reference_model,
)

#: Exercise 03.3: the most parameters the small model may have, and the validation
#: accuracy it must reach.
MAX_PARAMS = 30_000
MIN_ACCURACY = 0.85


@exercise("03.1")
def steps_per_epoch(answer):
    return number(
        answer,
        844,
        hints={
            843: "54,000 / 64 = 843.75: the last, smaller batch of 48 images is a step too.",
            843.75: "A step processes a whole batch; the last batch is simply smaller, so round up.",
            54_000: "That is the number of images; a step processes a batch of 64 of them.",
            1688: "1,688 steps is the answer for batches of 32 (printed under Training); this "
            "question uses 64.",
            422: "422 steps is the answer for a batch size of 128; this question uses 64.",
            "default": "Divide the number of training images by the batch size and round up.",
        },
        why="ceil(54,000 / 64) = 844: 843 full batches and one of 48 images.",
    )


@exercise("03.2")
def per_class_from_confusion(fn):
    if not callable(fn):
        return INCORRECT, f"Expected a function, got {type(fn).__name__}."
    matrix = np.array([[8, 1, 1], [2, 6, 2], [0, 5, 15]])
    expected = np.array([0.8, 0.6, 0.75])
    out = np.asarray(fn(matrix.copy()), dtype=float)
    if out.shape != (3,):
        return INCORRECT, (
            f"For a 3 × 3 matrix the result has shape {out.shape}; expected (3,), one "
            "accuracy per class."
        )
    if np.allclose(out, expected):
        return (
            CORRECT,
            "The diagonal divided by the row sums: correct predictions / images of the class.",
        )
    if np.allclose(out, np.diag(matrix) / matrix.sum(axis=0)):
        return INCORRECT, (
            "You divided by the column sums, which counts how often each class was "
            "*predicted* (that is precision). Rows are the true classes: divide by row sums."
        )
    if np.allclose(out, np.diag(matrix)):
        return (
            INCORRECT,
            "These are counts; divide each by the number of images of its class (the row sum).",
        )
    if np.allclose(out, np.diag(matrix) / matrix.sum()):
        return INCORRECT, "Divide by each class's own total (its row sum), not by all images."
    return INCORRECT, (
        f"For [[8, 1, 1], [2, 6, 2], [0, 5, 15]] expected {expected.tolist()}, got "
        f"{np.round(out, 3).tolist()}."
    )


@lru_cache(maxsize=2)
def _validation_set(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The validation set of ``seed``: ``data.course_splits(seed=seed).validation``.

    The one the notebook's ``splits`` holds for ``SEED = seed``: the images its model was
    not trained on (another seed's validation images are mostly in its training split).
    """
    from helpers import data

    return data.course_splits(seed=seed).validation


def judge_small_model(model, x: np.ndarray, y: np.ndarray) -> tuple[str, str]:
    """Exercise 03.3's verdict on ``model`` measured on ``(x, y)``."""
    problem = classifier_problem(model)
    if problem:
        return INCORRECT, problem
    params = model.count_params()
    if params > MAX_PARAMS:
        return INCORRECT, (
            f"The model has {params:,} parameters, more than {MAX_PARAMS:,}. Most of the "
            "baseline's sit in its dense layer: try models.cnn(dense_units=16)."
        )
    predictions = np.asarray(model.predict(x, batch_size=1024, verbose=0)).argmax(axis=1)
    accuracy = float((predictions == y).mean())
    if accuracy < 0.2:
        return INCORRECT, (
            f"Validation accuracy {accuracy:.1%}, about chance: has the model been trained? "
            "Call training.train(model, ...) first."
        )
    if accuracy < MIN_ACCURACY:
        return INCORRECT, (
            f"Validation accuracy {accuracy:.1%} with {params:,} parameters; {MIN_ACCURACY:.0%} "
            "is needed. Train on more images or for another epoch."
        )
    baseline = reference_model("baseline_cnn").count_params()
    return CORRECT, (
        f"{accuracy:.1%} validation accuracy with {params:,} parameters, "
        f"{params / baseline:.0%} of the baseline's {baseline:,}: most of its dense layer was "
        "not needed."
    )


@exercise("03.3")
def small_model(answer):
    """``answer`` is ``(model, SEED)``: the trained model and the seed of its data split."""
    model, seed = answer if isinstance(answer, tuple) and len(answer) == 2 else (answer, None)
    if is_unanswered(model):
        return NOT_ATTEMPTED, "Replace the ... with your trained model and run the cell again."
    problem = classifier_problem(model)
    if problem:
        return INCORRECT, problem
    if seed is None:
        return INCORRECT, (
            'Pass the model together with SEED: check("03.3", (small_model, SEED)). The '
            "check measures it on the validation set of that seed, the images it did not "
            "train on."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        return INCORRECT, (
            f"The second item is the seed the data were split with (SEED, a whole number "
            f"from 0), got {seed!r}."
        )
    return judge_small_model(model, *_validation_set(int(seed)))
