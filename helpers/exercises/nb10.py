"""Checks for the exercises of notebook 10 (the capstone)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from helpers.exercises import (
    CORRECT,
    INCORRECT,
    classifier_problem,
    exercise,
    layer_shape,
    number,
    reference_model,
)

#: Exercise 10.3: the most parameters the model may have, how the check trains it
#: and the validation accuracy it must reach.
MAX_PARAMS = 40_000
TRAIN_IMAGES = 10_000
EPOCHS = 2
BATCH_SIZE = 32
MIN_ACCURACY = 0.85
#: The baseline's validation accuracy after the same short training (seed 0): a
#: measurement, not a property of the model, so it is recorded here rather than trained
#: again in every check; a test trains the baseline this way and compares.
BASELINE_ACCURACY = 0.8445

_INGREDIENTS = {
    "BatchNormalization": "batch normalization (layers.BatchNormalization)",
    "Dropout": "dropout (layers.Dropout)",
    "Pooling": "pooling (layers.MaxPooling2D or AveragePooling2D)",
}


def _pooling_layers():
    from keras import layers

    return (layers.MaxPooling2D, layers.AveragePooling2D)


def _pool_sides(model) -> list[int]:
    """The feature maps' side before the first pooling layer and after each one: [28, 14, 7]."""
    pools = [layer.name for layer in model.layers if isinstance(layer, _pooling_layers())]
    sides = [layer_shape(model, pools[0], "input")[0]]
    return sides + [layer_shape(model, name)[0] for name in pools]


#: Exercise 10.1's model: the capstone with a third block of 128 filters.
THREE_BLOCKS = (32, 64, 128)


@exercise("10.1")
def dense_parameters(answer):
    model = reference_model("capstone_cnn", widths=THREE_BLOCKS)
    two_blocks = reference_model("capstone_cnn").get_layer("dense").count_params()
    dense = model.get_layer("dense")
    units = int(dense.units)
    h, w, c = layer_shape(model, "flatten", "input")
    inputs = h * w * c
    expected = dense.count_params()
    total = model.count_params()
    sides = _pool_sides(model)
    path = " → ".join(str(side) for side in sides)
    pools = len(sides) - 1
    exact = sides[-2] / 2  # the side if pooling kept half a row
    hints = {
        expected + units: "With batch normalization right after it, the dense layer has no "
        "bias (use_bias=False): BN's β already shifts every unit.",
        sides[-2] ** 2 * c * units: f"A third block ends with a third pooling layer: {path}.",
        (sides[-2] + 1) ** 2 // 4 * c * units: f"Pooling {sides[-2]} × {sides[-2]} by 2 with "
        f"'valid' padding drops the last row and column: {sides[-1]} × {sides[-1]}, not rounded up.",
        int(exact * exact * c * units): f"A side of {exact:g} pixels cannot exist: pooling by 2 "
        f"drops the odd last row and column, {sides[-2]} → {sides[-1]}.",
        sides[-1] ** 2 * THREE_BLOCKS[-2] * units: f"The third block has {c} filters: Flatten "
        f"sees {c} channels.",
        two_blocks: "That is the two-block capstone's dense layer, which its summary shows; the "
        "question asks about the model with a third block.",
        inputs: f"{inputs:,} values come out of Flatten; each is connected to every one of "
        f"the {units} dense units.",
        total: "That is the whole model; the question asks about its first Dense layer.",
        "default": f"Follow the side of the maps through the {pools} pooling layers ({sides[0]} "
        f"→ ...), then Flatten turns the last block's maps into one vector; the dense layer "
        f"connects every value to each of its {units} units.",
    }
    return number(
        answer,
        expected,
        hints=hints,
        why=f"{path}: {h} × {w} × {c} = {inputs:,} inputs × {units} units = {expected:,} "
        f"weights and no bias, {expected / two_blocks:.0%} of the two-block capstone's "
        f"{two_blocks:,}: the third pooling layer more than pays for the wider maps.",
    )


