"""Seeded, timed training and evaluation (introduced in notebook 03).

The notebooks train through :func:`train`, which feeds the model from a cached,
prefetched ``tf.data`` pipeline (see :func:`helpers.data.make_dataset`), prints one
line per epoch and records the time of every epoch. :func:`course_splits` prepares
the course's training, validation and test sets, and :func:`baseline_model` loads
the baseline notebook 03 saved, or trains it afresh when it is missing or stale.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from helpers.data import (
    CLASS_NAMES,
    _check_labels,
    check_images,
    load_fashion_mnist,
    make_dataset,
    stratified_split,
    subset,
    to_model_input,
)

__all__ = [
    "BASELINE_FILE",
    "Splits",
    "TrainingResult",
    "baseline_metadata",
    "baseline_model",
    "baseline_path",
    "course_splits",
    "data_fingerprint",
    "evaluate",
    "load_if_fresh",
    "models_dir",
    "per_class_accuracy",
    "predict",
    "save_with_metadata",
    "set_seed",
    "train",
]

#: The file name of the trained baseline in :func:`models_dir`.
BASELINE_FILE = "baseline.keras"


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow in one call (introduced in notebook 03)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed is {seed!r}; expected a whole number >= 0")
    keras.utils.set_random_seed(int(seed))


class _EpochTimer(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


class TimeBudget(keras.callbacks.Callback):
    """Stop training before an epoch that would overrun a time budget (introduced in notebook 08).

    After each epoch the next one is assumed to take as long as the slowest so far; if
    the training time since the start plus that would exceed ``seconds``, training stops
    there. ``stopped_after`` is then the number of epochs trained, and ``None`` when
    training ran all its epochs. ``clock`` returns seconds (a stand-in for tests).
    """

    def __init__(self, seconds: float, clock=time.perf_counter) -> None:
        super().__init__()
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
            raise ValueError(f"seconds is {seconds!r}; expected a number of seconds > 0")
        self.seconds = float(seconds)
        self.clock = clock
        self.stopped_after: int | None = None

    def on_train_begin(self, logs=None):
        self._start = self._last = self.clock()
        self._slowest = 0.0
        self.stopped_after = None

    def on_epoch_end(self, epoch, logs=None):
        now = self.clock()
        self._slowest = max(self._slowest, now - self._last)
        self._last = now
        planned = self.params.get("epochs") if self.params else None
        last_epoch = planned is not None and epoch + 1 >= planned
        if not last_epoch and now - self._start + self._slowest > self.seconds:
            self.model.stop_training = True
            self.stopped_after = epoch + 1


@dataclass
class TrainingResult:
    """What :func:`train` returns (introduced in notebook 03).

    ``history`` maps metric names (``loss``, ``accuracy``, ``val_loss``,
    ``val_accuracy``) to one value per epoch; ``epoch_seconds`` holds the wall time
    of each epoch.
    """

    history: dict[str, list[float]]
    epoch_seconds: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Total training time in seconds."""
        return float(sum(self.epoch_seconds))

    @property
    def seconds_per_epoch(self) -> float:
        """Median time of one epoch, in seconds (robust to the first, slower epoch)."""
        return float(np.median(self.epoch_seconds)) if self.epoch_seconds else float("nan")

    def final(self, metric: str) -> float:
        """The metric's value after the last epoch."""
        if metric not in self.history:
            raise KeyError(f"metric {metric!r} was not recorded; recorded: {sorted(self.history)}")
        return float(self.history[metric][-1])


