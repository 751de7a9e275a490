"""The capstone under a time budget: the runs that chose its recipe (notebook 10).

Notebook 10 trains one capstone, with one seed, in ten minutes. What its ingredients buy
over seeds, and what the recipe reaches in a time budget, was measured here: every run
trains :func:`helpers.models.capstone_cnn` on the 54,000 training images of the course's
split with the learning rate set by :class:`helpers.training.BudgetSchedule`, in the
faster path's precision (:func:`helpers.precision.choose`), and judges it on the 6,000
validation images. The search's runs last :data:`SEARCH_EPOCHS` epochs (the steps end the
schedule), so that a busy computer slows them without changing them; the goal runs last
a number of seconds (the clock ends it), and record the test accuracy of the chosen
evaluation (:data:`CHOSEN`) once. Each run is evaluated in several ways at no extra
training cost:

- with the trained weights, and with their exponential moving average (Keras'
  ``use_ema=True``: the optimizer keeps the average and ``fit`` puts it in place at the
  end; the trained weights are copied before that);
- on the images as they are, and averaged over small shifts of each image (test-time
  augmentation, :func:`tta_predict`), with and without a mirror image as well.

``python -m tools.budget`` runs them (``make budget``); the results ship with the helpers
(:func:`load`), so that notebook 10 reads them wherever the helpers are installed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import keras
import numpy as np
import pandas as pd

from helpers import checks, data, models, precision, training
from helpers.comparisons import paired
from helpers.experiments import results_path, shift_images

__all__ = [
    "BASELINE",
    "RECIPE",
    "RUN_COLUMNS",
    "VARIANTS",
    "baseline_curve",
    "effects",
    "load",
    "run",
    "tta_predict",
]

#: The capstone's recipe: the settings every variant starts from.
RECIPE = {
    "batch_size": 256,
    "learning_rate": 0.002,
    "label_smoothing": 0.0,
    "bn_momentum": 0.99,
    "widths": (32, 64),
}

#: What each variant changes in :data:`RECIPE` (the search of notebook 10).
VARIANTS: dict[str, dict] = {
    "recipe": {},
    "label smoothing 0.1": {"label_smoothing": 0.1},
}

#: Notebook 03's baseline: its model, Adam at 0.001 throughout, batches of 32, float32.
BASELINE = {"batch_size": 32, "learning_rate": 0.001}

#: The evaluations of every run: (weights, views) -> column.
EVALUATIONS = {
    ("trained", "as is"): "val_accuracy",
    ("average", "as is"): "val_accuracy_ema",
    ("trained", "shifts"): "val_accuracy_tta",
    ("average", "shifts"): "val_accuracy_ema_tta",
    ("average", "shifts + flip"): "val_accuracy_ema_tta_flip",
}

#: The length of the search's runs, in epochs of the 54,000 training images: about what
#: five minutes held on the 2-core computer that ran it. Counted in epochs, not seconds,
#: so that a variant is not judged by how busy the computer was during its run.
SEARCH_EPOCHS = 6

#: The evaluation the search chose, (weights, views): the trained weights on the images
#: as they are, since neither the average nor the shifts made a clear difference; the
#: goal runs' test accuracy and notebook 10's capstone use it.
CHOSEN = ("trained", "as is")

RUN_COLUMNS = (
    "variant",
    "seed",
    "budget_s",
    "train_size",
    "policy",
    "parameters",
    "epochs",
    "steps",
    "seconds",
    "stopped_by_budget",
    "last_rate_share",
    *EVALUATIONS.values(),
    "test_accuracy",
    "stopped_at_s",
    "processor",
)

#: The shifts test-time augmentation averages over: the image and its four neighbours
#: one pixel away.
SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))


def tta_predict(model: keras.Model, x: np.ndarray, flip: bool = False) -> np.ndarray:
    """The model's probabilities averaged over :data:`SHIFTS` of every image.

    Test-time augmentation: each image as it is and moved one pixel right, left, down and
    up (:func:`helpers.experiments.shift_images`, the uncovered border filled with 0), each
    classified by ``model``, and the softmax outputs averaged; with ``flip``, the mirror
    image of each of the five views too.
    """
    x = checks.images(x, "x")
    views = [shift_images(x, dx, dy) for dx, dy in SHIFTS]
    if flip:
        views += [view[:, :, ::-1] for view in views]
    return np.mean([training.predict(model, view) for view in views], axis=0)


def _accuracy(probabilities: np.ndarray, y: np.ndarray) -> float:
    return float((probabilities.argmax(axis=1) == y).mean())


def _build(settings: Mapping) -> keras.Model:
    model = models.capstone_cnn(
        widths=tuple(settings["widths"]),
        bn_momentum=settings["bn_momentum"],
        learning_rate=settings["learning_rate"],
    )
    if settings["label_smoothing"]:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=settings["label_smoothing"])
    else:
        loss = "sparse_categorical_crossentropy"
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=settings["learning_rate"], use_ema=True),
        loss=loss,
        metrics=["accuracy"],
        steps_per_execution=models.STEPS_PER_EXECUTION,
    )
    return model


class _KeepTrained(keras.callbacks.Callback):
    """The trained weights at the end of every epoch (``fit`` swaps in the average after)."""

    def on_epoch_end(self, epoch, logs=None):
        self.weights = [w.numpy() for w in self.model.trainable_weights]


def run(
    variant: str,
    seed: int,
    seconds: float | None = None,
    epochs: int | None = None,
    train_size: int | None = None,
    test: bool = False,
    evaluate_as: tuple[str, str] = CHOSEN,
    verbose: int = 0,
    val_size: int | None = None,
    test_size: int | None = None,
) -> dict:
    """Train ``variant`` of :data:`VARIANTS` with ``seed``; one row of results.

    For ``seconds`` (the clock ends the schedule; a goal run) or for ``epochs`` (the
    steps end it, and the run is repeatable; a search run): exactly one of the two.

    ``train_size`` training images of the split (``None``: all 54,000); ``test`` also
    records the test accuracy, of the evaluation ``evaluate_as`` only. ``val_size`` and
    ``test_size`` judge on fewer images (the course's tests; ``None``: all of them).
    """
    checks.choice("variant", variant, list(VARIANTS))
    if (seconds is None) == (epochs is None):
        raise ValueError(
            f"seconds is {seconds!r} and epochs {epochs!r}; expected exactly one of them "
            "(seconds=600: a time budget; epochs=6: a fixed length)"
        )
    if seconds is not None:
        seconds = checks.number("seconds", seconds, above=0, example=600)
    else:
        epochs = checks.whole("epochs", epochs, 1, example=6)
    checks.choice("evaluate_as", evaluate_as, list(EVALUATIONS))
    settings = RECIPE | VARIANTS[variant]
    splits = data.course_splits(train_size, test_size, seed=seed, val_size=val_size)
    path = precision.choose()
    training.set_seed(seed)
    with precision.scope(path):
        model = _build(settings)
    batch_size = settings["batch_size"]
    dataset = data.make_dataset(splits.x_train, splits.y_train, batch_size, shuffle=True, seed=seed)
    if settings["label_smoothing"]:
        import tensorflow as tf

        @tf.autograph.experimental.do_not_convert
        def one_hot(x, y):
            return x, tf.one_hot(y, models.NUM_CLASSES)

        dataset = dataset.map(one_hot)
    # A fixed length: a budget no computer reaches, so that the steps end the schedule.
    schedule = training.BudgetSchedule(seconds or 1e9, peak=settings["learning_rate"], warmup=0.0)
    keep_weights = _KeepTrained()
    steps_per_epoch = math.ceil(len(splits.y_train) / batch_size)
    # A time budget: far more epochs than fit, so that the clock ends the schedule.
    start = time.perf_counter()
    model.fit(
        dataset,
        epochs=epochs or 1000,
        verbose=verbose,
        callbacks=[schedule, keep_weights],
        shuffle=False,
    )
    spent = time.perf_counter() - start
    steps = int(model.optimizer.iterations)
    average = [w.numpy() for w in model.trainable_weights]
    x_val, y_val = splits.validation
    row = {
        "variant": variant,
        "seed": seed,
        "budget_s": float("nan") if seconds is None else seconds,
        "train_size": len(splits.y_train),
        "policy": path.policy,
        "parameters": int(model.count_params()),
        "epochs": round(steps / steps_per_epoch, 2),
        "steps": steps,
        "seconds": round(spent, 1),
        "stopped_by_budget": schedule.stopped_at is not None,
        "last_rate_share": schedule.last_rate / settings["learning_rate"],
        "stopped_at_s": schedule.stopped_at,
        "processor": precision.processor(),
    }
    predictions = {}
    for weights_name, weights in (("trained", keep_weights.weights), ("average", average)):
        _assign(model, weights)
        for (kind, views), column in EVALUATIONS.items():
            if kind == weights_name:
                row[column] = _accuracy(_predict(model, x_val, views), y_val)
        if test and weights_name == evaluate_as[0]:
            predictions["test"] = _predict(model, splits.x_test, evaluate_as[1])
    row["test_accuracy"] = _accuracy(predictions["test"], splits.y_test) if test else float("nan")
    return {column: row[column] for column in RUN_COLUMNS}


def _assign(model: keras.Model, weights) -> None:
    for variable, value in zip(model.trainable_weights, weights, strict=True):
        variable.assign(value)


def _predict(model: keras.Model, x: np.ndarray, views: str) -> np.ndarray:
    if views == "as is":
        return training.predict(model, x)
    return tta_predict(model, x, flip=views == "shifts + flip")


def effects(runs: pd.DataFrame) -> pd.DataFrame:
    """What each ingredient changed in the search's runs (those without a budget), seed by seed.

    One row per ingredient, compared by the course's paired rule
    (:func:`helpers.comparisons.paired`) on validation accuracy: each variant of
    :data:`VARIANTS` against the recipe (trained weights, images as they are); then,
    within the recipe's own runs, the weight average against the trained weights, the
    test-time shifts against the images as they are, and mirror images added to the
    averaged shifts against the shifts alone.
    """
    search = runs[runs["budget_s"].isna()]

    def values(variant, column):
        return search[search["variant"] == variant].set_index("seed")[column]

    pairs = {
        name: (values(name, "val_accuracy"), values("recipe", "val_accuracy"))
        for name in VARIANTS
        if name != "recipe"
    }
    pairs["weight average (EMA)"] = (
        values("recipe", "val_accuracy_ema"),
        values("recipe", "val_accuracy"),
    )
    pairs["test-time shifts"] = (
        values("recipe", "val_accuracy_tta"),
        values("recipe", "val_accuracy"),
    )
    pairs["mirror images too"] = (
        values("recipe", "val_accuracy_ema_tta_flip"),
        values("recipe", "val_accuracy_ema_tta"),
    )
    return pd.DataFrame(
        {name: paired(a, b, names=(name, "recipe")).as_dict() for name, (a, b) in pairs.items()}
    ).T


def baseline_curve(seed: int, seconds: float, train_size: int | None = None) -> pd.DataFrame:
    """Notebook 03's baseline recipe trained for ``seconds``: validation accuracy per epoch.

    Adam at a constant 0.001, so the model after ``t`` seconds of this run is the model
    a budget of ``t`` seconds would give: one run draws the baseline's whole curve.
    ``elapsed_s`` counts training only (validation is timed apart and left out).
    """
    splits = data.course_splits(train_size, seed=seed)
    training.set_seed(seed)
    model = models.baseline_cnn(learning_rate=BASELINE["learning_rate"])
    dataset = data.make_dataset(
        splits.x_train, splits.y_train, BASELINE["batch_size"], shuffle=True, seed=seed
    )
    x_val, y_val = splits.validation
    rows, trained, epoch = [], 0.0, 0
    while trained < seconds:
        start = time.perf_counter()
        model.fit(dataset, initial_epoch=epoch, epochs=epoch + 1, verbose=0, shuffle=False)
        trained += time.perf_counter() - start
        epoch += 1
        accuracy = _accuracy(training.predict(model, x_val), y_val)
        rows.append(
            {"seed": seed, "epoch": epoch, "elapsed_s": round(trained, 1), "val_accuracy": accuracy}
        )
    return pd.DataFrame(rows)


def load() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shipped budget runs and the baseline's curve: ``(runs, baseline)``."""
    runs = pd.read_csv(results_path("capstone_budget_runs.csv"))
    if tuple(runs.columns) != RUN_COLUMNS:
        raise ValueError(
            f"capstone_budget_runs.csv has the columns {list(runs.columns)}; expected "
            f"{list(RUN_COLUMNS)}. Reinstall the course's helpers."
        )
    return runs, pd.read_csv(results_path("capstone_budget_baseline.csv"))
