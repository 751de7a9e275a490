"""Seeded, timed training and evaluation (introduced in notebook 03).

Notebook 03 trains the baseline with ``model.fit`` on notebook 01's ``tf.data``
pipeline; :func:`train` is that call, plus a timer, for the notebooks that reuse it
(notebook 03 checks that both give the same weights). It prints one line per epoch
and records the time of every epoch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import keras
import numpy as np

from helpers import checks
from helpers.data import CLASS_NAMES, make_dataset

__all__ = [
    "BudgetSchedule",
    "EpochTimer",
    "TrainingResult",
    "evaluate",
    "per_class_accuracy",
    "predict",
    "set_seed",
    "train",
]


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow in one call (introduced in notebook 02)."""
    keras.utils.set_random_seed(checks.whole("seed", seed, 0, example=0))


class EpochTimer(keras.callbacks.Callback):
    """Record the time of every epoch, in seconds, in ``times`` (introduced in notebook 08).

    ``clock`` returns seconds (a stand-in for tests).
    """

    def __init__(self, clock=time.perf_counter) -> None:
        super().__init__()
        self.clock = clock
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = self.clock()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(self.clock() - self._start)


class BudgetSchedule(keras.callbacks.Callback):
    """A learning rate that follows the share of a time budget used (introduced in notebook 10).

    A schedule planned in steps is cut short on a computer slower than planned, in the
    middle of its decay. This one also follows the clock: before every call into
    TensorFlow (a Keras "batch" of ``steps_per_execution`` steps) it sets the optimizer's
    learning rate from the share ``u`` of the run used so far, the larger of two shares:
    the time spent out of ``seconds``, and the optimizer steps taken out of those the
    epochs given to ``fit`` hold. The rate rises linearly from 0 to ``peak`` over the first
    ``warmup`` of the run, then decays along a cosine to ``end`` at ``u = 1``. Whichever
    runs out first, the budget or the epochs, ends the decay: on a slow computer the
    clock leads, and training stops when another call as long as the last one would end
    past the budget, wherever the epoch is; on a fast one the steps lead, and the run is
    then exactly repeatable. Validation at the end of an epoch counts against the time.

    ``history`` holds one (seconds since the start, learning rate) pair per call;
    ``stopped_at`` is the time at which the budget ran out (``None`` if training ran all
    its epochs first) and ``last_rate`` the rate of the last call. ``clock`` returns
    seconds (a stand-in for tests). The model's optimizer needs a learning rate it can
    set, a number, not a Keras schedule.
    """

    def __init__(
        self,
        seconds: float,
        peak: float,
        warmup: float = 0.05,
        end: float = 0.0,
        clock=time.perf_counter,
    ) -> None:
        super().__init__()
        self.seconds = checks.number("seconds", seconds, above=0, example=600)
        self.peak = checks.number("peak", peak, above=0, example=0.008)
        self.warmup = checks.number("warmup", warmup, 0, below=1, example=0.05)
        self.end = checks.number("end", end, 0, self.peak, example=0.0)
        self.clock = clock
        self.history: list[tuple[float, float]] = []
        self.stopped_at: float | None = None

    def rate(self, used: float) -> float:
        """The learning rate when the share ``used`` (0 to 1) of the run is spent."""
        used = min(max(float(used), 0.0), 1.0)
        if used < self.warmup:
            return self.peak * used / self.warmup
        progress = (used - self.warmup) / (1 - self.warmup)
        return float(self.end + (self.peak - self.end) * 0.5 * (1 + np.cos(np.pi * progress)))

    @property
    def last_rate(self) -> float | None:
        return self.history[-1][1] if self.history else None

    def on_train_begin(self, logs=None):
        learning_rate = getattr(self.model.optimizer, "learning_rate", None)
        if not hasattr(learning_rate, "assign"):
            raise ValueError(
                "the optimizer's learning rate is a schedule; BudgetSchedule sets the rate "
                "itself: compile with a number (for example learning_rate=0.008)"
            )
        params = self.params or {}
        epochs, steps = params.get("epochs"), params.get("steps")
        self._total_steps = epochs * steps if epochs and steps else None
        self._first_step = int(self.model.optimizer.iterations)
        self._start = self.clock()
        self.history = []
        self.stopped_at = None

    def on_train_batch_begin(self, batch, logs=None):
        elapsed = self.clock() - self._start
        used = elapsed / self.seconds
        if self._total_steps:
            taken = int(self.model.optimizer.iterations) - self._first_step
            used = max(used, taken / self._total_steps)
        rate = self.rate(used)
        self.model.optimizer.learning_rate.assign(rate)
        self.history.append((elapsed, rate))
        self._call_start = elapsed

    def on_train_batch_end(self, batch, logs=None):
        elapsed = self.clock() - self._start
        # stop before a call that would end past the budget, if it took as long as this one
        if elapsed + (elapsed - self._call_start) >= self.seconds and self.stopped_at is None:
            self.model.stop_training = True
            self.stopped_at = elapsed


def _require_compiled(model: keras.Model) -> None:
    if not getattr(model, "optimizer", None) or not getattr(model, "compiled", True):
        raise ValueError("model is not compiled; build it with helpers.models or call compile()")


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
    epochs = checks.whole("epochs", epochs, 1, example=5)
    checks.choice("verbose", verbose, (0, 1, 2))
    _require_compiled(model)
    x_train = checks.images(x_train, "x_train")
    y_train = checks.labels(y_train, len(x_train), "y_train")
    train_ds = make_dataset(x_train, y_train, batch_size, shuffle=True, seed=seed)
    val_ds = None
    if validation is not None:
        x_val, y_val = validation
        x_val = checks.images(x_val, "validation x")
        y_val = checks.labels(y_val, len(x_val), "validation y")
        val_ds = make_dataset(x_val, y_val, batch_size=1024)
    timer = EpochTimer()
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
    """Class probabilities, shape (N, 10), float32, without a progress bar (introduced in notebook 03).

    The images go through the model one batch at a time, the last one padded to
    ``batch_size``, so the model always sees the same input shape: TensorFlow then
    traces its prediction function once per model, instead of once per new remainder
    size or number of steps (which makes it warn about retracing).

    A model built under ``mixed_bfloat16`` computes its softmax in bfloat16; its
    probabilities come back as float32 all the same, so that they combine with a float32
    model's (NumPy before 2.0 finds no common type for bfloat16 and float16 in
    ``np.allclose``).
    """
    x = checks.images(x, "x")
    batch_size = checks.whole("batch_size", batch_size, 1, example=1024)
    n = len(x)
    pad = -n % batch_size
    if pad:
        x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), dtype=x.dtype)])
    batches = [model.predict_on_batch(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    return np.concatenate([np.asarray(b, dtype=np.float32) for b in batches])[:n]


def evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Loss and accuracy on ``(x, y)``, quietly (introduced in notebook 03)."""
    x = checks.images(x, "x")
    y = checks.labels(y, len(x))
    loss, accuracy = model.evaluate(x, y, batch_size=1024, verbose=0)
    return {"loss": float(loss), "accuracy": float(accuracy)}


def per_class_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy of each class, keyed by class name (introduced in notebook 03)."""
    y_true = checks.labels(y_true, len(np.asarray(y_true)), "y_true")
    y_pred = checks.labels(y_pred, len(y_true), "y_pred")
    result = {}
    for label, name in enumerate(CLASS_NAMES):
        mask = y_true == label
        result[name] = float((y_pred[mask] == label).mean()) if mask.any() else float("nan")
    return result