def train(
    model: keras.Model,
    x_train: np.ndarray,
    y_train: np.ndarray,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int = 5,
    batch_size: int = 128,
    seed: int = 0,
    verbose: int = 2,
    callbacks: list | None = None,
) -> TrainingResult:
    """Train a compiled model, seeded and timed (introduced in notebook 03).

    The training set is shuffled every epoch in an order fixed by ``seed``;
    ``verbose=2`` prints one line per epoch (no progress bar), ``verbose=0``
    nothing. Returns a :class:`TrainingResult`.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs is {epochs!r}; expected a whole number >= 1")
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose is {verbose!r}; expected 0, 1 or 2")
    if not getattr(model, "optimizer", None) or not getattr(model, "compiled", True):
        raise ValueError("model is not compiled; build it with helpers.models or call compile()")
    x_train = check_images(x_train, "x_train")
    y_train = _check_labels(y_train, len(x_train), "y_train")
    train_ds = make_dataset(x_train, y_train, batch_size, shuffle=True, seed=seed)
    val_ds = None
    if validation is not None:
        x_val, y_val = validation
        x_val = check_images(x_val, "validation x")
        y_val = _check_labels(y_val, len(x_val), "validation y")
        val_ds = make_dataset(x_val, y_val, batch_size=1024)
    timer = _EpochTimer()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=int(epochs),
        verbose=verbose,
        callbacks=[timer, *(callbacks or [])],
        shuffle=False,  # the tf.data pipeline already shuffles, seeded
    )
    clean = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    clean.pop("learning_rate", None)
    return TrainingResult(history=clean, epoch_seconds=timer.times)


def predict(model: keras.Model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities, shape (N, 10), without a progress bar (introduced in notebook 03).

    The images go through the model one batch at a time, the last one padded to
    ``batch_size``, so the model always sees the same input shape: TensorFlow then
    traces its prediction function once per model, instead of once per new remainder
    size or number of steps (which makes it warn about retracing).
    """
    x = check_images(x, "x")
    _check_whole("batch_size", batch_size, 1)
    n = len(x)
    pad = -n % batch_size
    if pad:
        x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), dtype=x.dtype)])
    batches = [model.predict_on_batch(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    return np.concatenate([np.asarray(b) for b in batches])[:n]


def evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Loss and accuracy on ``(x, y)``, quietly (introduced in notebook 03)."""
    x = check_images(x, "x")
    y = _check_labels(y, len(x))
    loss, accuracy = model.evaluate(x, y, batch_size=1024, verbose=0)
    return {"loss": float(loss), "accuracy": float(accuracy)}


def per_class_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy of each class, keyed by class name (introduced in notebook 03)."""
    y_true = _check_labels(y_true, len(np.asarray(y_true)), "y_true")
    y_pred = _check_labels(y_pred, len(y_true), "y_pred")
    result = {}
    for label, name in enumerate(CLASS_NAMES):
        mask = y_true == label
        result[name] = float((y_pred[mask] == label).mean()) if mask.any() else float("nan")
    return result


def models_dir() -> Path:
    """Where trained models are kept (introduced in notebook 03).

    ``$COURSE_MODELS_DIR`` when set (the course's build sets it per profile), else
    ``_build/models`` in the course's root (found by walking up to ``_toc.yml``), else
    ``_build/models`` in the current directory (for example on Colab).
    """
    env = os.environ.get("COURSE_MODELS_DIR")
    if env:
        return Path(env)
    here = Path.cwd()
    for directory in (here, *here.parents):
        if (directory / "_toc.yml").is_file():
            return directory / "_build" / "models"
    return here / "_build" / "models"


def save_with_metadata(model: keras.Model, path: str | Path, metadata: dict) -> Path:
    """Save a model and a JSON file of how it was trained beside it (introduced in notebook 03).

    ``metadata`` should say everything that determines the weights (seed, epochs,
    training size, ...); :func:`load_if_fresh` compares it before reusing the file.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"path is {str(path)!r}; expected a file name ending in .keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    path.with_suffix(".json").write_text(json.dumps(metadata, indent=2, sort_keys=True))
    return path


def load_if_fresh(path: str | Path, metadata: dict) -> keras.Model | None:
    """Load a model saved by :func:`save_with_metadata` if it was trained as ``metadata`` says.

    Introduced in notebook 04. Returns ``None`` when the file is missing or stale
    (trained with other settings), so the caller can train it afresh.
    """
    path = Path(path)
    meta_path = path.with_suffix(".json")
    if not path.is_file() or not meta_path.is_file():
        return None
    try:
        saved = json.loads(meta_path.read_text())
    except json.JSONDecodeError:
        return None
    if saved != json.loads(json.dumps(metadata, sort_keys=True)):
        return None
    return keras.models.load_model(path)


# ------------------------------------------------------------------ the course's data splits


@dataclass
class Splits:
    """The course's three data sets, ready for a model (introduced in notebook 03).

    Images are float32 in [0, 1] with shape ``(N, 28, 28, 1)``; labels are ints 0-9.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def validation(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x_val, y_val)``, as :func:`train` takes it."""
        return self.x_val, self.y_val

    def sizes(self) -> dict[str, int]:
        """The number of images in each set."""
        return {
            "training": len(self.y_train),
            "validation": len(self.y_val),
            "test": len(self.y_test),
        }


def course_splits(
    train_size: int | None = None,
    seed: int = 0,
    val_fraction: float = 0.1,
    data_dir: str | os.PathLike | None = None,
) -> Splits:
    """Load Fashion-MNIST and split it as notebook 01 taught (introduced in notebook 03).

    1. scale the images to float32 in [0, 1] with a channel axis;
    2. hold out ``val_fraction`` of every class of the 60,000 training images as the
       validation set (a stratified split, chosen with ``seed``);
    3. keep ``train_size`` of the remaining images for training, class-balanced
       (``None``: all of them, 54,000 with the default fraction).

    The 10,000 test images are returned untouched.
    """
    (x_all, y_all), (x_test, y_test) = load_fashion_mnist(data_dir)
    (x_fit, y_fit), (x_val, y_val) = stratified_split(
        to_model_input(x_all), y_all, fraction=val_fraction, seed=seed
    )
    if train_size is not None:
        if (
            isinstance(train_size, bool)
            or not isinstance(train_size, (int, np.integer))
            or not 0 < train_size <= len(y_fit)
        ):
            raise ValueError(
                f"train_size is {train_size!r}; expected a whole number from 1 to {len(y_fit):,}, "
                f"the images left for training after holding out {val_fraction:g} for validation"
            )
        x_fit, y_fit = subset(x_fit, y_fit, int(train_size), seed=seed)
    return Splits(x_fit, y_fit, x_val, y_val, to_model_input(x_test), y_test)


# ------------------------------------------------------------------ the saved baseline


def data_fingerprint(x: np.ndarray, y: np.ndarray) -> str:
    """A short hash of images and labels, to tell training sets apart (introduced in notebook 03).

    Two sets with the same size but other images (another seed, another fraction)
    get different fingerprints, so a model trained on one is not reused for the other.
    """
    x = check_images(x, "x")
    y = _check_labels(y, len(x))
    digest = hashlib.sha256()
    digest.update(str((x.shape, x.dtype.str)).encode())
    digest.update(np.ascontiguousarray(x).tobytes())
    digest.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]


def baseline_path() -> Path:
    """Where the trained baseline is saved: ``models_dir() / "baseline.keras"`` (notebook 03)."""
    return models_dir() / BASELINE_FILE


def _check_whole(name: str, value, low: int, high: int | None = None) -> int:
    """``value`` as an int, if it is a whole number from ``low`` (to ``high``); else ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} is {value!r}; expected a whole number >= {low}")
    if value < low or (high is not None and value > high):
        expected = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} is {value!r}; expected a whole number {expected}")
    return int(value)


