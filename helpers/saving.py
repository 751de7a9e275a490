"""Saving trained models with a record of how they were trained, and loading them back.

Introduced in notebook 03, which saves the baseline it trains; notebook 04 and later
reuse it through :func:`baseline_model` instead of training it again. The record
beside each ``.keras`` file names the model's architecture
(:func:`helpers.models.architecture`) and everything that determined its weights;
:func:`load_if_fresh` refuses a file whose record differs, so a changed model or
setting never silently loads an old file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import keras
import numpy as np

from helpers import checks, models
from helpers.training import TrainingResult, set_seed, train

__all__ = [
    "BASELINE_FILE",
    "baseline_metadata",
    "baseline_model",
    "baseline_path",
    "data_fingerprint",
    "load_if_fresh",
    "models_dir",
    "save_with_metadata",
]

#: The file name of the trained baseline in :func:`models_dir`.
BASELINE_FILE = "baseline.keras"

#: What :func:`save_with_metadata` adds to the record from the model itself.
_FROM_MODEL = ("architecture", "parameters")


def models_dir() -> Path:
    """Where trained models are kept (introduced in notebook 10).

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


def _keras_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"path is {str(path)!r}; expected a file name ending in .keras")
    return path


def save_with_metadata(model: keras.Model, path: str | Path, metadata: dict) -> Path:
    """Save a model and a JSON record of how it was trained beside it (introduced in notebook 03).

    ``metadata`` should say everything that determines the weights (seed, epochs,
    training size, ...); the record adds the model's ``architecture`` (one line per
    layer, :func:`helpers.models.architecture`) and its number of ``parameters``.
    :func:`load_if_fresh` compares the record before reusing the file.
    """
    checks.model(model)
    path = _keras_path(path)
    clash = sorted(set(metadata) & set(_FROM_MODEL))
    if clash:
        raise ValueError(
            f"metadata has the keys {clash}; expected none of {list(_FROM_MODEL)}, which the "
            "record takes from the model itself"
        )
    record = {
        **metadata,
        "architecture": models.architecture(model),
        "parameters": int(model.count_params()),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    path.with_suffix(".json").write_text(json.dumps(record, indent=2, sort_keys=True))
    return path


def load_if_fresh(
    path: str | Path, metadata: dict, architecture: list[str] | None = None
) -> keras.Model | None:
    """Load a model saved by :func:`save_with_metadata` if it was trained as ``metadata`` says.

    Introduced in notebook 03. ``architecture`` (from :func:`helpers.models.architecture`
    of the model the caller would build) must match the record too, when given. Returns
    ``None`` when the file is missing, its record differs in any setting or in the
    architecture, or the file holds another architecture than its record names, so the
    caller can train the model afresh.
    """
    path = _keras_path(path)
    meta_path = path.with_suffix(".json")
    if not path.is_file() or not meta_path.is_file():
        return None
    try:
        saved = json.loads(meta_path.read_text())
    except json.JSONDecodeError:
        return None
    if not isinstance(saved, dict) or not all(key in saved for key in _FROM_MODEL):
        return None
    settings = {k: v for k, v in saved.items() if k not in _FROM_MODEL}
    if settings != json.loads(json.dumps(metadata, sort_keys=True)):
        return None
    if architecture is not None and saved["architecture"] != list(architecture):
        return None
    model = keras.models.load_model(path)
    if models.architecture(model) != saved["architecture"]:
        return None
    return model


def data_fingerprint(x: np.ndarray, y: np.ndarray) -> str:
    """A short hash of images and labels, to tell training sets apart (introduced in notebook 10).

    Two sets with the same size but other images (another seed, another fraction)
    get different fingerprints, so a model trained on one is not reused for the other.
    """
    x = checks.images(x, "x")
    y = checks.labels(y, len(x))
    digest = hashlib.sha256()
    digest.update(str((x.shape, x.dtype.str)).encode())
    digest.update(memoryview(np.ascontiguousarray(x)).cast("B"))  # the bytes, not a copy
    digest.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]


def baseline_path() -> Path:
    """Where the trained baseline is saved: ``models_dir() / "baseline.keras"``.

    Introduced in notebook 03.
    """
    return models_dir() / BASELINE_FILE


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

    checks.whole("epochs", epochs, 1, example=5)
    checks.whole("batch_size", batch_size, 1, example=32)
    checks.whole("seed", seed, 0, example=0)
    checks.choice("profile", profile, PROFILES)
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
    Looks for ``path`` (default :func:`baseline_path`) with :func:`load_if_fresh`, the
    :func:`baseline_metadata` of the arguments and the architecture of
    :func:`helpers.models.baseline_cnn`. If the file is missing or was trained
    otherwise, it seeds with ``seed``, builds the baseline, trains it as notebook 03
    does and saves it.

    Returns ``(model, result)``; ``result`` is the :class:`TrainingResult` when the
    model was trained here and ``None`` when it was loaded.
    """
    metadata = baseline_metadata(x_train, y_train, epochs, batch_size, seed, profile)
    path = _keras_path(path) if path is not None else baseline_path()
    model = load_if_fresh(path, metadata, models.architecture(models.baseline_cnn(compile=False)))
    if model is not None:
        return model, None
    set_seed(seed)
    model = models.baseline_cnn()
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
