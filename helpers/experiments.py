"""Controlled experiments: train several model variants alike and compare them.

Introduced in notebook 05 and used again in notebooks 06 and 07. Each of those
notebooks changes one thing about the baseline CNN (the down-sampling, dropout,
batch normalization) and keeps everything else fixed: the data split, the seed,
the number of epochs, the batch size and the optimizer. :func:`run_experiment`
does exactly that and returns an :class:`ExperimentResult` with a results table,
the learning curves and the trained models.

The module also holds the plots and tools specific to those experiments: shifting
images to measure translation sensitivity (notebook 05) and the generalization-gap
chart (notebook 06).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers import data as _data
from helpers import training as _training
from helpers import viz as _viz

__all__ = [
    "SHIFT_DIRECTIONS",
    "ExperimentResult",
    "accuracy_vs_shift",
    "architecture_table",
    "format_seconds",
    "load_splits",
    "plot_accuracy_vs_shift",
    "plot_generalization_gap",
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


def _check_split(name: str, split, optional: bool = False) -> Split | None:
    if split is None and optional:
        return None
    if not isinstance(split, (tuple, list)) or len(split) != 2:
        raise ValueError(
            f"{name} is {type(split).__name__}"
            + (f" of length {len(split)}" if isinstance(split, (tuple, list)) else "")
            + "; expected a pair (x, y) of model-ready images and their labels"
        )
    x = _data.check_images(split[0], f"{name} x")
    y = _data._check_labels(split[1], len(x), f"{name} y")
    return x, y


def _check_names(names: Sequence[str], known: Sequence[str], what: str = "variants") -> list[str]:
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if not names:
        raise ValueError(f"{what} is empty; expected some of {list(known)}")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"{what} names {unknown} that are not in the experiment; expected some of {list(known)}"
        )
    return names


def format_seconds(seconds: float) -> str:
    """A duration as ``"4.2 s"``, the one format the course prints times in (notebook 05).

    The tests' output comparison replaces exactly this pattern, so tables and
    messages that show times stay comparable from run to run.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) or not seconds >= 0:
        raise ValueError(f"seconds is {seconds!r}; expected a number >= 0")
    return f"{float(seconds):.1f} s"


# --------------------------------------------------------------------------- data


def load_splits(
    train_size: int | None = None,
    test_size: int | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
) -> tuple[Split, Split, Split]:
    """Training, validation and test sets, model-ready, for an experiment (notebook 05).

    The splits of :func:`helpers.training.course_splits` (notebook 03: a stratified
    ``val_fraction`` of the training images held out for validation), as the three
    pairs ``(train, validation, test)`` that :func:`run_experiment` takes, each
    ``(x, y)`` with ``x`` float32 of shape (N, 28, 28, 1). ``train_size`` and
    ``test_size``, when given, keep a class-balanced subset of that many images
    (the validation set is always the whole split, so that every variant is judged
    on the same 6,000 images).
    """
    seed = _training._check_whole("seed", seed, 0)
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, numbers.Real):
        raise ValueError(f"val_fraction is {val_fraction!r}; expected a number such as 0.1")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction is {val_fraction!r}; expected a number between 0 and 1")
    for name, size in (("train_size", train_size), ("test_size", test_size)):
        if size is not None:
            _training._check_whole(name, size, 10)
    splits = _training.course_splits(seed=seed, val_fraction=val_fraction)
    x_fit, y_fit = splits.x_train, splits.y_train
    x_test, y_test = splits.x_test, splits.y_test
    if train_size is not None:
        if train_size > len(y_fit):
            raise ValueError(
                f"train_size is {train_size:,}; expected at most {len(y_fit):,}, the number of "
                f"training images left after holding out {val_fraction:.0%} for validation"
            )
        x_fit, y_fit = _data.subset(x_fit, y_fit, int(train_size), seed=seed)
    if test_size is not None:
        if test_size > len(y_test):
            raise ValueError(
                f"test_size is {test_size:,}; expected at most {len(y_test):,}, the number of "
                "test images"
            )
        x_test, y_test = _data.subset(x_test, y_test, int(test_size), seed=seed)
    return (x_fit, y_fit), splits.validation, (x_test, y_test)


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
        names = self.variants if variants is None else _check_names(variants, self.variants)
        recorded = sorted(self.histories[names[0]])
        if metric not in recorded:
            raise ValueError(
                f"metric is {metric!r}; expected one of the recorded metrics {recorded}"
            )
        frame = pd.DataFrame({name: self.histories[name][metric] for name in names})
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
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
        names = self.variants if variants is None else _check_names(variants, self.variants)
        return _viz.learning_curves(
            {n: self.histories[n] for n in names}, metrics=metrics, title=title
        )