def baseline_metadata(
    x_train: np.ndarray,
    y_train: np.ndarray,
    epochs: int,
    batch_size: int,
    seed: int,
    profile: str = "full",
) -> dict:
    """Everything that determines the trained baseline's weights (introduced in notebook 03).

    Notebook 03 saves the model with this dict (:func:`save_with_metadata`);
    :func:`baseline_model` reuses the file only when the dict is the same.
    """
    from helpers.params import PROFILES

    _check_whole("epochs", epochs, 1)
    _check_whole("batch_size", batch_size, 1)
    _check_whole("seed", seed, 0)
    if profile not in PROFILES:
        raise ValueError(f"profile is {profile!r}; expected one of {PROFILES}")
    return {
        "model": "baseline_cnn",
        "train_size": int(len(np.asarray(y_train))),
        "data": data_fingerprint(x_train, y_train),
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "seed": int(seed),
        "profile": profile,
        "keras": keras.__version__,
    }


def baseline_model(
    x_train: np.ndarray,
    y_train: np.ndarray,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int = 5,
    batch_size: int = 32,
    seed: int = 0,
    profile: str = "full",
    path: str | Path | None = None,
    verbose: int = 0,
) -> tuple[keras.Model, TrainingResult | None]:
    """The trained baseline: loaded if saved with these settings, else trained and saved.

    Introduced in notebook 04 (notebook 03 trains and saves the model step by step).
    Looks for ``path`` (default :func:`baseline_path`) with :func:`load_if_fresh` and
    the :func:`baseline_metadata` of the arguments. If the file is missing or was
    trained otherwise, it seeds with ``seed``, builds
    :func:`helpers.models.baseline_cnn`, trains it as notebook 03 does and saves it.

    Returns ``(model, result)``; ``result`` is the :class:`TrainingResult` when the
    model was trained here and ``None`` when it was loaded.
    """
    from helpers.models import baseline_cnn

    metadata = baseline_metadata(x_train, y_train, epochs, batch_size, seed, profile)
    path = Path(path) if path is not None else baseline_path()
    if path.suffix != ".keras":
        raise ValueError(f"path is {str(path)!r}; expected a file name ending in .keras")
    model = load_if_fresh(path, metadata)
    if model is not None:
        return model, None
    set_seed(seed)
    model = baseline_cnn()
    result = train(
        model,
        x_train,
        y_train,
        validation=validation,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        verbose=verbose,
    )
    save_with_metadata(model, path, metadata)
    return model, result
