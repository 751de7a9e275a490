"""Plots used across the course: image grids, learning curves, confusion matrices.

Every function returns the matplotlib Figure it drew, titles its axes and uses
class names rather than digits. Each docstring names the notebook introducing it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from helpers.data import CLASS_NAMES, _check_labels

__all__ = [
    "class_examples",
    "confusion_matrix",
    "image_grid",
    "learning_curves",
    "plot_confusion_matrix",
]


def _as_images(images: np.ndarray, name: str = "images") -> np.ndarray:
    """Accept (N, H, W) or (N, H, W, 1) arrays; return (N, H, W)."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(
            f"{name} has shape {images.shape}; expected a non-empty (N, H, W) or (N, H, W, 1)"
        )
    return images


def image_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    n_cols: int = 8,
    title: str | None = None,
    cmap: str = "gray_r",
    title_colors: Sequence[str] | None = None,
    panel_size: float = 1.3,
):
    """Show images in a grid with optional per-image titles (introduced in notebook 01)."""
    images = _as_images(images)
    if isinstance(n_cols, bool) or not isinstance(n_cols, int) or n_cols < 1:
        raise ValueError(f"n_cols is {n_cols!r}; expected a positive int")
    if titles is not None and len(titles) != len(images):
        raise ValueError(
            f"titles has {len(titles)} entries; expected one per image ({len(images)})"
        )
    n_cols = min(n_cols, len(images))
    n_rows = int(np.ceil(len(images) / n_cols))
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(panel_size * n_cols, panel_size * n_rows + 0.4), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(images[i], cmap=cmap)
        if titles is not None:
            color = title_colors[i] if title_colors is not None else "black"
            ax.set_title(titles[i], fontsize=8, color=color)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def class_examples(images: np.ndarray, labels: np.ndarray, per_class: int = 8, seed: int = 0):
    """A grid with one row per class, labelled with the class names (introduced in notebook 01)."""
    images = _as_images(images)
    labels = _check_labels(labels, len(images), "labels")
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(10, per_class, figsize=(1.0 * per_class + 1.4, 11), squeeze=False)
    for label, name in enumerate(CLASS_NAMES):
        idx = np.flatnonzero(labels == label)
        if len(idx) < per_class:
            raise ValueError(
                f"class {name!r} has {len(idx)} images; per_class={per_class} needs that many"
            )
        chosen = rng.choice(idx, size=per_class, replace=False)
        for j, ax in enumerate(axes[label]):
            ax.imshow(images[chosen[j]], cmap="gray_r")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[label, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=10)
    fig.suptitle(f"{per_class} random training images of each class")
    fig.tight_layout()
    return fig


def learning_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    metrics: Sequence[str] = ("loss", "accuracy"),
    title: str | None = None,
):
    """Training (solid) vs validation (dashed) curves, one colour per run (introduced in notebook 03).

    ``histories`` maps a run's label to its history dict (``TrainingResult.history``
    or ``keras.callbacks.History.history``). Several runs are overlaid, which is
    how notebooks 05-07 compare variants.
    """
    if not histories:
        raise ValueError("histories is empty; expected {label: history_dict}")
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 3.8), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for m, metric in enumerate(metrics):
        ax = axes[0, m]
        for r, (label, history) in enumerate(histories.items()):
            if metric not in history:
                raise ValueError(f"run {label!r} has no {metric!r}; it recorded {sorted(history)}")
            color = colors[r % len(colors)]
            epochs = np.arange(1, len(history[metric]) + 1)
            ax.plot(epochs, history[metric], color=color, label=f"{label} (train)")
            if f"val_{metric}" in history:
                ax.plot(
                    epochs,
                    history[f"val_{metric}"],
                    color=color,
                    linestyle="--",
                    label=f"{label} (validation)",
                )
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric.capitalize())
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    axes[0, -1].legend(fontsize=8, loc="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Counts: row = true class, column = predicted class (introduced in notebook 03)."""
    y_true = _check_labels(y_true, len(np.asarray(y_true)), "y_true")
    y_pred = _check_labels(y_pred, len(y_true), "y_pred")
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def plot_confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, title: str = "Confusion matrix"):
    """Seaborn heatmap of the confusion matrix with class names (introduced in notebook 03)."""
    import seaborn as sns

    matrix = confusion_matrix(y_true, y_pred)
    fig, ax = plt.subplots(figsize=(8, 6.5))
    sns.heatmap(
        matrix,
        annot=True,
        fmt="d",
        cmap="Blues",
        cbar=False,
        ax=ax,
        xticklabels=CLASS_NAMES,
        yticklabels=CLASS_NAMES,
        annot_kws={"fontsize": 8},
    )
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    plt.setp(ax.get_xticklabels(), rotation=45, ha="right")
    fig.tight_layout()
    return fig
