"""Controlled experiments: train several model variants alike and compare them.

Introduced in notebook 05 and used again in notebooks 06 and 07. Each of those
notebooks changes one thing about the baseline CNN (the down-sampling, dropout,
batch normalization) and keeps everything else fixed: the data split, the seed,
the number of epochs, the batch size and the optimizer. :func:`run_experiment`
does exactly that and returns an :class:`ExperimentResult` with a results table,
the learning curves and the trained models.

The module also holds the tools specific to those experiments: shifting images to
measure translation sensitivity (notebook 05), and the measured search behind
notebook 10's recipe (:func:`capstone_search`, from the results shipped with the
helpers). Their plots are in :mod:`helpers.viz`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from helpers import checks, viz
from helpers import training as _training

__all__ = [
    "SHIFT_DIRECTIONS",
    "ExperimentResult",
    "accuracy_vs_shift",
    "architecture_table",
    "CURVE_COLUMNS",
    "SEARCH_COLUMNS",
    "capstone_search",
    "format_seconds",
    "run_experiment",
    "shift_images",
]

Split = tuple[np.ndarray, np.ndarray]

#: The four directions :func:`accuracy_vs_shift` averages over, as (dx, dy) unit steps.
SHIFT_DIRECTIONS: dict[str, tuple[int, int]] = {
    "right": (1, 0),
    "left": (-1, 0),
    "down": (0, 1),
    "up": (0, -1),
}

_TABLE_COLUMNS = [
    "parameters",
    "train accuracy",
    "validation accuracy",
    "test accuracy",
    "gap (train − validation)",
    "s/epoch",
]


# --------------------------------------------------------------------------- validation


def results_path(name: str) -> Path:
    """A file of the measurements that ship with the helpers (``helpers/results/``), so
    that the notebooks read them wherever the helpers are installed."""
    from importlib import resources

    return Path(str(resources.files("helpers") / "results")) / name


def _check_split(name: str, split, optional: bool = False) -> Split | None:
    if split is None and optional:
        return None
    if not isinstance(split, (tuple, list)) or len(split) != 2:
        raise ValueError(
            f"{name} is {type(split).__name__}"
            + (f" of length {len(split)}" if isinstance(split, (tuple, list)) else "")
            + "; expected a pair (x, y) of model-ready images and their labels"
        )
    x = checks.images(split[0], f"{name} x")
    y = checks.labels(split[1], len(x), f"{name} y")
    return x, y


def _check_models(models) -> None:
    if not isinstance(models, Mapping) or not models:
        raise ValueError(
            f"models is {models!r:.60}; expected a non-empty dict mapping a name to a keras.Model"
        )
    for name, model in models.items():
        if not isinstance(model, keras.Model):
            raise ValueError(
                f"models[{name!r}] is a {type(model).__name__}; expected a keras.Model"
            )


def format_seconds(seconds: float) -> str:
    """A duration as ``"4.2 s"``, the one format the course prints times in (notebook 05).

    The tests' output comparison replaces exactly this pattern, so tables and
    messages that show times stay comparable from run to run.
    """
    return f"{checks.number('seconds', seconds, 0):.1f} s"


# --------------------------------------------------------------------------- experiments


@dataclass
class ExperimentResult:
    """What :func:`run_experiment` returns (introduced in notebook 05).

    - ``table``: one row per variant, in the order they were given, with the
      columns ``parameters``, ``train accuracy`` (measured after training, in
      inference mode, so dropout is off), ``validation accuracy``, ``test accuracy``
      (absent without a test set), ``gap (train − validation)`` and ``s/epoch``
      (the median epoch time, as a string such as ``"4.2 s"``);
    - ``histories``: variant name → the per-epoch metrics of training;
    - ``models``: variant name → the trained model;
    - ``results``: variant name → the :class:`helpers.training.TrainingResult`.
    """

    table: pd.DataFrame
    histories: dict[str, dict[str, list[float]]]
    models: dict[str, keras.Model]
    results: dict[str, _training.TrainingResult]

    @property
    def variants(self) -> list[str]:
        """The variant names, in the order they were trained."""
        return list(self.histories)

    def per_epoch(
        self, metric: str = "val_accuracy", variants: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """One column per variant, one row per epoch, of a recorded metric (notebook 07)."""
        names = (
            self.variants if variants is None else checks.names(variants, self.variants, "variants")
        )
        recorded = sorted(self.histories[names[0]])
        if metric not in recorded:
            raise ValueError(
                f"metric is {metric!r}; expected one of the recorded metrics {recorded}"
            )
        # A run that stopped early (notebook 06's early stopping) has fewer epochs: its
        # column ends with NaN.
        frame = pd.concat(
            {
                name: pd.Series(
                    self.histories[name][metric],
                    index=pd.RangeIndex(1, len(self.histories[name][metric]) + 1),
                )
                for name in names
            },
            axis=1,
        )
        frame.index.name = "epoch"
        return frame.round(4)

    def plot(
        self,
        variants: Sequence[str] | None = None,
        metrics: Sequence[str] = ("loss", "accuracy"),
        title: str | None = None,
    ):
        """Overlay the learning curves of the variants (solid: training, dashed: validation).

        Introduced in notebook 05. ``variants`` selects and orders the runs shown
        (default: all). Returns the matplotlib Figure.
        """
        names = (
            self.variants if variants is None else checks.names(variants, self.variants, "variants")
        )
        return viz.learning_curves(
            {n: self.histories[n] for n in names}, metrics=metrics, title=title
        )


class _NewModelTracing(logging.Filter):
    """Drop TensorFlow's warning that a function "triggered tf.function retracing"."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def _quiet_retracing():
    """Within an experiment, silence TensorFlow's retracing warning.

    Every variant is a new model whose training function TensorFlow traces once. It
    counts those tracings across the models and, after five in a short run, warns about
    a loop that is working as intended; with few steps per epoch (the tests' quick
    settings) it does so in every experiment of five or more variants.
    """
    quiet, logger = _NewModelTracing(), logging.getLogger("tensorflow")
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def run_experiment(
    variants: Mapping[str, Callable[[], keras.Model]],
    train: Split,
    validation: Split,
    test: Split | None = None,
    epochs: int = 5,
    batch_size: int = 128,
    seed: int = 0,
    verbose: int = 1,
    callbacks: Mapping[str, Callable[[], list]] | None = None,
) -> ExperimentResult:
    """Train every variant under the same conditions and compare them (introduced in notebook 05).

    ``variants`` maps a name to a function of no arguments that builds and compiles
    a fresh model, for example ``{"max": lambda: models.cnn(pooling="max")}``.
    Before each variant is built, every random generator is seeded with ``seed``;
    each is then trained with :func:`helpers.training.train` on ``train`` for
    ``epochs`` epochs, with the same batch size and the same shuffling order, and
    evaluated on ``validation`` and ``test``. ``verbose=1`` prints one line per
    variant, ``2`` also one line per epoch, ``0`` nothing. ``callbacks`` maps some of
    the variant names to a function that returns fresh Keras callbacks for that run
    (notebook 06 gives one variant ``keras.callbacks.EarlyStopping``).
    """
    if not isinstance(variants, Mapping):
        raise ValueError(
            f"variants is a {type(variants).__name__}; expected a dict mapping a name to a "
            'function that builds a model, e.g. {"max": lambda: models.cnn(pooling="max")}'
        )
    if not variants:
        raise ValueError("variants is empty; expected at least one {name: build_function} entry")
    for name, build in variants.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"variant name {name!r} is not a non-empty string; name every variant")
        if isinstance(build, keras.Model) or not callable(build):
            raise ValueError(
                f"variant {name!r} is a {type(build).__name__}, not a function; pass a function "
                "that builds the model (e.g. lambda: models.cnn()) so that each variant starts "
                "from freshly seeded weights"
            )
    train = _check_split("train", train)
    validation = _check_split("validation", validation)
    test = _check_split("test", test, optional=True)
    epochs = checks.whole("epochs", epochs, 1, example=5)
    batch_size = checks.whole("batch_size", batch_size, 1, example=128)
    seed = checks.whole("seed", seed, 0, example=0)
    checks.choice("verbose", verbose, (0, 1, 2))
    callbacks = dict(callbacks or {})
    for name, make in callbacks.items():
        if name not in variants:
            raise ValueError(
                f"callbacks names the variant {name!r}; expected one of {list(variants)}"
            )
        if not callable(make):
            raise ValueError(
                f"callbacks[{name!r}] is a {type(make).__name__}; expected a function that "
                "returns a list of fresh callbacks, e.g. lambda: [keras.callbacks.EarlyStopping()]"
            )

    rows, histories, trained, results = [], {}, {}, {}
    with _quiet_retracing():
        for name, build in variants.items():
            _training.set_seed(seed)
            model = build()
            if not isinstance(model, keras.Model):
                raise ValueError(
                    f"variant {name!r} built a {type(model).__name__}; expected a keras.Model "
                    "(the function must return the model it builds)"
                )
            if not getattr(model, "optimizer", None):
                raise ValueError(
                    f"variant {name!r} built a model that is not compiled; build it with "
                    "helpers.models (which compiles) or call compile() before returning it"
                )
            result = _training.train(
                model,
                *train,
                validation=validation,
                epochs=epochs,
                batch_size=batch_size,
                seed=seed,
                verbose=2 if verbose == 2 else 0,
                callbacks=callbacks[name]() if name in callbacks else None,
            )
            row = {
                "parameters": int(model.count_params()),
                "train accuracy": _training.evaluate(model, *train)["accuracy"],
                # Evaluated after training rather than read from the last epoch, so that a
                # callback that restores the best epoch's weights is measured as it ends.
                "validation accuracy": _training.evaluate(model, *validation)["accuracy"],
            }
            if test is not None:
                row["test accuracy"] = _training.evaluate(model, *test)["accuracy"]
            row["gap (train − validation)"] = row["train accuracy"] - row["validation accuracy"]
            row["s/epoch"] = format_seconds(result.seconds_per_epoch)
            rows.append(row)
            histories[name], trained[name], results[name] = result.history, model, result
            if verbose:
                trained_epochs = len(result.history["loss"])
                print(
                    f"{name}: {row['parameters']:,} parameters, {trained_epochs} "
                    f"epoch{'s' if trained_epochs > 1 else ''}, "
                    f"{format_seconds(result.seconds_per_epoch)} per epoch, "
                    f"validation accuracy {row['validation accuracy']:.4f}",
                    flush=True,
                )
    table = pd.DataFrame(rows, index=pd.Index(list(variants), name="variant"))
    table = table[[c for c in _TABLE_COLUMNS if c in table.columns]]
    accuracy_columns = [c for c in table.columns if "accuracy" in c or c.startswith("gap")]
    table[accuracy_columns] = table[accuracy_columns].round(4)
    return ExperimentResult(table=table, histories=histories, models=trained, results=results)