def run_experiment(
    variants: Mapping[str, Callable[[], keras.Model]],
    train: Split,
    validation: Split,
    test: Split | None = None,
    epochs: int = 5,
    batch_size: int = 128,
    seed: int = 0,
    verbose: int = 1,
) -> ExperimentResult:
    """Train every variant under the same conditions and compare them (introduced in notebook 05).

    ``variants`` maps a name to a function of no arguments that builds and compiles
    a fresh model, for example ``{"max": lambda: models.cnn(pooling="max")}``.
    Before each variant is built, every random generator is seeded with ``seed``;
    each is then trained with :func:`helpers.training.train` on ``train`` for
    ``epochs`` epochs, with the same batch size and the same shuffling order, and
    evaluated on ``validation`` and ``test``. ``verbose=1`` prints one line per
    variant, ``2`` also one line per epoch, ``0`` nothing.
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
    epochs = _training._check_whole("epochs", epochs, 1)
    batch_size = _training._check_whole("batch_size", batch_size, 1)
    seed = _training._check_whole("seed", seed, 0)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose is {verbose!r}; expected 0, 1 or 2")

    rows, histories, trained, results = [], {}, {}, {}
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
        )
        row = {
            "parameters": int(model.count_params()),
            "train accuracy": _training.evaluate(model, *train)["accuracy"],
            "validation accuracy": result.final("val_accuracy"),
        }
        if test is not None:
            row["test accuracy"] = _training.evaluate(model, *test)["accuracy"]
        row["gap (train − validation)"] = row["train accuracy"] - row["validation accuracy"]
        row["s/epoch"] = format_seconds(result.seconds_per_epoch)
        rows.append(row)
        histories[name], trained[name], results[name] = result.history, model, result
        if verbose:
            print(
                f"{name}: {row['parameters']:,} parameters, {epochs} epoch{'s' if epochs > 1 else ''}, "
                f"{format_seconds(result.seconds_per_epoch)} per epoch, "
                f"validation accuracy {row['validation accuracy']:.4f}",
                flush=True,
            )
    table = pd.DataFrame(rows, index=pd.Index(list(variants), name="variant"))
    table = table[[c for c in _TABLE_COLUMNS if c in table.columns]]
    accuracy_columns = [c for c in table.columns if "accuracy" in c or c.startswith("gap")]
    table[accuracy_columns] = table[accuracy_columns].round(4)
    return ExperimentResult(table=table, histories=histories, models=trained, results=results)


def plot_generalization_gap(result: ExperimentResult | pd.DataFrame, title: str | None = None):
    """Bars of training vs validation accuracy per variant, the gap written above (notebook 06).

    Accepts an :class:`ExperimentResult` or its ``table``. Returns the Figure.
    """
    table = result.table if isinstance(result, ExperimentResult) else result
    if not isinstance(table, pd.DataFrame):
        raise ValueError(
            f"result is a {type(result).__name__}; expected an ExperimentResult or its table"
        )
    needed = ["train accuracy", "validation accuracy"]
    missing = [c for c in needed if c not in table.columns]
    if missing or table.empty:
        raise ValueError(
            f"the table has columns {list(table.columns)} and {len(table)} rows; expected rows "
            f"with the columns {needed}, as run_experiment() produces"
        )
    names = [str(n) for n in table.index]
    positions = np.arange(len(names))
    width = 0.38
    fig, ax = plt.subplots(figsize=(max(6.0, 1.5 * len(names) + 1.5), 4.0))
    ax.bar(
        positions - width / 2, table["train accuracy"], width, label="training", color="tab:blue"
    )
    ax.bar(
        positions + width / 2,
        table["validation accuracy"],
        width,
        label="validation",
        color="tab:orange",
    )
    pairs = zip(table["train accuracy"], table["validation accuracy"], strict=True)
    for x, (tr, va) in zip(positions, pairs, strict=True):
        ax.annotate(
            f"gap {tr - va:+.3f}",
            (x, max(tr, va)),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            fontsize=9,
        )
    low = float(min(table["train accuracy"].min(), table["validation accuracy"].min()))
    ax.set_ylim(max(0.0, low - 0.08), 1.04)
    ax.set_xticks(positions, names)
    plt.setp(ax.get_xticklabels(), rotation=15, ha="right")
    ax.set_ylabel("accuracy")
    ax.set_xlabel("variant")
    ax.set_title(title or "Training vs validation accuracy after training")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- architecture


def architecture_table(models: Mapping[str, keras.Model]) -> pd.DataFrame:
    """How big each model's feature maps and dense layer are (introduced in notebook 05).

    One row per model: the shape of the feature maps entering ``Flatten``, the length
    of the flattened vector, the parameters of the first dense layer (which reads
    that vector) and of the whole model. The models must have a layer named
    ``flatten`` followed by one named ``dense``, as :func:`helpers.models.cnn` builds.
    """
    if not isinstance(models, Mapping) or not models:
        raise ValueError(
            f"models is {models!r:.60}; expected a non-empty dict mapping a name to a keras.Model"
        )
    rows = {}
    for name, model in models.items():
        if not isinstance(model, keras.Model):
            raise ValueError(
                f"models[{name!r}] is a {type(model).__name__}; expected a keras.Model"
            )
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
    for name, value, limit in (("dx", dx, width), ("dy", dy, height)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} is {value!r}; expected a whole number of pixels")
        if abs(value) >= limit:
            raise ValueError(
                f"{name} is {value}; expected a shift smaller than the image ({-limit} < {name} < {limit})"
            )
    dx, dy = int(dx), int(dy)
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
    """Accuracy of each model on images shifted by 0, 1, ..., ``max_shift`` pixels (notebook 05).

    Each shift is applied in every one of ``directions`` (from
    :data:`SHIFT_DIRECTIONS`) and the accuracies are averaged, so no direction is
    favoured. Returns a table with one row per shift and one column per model.
    """
    if not isinstance(models, Mapping) or not models:
        raise ValueError(
            f"models is {models!r:.60}; expected a non-empty dict mapping a name to a keras.Model"
        )
    for name, model in models.items():
        if not isinstance(model, keras.Model):
            raise ValueError(
                f"models[{name!r}] is a {type(model).__name__}; expected a keras.Model"
            )
    x = _data.check_images(x, "x")
    y = _data._check_labels(y, len(x), "y")
    max_shift = _training._check_whole("max_shift", max_shift, 0, x.shape[2] - 1)
    directions = _check_names(directions, list(SHIFT_DIRECTIONS), what="directions")
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


def plot_accuracy_vs_shift(table: pd.DataFrame, title: str | None = None):
    """Plot the table of :func:`accuracy_vs_shift`: accuracy against shift, one line per model.

    Introduced in notebook 05. Returns the Figure.
    """
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise ValueError(
            f"table is {type(table).__name__}; expected the non-empty DataFrame returned by "
            "accuracy_vs_shift()"
        )
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    markers = "osD^vP*X"
    for i, name in enumerate(table.columns):
        ax.plot(table.index, table[name], marker=markers[i % len(markers)], label=str(name))
    ax.set_xticks(list(table.index))
    ax.set_xlabel("shift of the test images (pixels, averaged over directions)")
    ax.set_ylabel("test accuracy")
    ax.set_title(title or "Accuracy on shifted test images")
    ax.grid(alpha=0.3)
    ax.legend(title="model")
    fig.tight_layout()
    return fig