@exercise("10.2")
def schedule_steps(answer):
    # 60,000 images in batches of 128: 468.75, so 469 steps per epoch; 12 epochs
    return number(
        answer,
        5_628,
        hints={
            5_625: "A step processes a whole batch; the last batch of an epoch is smaller "
            "but is still a step, so round up per epoch.",
            5_616: "60,000 / 128 = 468.75: the last, smaller batch of 96 images is a step too, "
            "so an epoch has 469 steps.",
            469: "That is one epoch; the schedule spans all 12 epochs.",
            5_064: "The final model trains on all 60,000 training images, not the 54,000 left "
            "after a validation split.",
            12: "The schedule counts optimizer steps (batches), not epochs.",
            "default": "Steps per epoch = 60,000 / 128, rounded up; then times the number of "
            "epochs.",
        },
        why="ceil(60,000 / 128) = 469 steps per epoch × 12 epochs = 5,628 steps.",
    )


@lru_cache(maxsize=1)
def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """10,000 class-balanced training images and the course's validation set (seed 0)."""
    from helpers import data

    splits = data.course_splits(seed=0)
    x, y = data.subset(splits.x_train, splits.y_train, TRAIN_IMAGES, seed=0)
    return x, y, splits.x_val, splits.y_val


def _kinds(model) -> set[str]:
    from keras import layers

    found = set()
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            found.add("BatchNormalization")
        elif isinstance(layer, layers.Dropout):
            found.add("Dropout")
        elif isinstance(layer, _pooling_layers()):
            found.add("Pooling")
    return found


def judge_small_capstone(build, x, y, x_val, y_val) -> tuple[str, str]:
    """Exercise 10.3's verdict: build with seed 0, check, train briefly, measure."""
    import keras

    from helpers.training import evaluate, set_seed, train

    if isinstance(build, keras.Model):
        return INCORRECT, (
            "Pass the function that builds the model (check('10.3', build_small_capstone)), "
            "not a model: the check builds and trains it itself, the same way for everyone."
        )
    if not callable(build):
        return INCORRECT, f"Expected a function that builds a model, got {type(build).__name__}."
    set_seed(0)
    model = build()
    if not isinstance(model, keras.Model):
        return INCORRECT, (
            f"Your function returned {type(model).__name__}; expected a compiled Keras model."
        )
    problem = classifier_problem(model)
    if problem:
        return INCORRECT, problem
    if getattr(model, "optimizer", None) is None:
        return INCORRECT, "The model is not compiled: return models.compile_model(model)."
    params = model.count_params()
    if params > MAX_PARAMS:
        return INCORRECT, (
            f"The model has {params:,} parameters, more than {MAX_PARAMS:,}. Most of them sit "
            "in the dense layer after Flatten: pool the feature maps further or use fewer "
            "dense units."
        )
    missing = [text for kind, text in _INGREDIENTS.items() if kind not in _kinds(model)]
    if missing:
        return INCORRECT, "The capstone's ingredients are missing: " + ", ".join(missing) + "."
    train(model, x, y, epochs=EPOCHS, batch_size=BATCH_SIZE, seed=0, verbose=0)
    accuracy = evaluate(model, x_val, y_val)["accuracy"]
    if accuracy < MIN_ACCURACY:
        return INCORRECT, (
            f"{accuracy:.1%} validation accuracy after the short training; {MIN_ACCURACY:.0%} "
            "is needed. Batch normalization after each convolution and a small dense layer "
            "usually get there."
        )
    return CORRECT, (
        f"{accuracy:.1%} validation accuracy with {params:,} parameters after {EPOCHS} epochs "
        f"on {TRAIN_IMAGES:,} images; the baseline reaches {BASELINE_ACCURACY:.1%} with "
        f"{reference_model('baseline_cnn').count_params():,}."
    )


@exercise("10.3")
def small_capstone(build):
    return judge_small_capstone(build, *_data())