# --------------------------------------------------------------------------- architecture


def architecture_table(models: Mapping[str, keras.Model]) -> pd.DataFrame:
    """How big each model's feature maps and dense layer are (introduced in notebook 05).

    One row per model: the shape of the feature maps entering ``Flatten``, the length
    of the flattened vector, the parameters of the first dense layer (which reads
    that vector) and of the whole model. The models must have a layer named
    ``flatten`` followed by one named ``dense``, as :func:`helpers.models.cnn` builds.
    """
    _check_models(models)
    rows = {}
    for name, model in models.items():
        names = [layer.name for layer in model.layers]
        if "flatten" not in names or "dense" not in names:
            raise ValueError(
                f"models[{name!r}] has layers {names}; expected layers named 'flatten' and "
                "'dense', as helpers.models.cnn() builds"
            )
        flatten = model.get_layer("flatten")
        feature_shape = tuple(int(d) for d in flatten.input.shape[1:])
        rows[name] = {
            "feature maps before Flatten": " × ".join(str(d) for d in feature_shape),
            "Flatten length": int(np.prod(feature_shape)),
            "Dense parameters": int(model.get_layer("dense").count_params()),
            "total parameters": int(model.count_params()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("variant")


# --------------------------------------------------------------------------- translation


def shift_images(x: np.ndarray, dx: int = 0, dy: int = 0) -> np.ndarray:
    """Shift images by ``dx`` pixels to the right and ``dy`` pixels down (introduced in notebook 05).

    Negative values shift left or up. Pixels shifted out are lost; the pixels
    uncovered are filled with 0, the background of Fashion-MNIST. Accepts a batch of
    shape (N, H, W) or (N, H, W, C) and returns a new array of the same shape and dtype.
    """
    x = np.asarray(x)
    if x.ndim not in (3, 4) or len(x) == 0:
        raise ValueError(
            f"x has shape {x.shape}; expected a non-empty batch (N, H, W) or (N, H, W, C)"
        )
    height, width = x.shape[1], x.shape[2]
    dx = checks.whole("dx", dx, 1 - width, width - 1, example=2)
    dy = checks.whole("dy", dy, 1 - height, height - 1, example=2)
    out = np.zeros_like(x)
    src_rows = slice(max(0, -dy), height - max(0, dy))
    dst_rows = slice(max(0, dy), height - max(0, -dy))
    src_cols = slice(max(0, -dx), width - max(0, dx))
    dst_cols = slice(max(0, dx), width - max(0, -dx))
    out[:, dst_rows, dst_cols] = x[:, src_rows, src_cols]
    return out


_PREDICT_BATCH = 500


def accuracy_vs_shift(
    models: Mapping[str, keras.Model],
    x: np.ndarray,
    y: np.ndarray,
    max_shift: int = 4,
    directions: Sequence[str] = ("right", "left", "down", "up"),
) -> pd.DataFrame:
    """Accuracy of each model on images shifted by 0, 1, ..., ``max_shift`` pixels.

    Introduced in notebook 05.

    Each shift is applied in every one of ``directions`` (from
    :data:`SHIFT_DIRECTIONS`) and the accuracies are averaged, so no direction is
    favoured. Returns a table with one row per shift and one column per model.
    """
    _check_models(models)
    x = checks.images(x, "x")
    y = checks.labels(y, len(x), "y")
    max_shift = checks.whole("max_shift", max_shift, 0, x.shape[2] - 1, example=4)
    directions = checks.names(directions, list(SHIFT_DIRECTIONS), what="directions")
    rows = []
    for shift in range(max_shift + 1):
        steps = [(0, 0)] if shift == 0 else [SHIFT_DIRECTIONS[d] for d in directions]
        # All directions in one batch: each holds len(x) images, so the accuracy over
        # the batch is the mean of the per-direction accuracies.
        shifted = np.concatenate([shift_images(x, sx * shift, sy * shift) for sx, sy in steps])
        labels = np.tile(y, len(steps))
        rows.append(
            {
                name: float(
                    (
                        _training.predict(model, shifted, _PREDICT_BATCH).argmax(axis=1) == labels
                    ).mean()
                )
                for name, model in models.items()
            }
        )
    table = pd.DataFrame(rows, index=pd.RangeIndex(0, max_shift + 1, name="shift (pixels)"))
    return table.round(4)


# --------------------------------------------------------------------------- shipped results

#: The columns of the two tables :func:`capstone_search` returns.
SEARCH_COLUMNS = (
    "label",
    "architecture",
    "widths",
    "convs_per_block",
    "augmentation",
    "policy",
    "batch_size",
    "learning_rate",
    "schedule",
    "epochs",
    "seed",
    "parameters",
    "s_per_epoch",
    "training_s",
    "val_accuracy",
    "chosen",
)
CURVE_COLUMNS = ("label", "epoch", "elapsed_s", "val_accuracy")


def capstone_search():
    """The measurements behind notebook 10's recipe, as two pandas DataFrames.

    Introduced in notebook 10. Returns ``(runs, curves)``. ``runs`` has one row per
    candidate trained during the search (columns :data:`SEARCH_COLUMNS`): its
    architecture, augmentation, Keras dtype policy, batch size, learning rate and
    schedule, epochs and seed, its parameter count, the seconds per epoch measured on
    54,000 images on an otherwise idle 2-core CPU (all rows on the same one), the
    training time that makes (``epochs * s_per_epoch``), its validation accuracy after
    the last epoch, and whether it is the ``chosen`` recipe.
    ``curves`` holds the validation accuracy after every epoch of the main candidates
    (columns :data:`CURVE_COLUMNS`), with the elapsed training time at that epoch.

    The files ship with the helpers (``helpers/results/``), so this works wherever the
    helpers are installed.
    """
    import pandas as pd

    tables = []
    for name, columns in (
        ("capstone_search.csv", SEARCH_COLUMNS),
        ("capstone_search_curves.csv", CURVE_COLUMNS),
    ):
        table = pd.read_csv(results_path(name))
        if tuple(table.columns) != columns:
            raise ValueError(
                f"{name} has the columns {list(table.columns)}; expected {list(columns)}. "
                "Reinstall the course's helpers."
            )
        tables.append(table)
    return tables[0], tables[1]
