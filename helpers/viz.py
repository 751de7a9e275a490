"""Plots used across the course: image grids, kernels, feature maps, learning curves,
confusion matrices.

Every function returns the matplotlib Figure it drew, titles its axes and uses
class names rather than digits. Each docstring names the notebook introducing it.
Weights are drawn on a diverging colour scale centred on zero (red positive, blue
negative, white zero); feature maps on a sequential one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from helpers import checks
from helpers.data import CLASS_NAMES

__all__ = [
    "DIVERGING",
    "SCALES",
    "animation_html",
    "convolution_animation",
    "convolution_frames",
    "SEQUENTIAL",
    "class_accuracy_bars",
    "class_examples",
    "confusion_matrix",
    "feature_maps",
    "filter_activations",
    "image_grid",
    "kernel_channels",
    "kernel_grid",
    "kernel_responses",
    "kernels_before_after",
    "learning_curves",
    "misclassified",
    "plot_accuracy_vs_shift",
    "plot_seed_band",
    "plot_seed_spread",
    "plot_confusion_matrix",
    "plot_generalization_gap",
]

#: Colour map for weights and signed responses: red positive, blue negative, white 0.
DIVERGING = "RdBu_r"
#: Colour map for feature maps (ReLU outputs, 0 and up): dark low, bright high.
SEQUENTIAL = "viridis"
#: The widest figure, in inches, that reads well at book width.
MAX_WIDTH = 10.0


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
    n_cols = checks.whole("n_cols", n_cols, 1, example=8)
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
    labels = checks.labels(labels, len(images), "labels")
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
    y_true = checks.labels(y_true, len(np.asarray(y_true)), "y_true")
    y_pred = checks.labels(y_pred, len(y_true), "y_pred")
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


# ------------------------------------------------------------------ helpers of the plots below


def _index(value, name: str, size: int) -> int:
    return checks.whole(name, value, 0, size - 1)


def _indices(values, name: str, size: int) -> list[int]:
    if isinstance(values, (int, np.integer)):
        raise ValueError(f"{name} is {values!r}; expected a list of indices, e.g. [{values}]")
    values = [_index(v, name[:-1] if name.endswith("s") else name, size) for v in values]
    if not values:
        raise ValueError(f"{name} is empty; expected at least one index from 0 to {size - 1}")
    return values


def _limit(*arrays: np.ndarray) -> float:
    """The largest absolute value, for a colour scale symmetric around zero."""
    largest = max(float(np.max(np.abs(a))) for a in arrays)
    return largest if largest > 0 else 1.0


def _check_kernels(kernels: np.ndarray, name: str = "kernels") -> np.ndarray:
    k = np.asarray(kernels)
    if k.ndim != 4 or not np.issubdtype(k.dtype, np.number) or 0 in k.shape:
        raise ValueError(
            f"{name} has shape {k.shape}; expected (height, width, input channels, filters), "
            "e.g. (3, 3, 1, 32) from helpers.models.conv_kernels(model, 'conv1')"
        )
    return k.astype(float)


def _plain(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _kernel_panels(fig_or_sub, k: np.ndarray, channel: int, n_cols: int, vmax: float):
    """Draw k[:, :, channel, f] for every filter f in a grid; return the last image."""
    n = k.shape[3]
    n_cols = min(n_cols, n)
    n_rows = int(np.ceil(n / n_cols))
    axes = fig_or_sub.subplots(n_rows, n_cols, squeeze=False)
    image = None
    for f, ax in enumerate(axes.flat):
        _plain(ax)
        if f >= n:
            ax.axis("off")
            continue
        image = ax.imshow(
            k[:, :, channel, f], cmap=DIVERGING, vmin=-vmax, vmax=vmax, interpolation="nearest"
        )
        ax.set_title(f"filter {f}", fontsize=7, pad=2)
    return axes, image


# ------------------------------------------------------------------ notebook 02


def kernel_responses(
    image: np.ndarray,
    kernels: Mapping[str, np.ndarray],
    responses: Mapping[str, np.ndarray],
    title: str | None = None,
) -> Figure:
    """An image, hand-made kernels and what each kernel makes of it (introduced in notebook 02).

    ``image`` is one image (2-D, or 3-D with one channel); ``kernels`` maps a name to a
    small 2-D kernel and ``responses`` the same names to the 2-D results of convolving
    the image with it. The kernels are drawn with their weights written in. The
    response of a kernel whose weights sum to 0 (an edge detector, blind to flat
    regions) is drawn on a diverging scale centred on 0, red positive and blue
    negative; any other response on the input's grey scale, from 0 (white) to the input's
    largest value (black), values outside that range drawn as its ends.
    """
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim != 2:
        raise ValueError(
            f"image has shape {np.shape(image)}; expected one image, (28, 28) or (28, 28, 1)"
        )
    if not kernels:
        raise ValueError("kernels is empty; expected {name: 2-D kernel}")
    if set(kernels) != set(responses):
        raise ValueError(
            f"kernels and responses must have the same names; kernels has {list(kernels)}, "
            f"responses has {list(responses)}"
        )
    for name in kernels:
        for what, array in (("kernel", kernels[name]), ("response", responses[name])):
            if np.ndim(array) != 2:
                raise ValueError(
                    f"the {what} {name!r} has shape {np.shape(array)}; expected a 2-D array"
                )
    n = len(kernels)
    fig = plt.figure(figsize=(min(MAX_WIDTH, 2.0 * (n + 1)), 4.6), layout="constrained")
    grid = fig.add_gridspec(2, n + 1, height_ratios=[1, 1.6])
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(img, cmap="gray_r")
    ax.set_title("input image", fontsize=10)
    _plain(ax)
    for j, name in enumerate(kernels, start=1):
        kernel = np.asarray(kernels[name], dtype=float)
        response = np.asarray(responses[name], dtype=float)
        ax = fig.add_subplot(grid[0, j])
        limit = _limit(kernel)
        ax.imshow(kernel, cmap=DIVERGING, vmin=-limit, vmax=limit, interpolation="nearest")
        for (r, c), w in np.ndenumerate(kernel):
            color = "white" if abs(w) > 0.6 * limit else "black"
            ax.text(c, r, f"{w:.2g}", ha="center", va="center", fontsize=8, color=color)
        ax.set_title(f"kernel: {name}", fontsize=9)
        _plain(ax)
        ax = fig.add_subplot(grid[1, j])
        if abs(kernel.sum()) < 1e-9:
            limit = _limit(response)
            ax.imshow(response, cmap=DIVERGING, vmin=-limit, vmax=limit)
        else:
            ax.imshow(response, cmap="gray_r", vmin=0, vmax=max(float(img.max()), 1e-6))
        ax.set_title(f"response {response.shape[0]}×{response.shape[1]}", fontsize=9)
        _plain(ax)
    if title:
        fig.suptitle(title)
    return fig


#: The symbols that replace the icons of matplotlib's animation controls: matplotlib
#: fetches its icon font from a network address, which an offline page cannot reach.
_CONTROL_SYMBOLS = {
    "fa-minus": "−",
    "fa-fast-backward": "⇤",
    "fa-step-backward": "‹",
    "fa-play fa-flip-horizontal": "◀",
    "fa-pause": "❚❚",
    "fa-play": "▶",
    "fa-step-forward": "›",
    "fa-fast-forward": "⇥",
    "fa-plus": "+",
}


def animation_html(animation, alt: str, fps: float = 3.0) -> str:
    """An animation as HTML that plays offline: the frames embedded as PNG images and the
    controls drawn with plain symbols (introduced in notebook 02).

    It is matplotlib's ``to_jshtml`` (play, pause, step, speed, a slider), without the
    link to the icon font that matplotlib's page fetches from the network, with ``alt``
    as the text of the animation's image for readers who cannot see it, and the frame
    slider named for screen readers.
    """
    import html as html_text
    import re

    page = animation.to_jshtml(fps=fps, default_mode="once")
    page = re.sub(r'<link rel="stylesheet"\s+href="https?://[^"]*"\s*/?>', "", page)

    def symbol(match):
        return f'<span aria-hidden="true">{_CONTROL_SYMBOLS[match[1]]}</span>'

    page = re.sub(r'<i class="fa ([\w -]+?)"></i>', symbol, page)
    page = page.replace("<img id=", f'<img alt="{html_text.escape(alt)}" id=', 1)
    page = page.replace('<input id="_anim_slider', '<input aria-label="Frame" id="_anim_slider', 1)
    left = re.findall(r"https?://", page)
    if left or "<i class=" in page:
        raise RuntimeError(
            "matplotlib's animation page has changed: it still refers to the network or to "
            "its icon font; update helpers.viz.animation_html for this matplotlib version"
        )
    return page


def convolution_frames(output_shape: tuple[int, int], one_by_one: int = 12) -> list[int]:
    """How many outputs each frame of :func:`convolution_animation` shows filled in: the
    first ``one_by_one`` positions one at a time, then a whole row per frame (introduced
    in notebook 02, with the animation)."""
    rows, cols = output_shape
    total = rows * cols
    first = list(range(1, min(one_by_one, total) + 1))
    rows_done = [r * cols for r in range(1, rows + 1) if r * cols > first[-1]]
    return first + rows_done


def convolution_animation(
    image: np.ndarray, kernel: np.ndarray, output: np.ndarray, stride: int = 1, one_by_one=12
):
    """A kernel sliding over an image while the output map fills in (introduced in notebook 02).

    ``output`` is the convolution of ``image`` with ``kernel`` at ``stride`` (a "valid"
    convolution, as notebook 02's ``conv2d`` computes it): frame by frame, the window
    moves over the image in reading order (a red square, and a red cell on the output)
    and the outputs it has passed appear on the right; the title gives the current
    position's sum of products. Returns the
    matplotlib ``FuncAnimation`` (show it with :func:`animation_html`).
    """
    from matplotlib.animation import FuncAnimation
    from matplotlib.patches import Rectangle

    img = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    output = np.asarray(output, dtype=float)
    if img.ndim != 2 or kernel.ndim != 2 or output.ndim != 2:
        raise ValueError(
            f"image, kernel and output have shapes {img.shape}, {kernel.shape}, "
            f"{output.shape}; expected three 2-D arrays"
        )
    k = kernel.shape[0]
    expected = tuple((n - k) // stride + 1 for n in img.shape)
    if output.shape != expected:
        raise ValueError(
            f"output has shape {output.shape}; a {k}×{k} kernel at stride {stride} over a "
            f"{img.shape[0]}×{img.shape[1]} image gives {expected}"
        )
    frames = convolution_frames(output.shape, one_by_one)
    limit = _limit(output)
    fig, axes = plt.subplots(
        1, 3, figsize=(8.4, 3.2), width_ratios=[1, 0.45, 1], layout="constrained"
    )
    axes[0].imshow(img, cmap="gray_r")
    axes[0].set_title("image and the kernel's window", fontsize=9)
    window = Rectangle((-0.5, -0.5), k, k, fill=False, edgecolor="#d62728", linewidth=2)
    axes[0].add_patch(window)
    kernel_limit = _limit(kernel)
    axes[1].imshow(kernel, cmap=DIVERGING, vmin=-kernel_limit, vmax=kernel_limit)
    for (r, c), w in np.ndenumerate(kernel):
        color = "white" if abs(w) > 0.6 * kernel_limit else "black"
        axes[1].text(c, r, f"{w:.2g}", ha="center", va="center", fontsize=8, color=color)
    axes[1].set_title("kernel", fontsize=9)
    shown = np.full(output.shape, np.nan)
    drawn = axes[2].imshow(shown, cmap=DIVERGING, vmin=-limit, vmax=limit)
    axes[2].set_title(f"output {output.shape[0]}×{output.shape[1]}", fontsize=9)
    fig.colorbar(drawn, ax=axes[2], shrink=0.8)
    current = Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="#d62728", linewidth=1.5)
    axes[2].add_patch(current)
    for ax in axes:
        _plain(ax)
    cols = output.shape[1]

    def draw(filled: int):
        r, c = divmod(filled - 1, cols)
        window.set_xy((c * stride - 0.5, r * stride - 0.5))
        current.set_xy((c - 0.5, r - 0.5))
        shown.flat[:filled] = output.flat[:filled]
        shown.flat[filled:] = np.nan
        drawn.set_data(shown)
        fig.suptitle(
            f"position (row {r}, column {c}): sum of the products = {output[r, c]:.2f}",
            fontsize=10,
        )
        return window, current, drawn

    animation = FuncAnimation(fig, draw, frames=frames, blit=False)
    plt.close(fig)  # shown as the animation, not as a still figure
    return animation


# ------------------------------------------------------------------ notebook 03


def class_accuracy_bars(
    accuracies: Mapping[str, float],
    overall: float | None = None,
    title: str = "Accuracy per class",
    xlabel: str = "accuracy on the test set",
) -> Figure:
    """Horizontal bars of each class's accuracy, worst at the top (introduced in notebook 03).

    ``accuracies`` maps class names to accuracies in [0, 1], as
    :func:`helpers.training.per_class_accuracy` returns them; ``overall`` draws the
    overall accuracy as a dashed line.
    """
    if not accuracies:
        raise ValueError("accuracies is empty; expected {class name: accuracy}")
    values = {str(k): float(v) for k, v in accuracies.items()}
    bad = {k: v for k, v in values.items() if not 0.0 <= v <= 1.0}
    if bad:
        raise ValueError(f"accuracies must lie in [0, 1]; got {bad}")
    if overall is not None and not 0.0 <= overall <= 1.0:
        raise ValueError(f"overall is {overall!r}; expected an accuracy in [0, 1]")
    ordered = sorted(values.items(), key=lambda item: item[1], reverse=True)
    names = [name for name, _ in ordered]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(ordered) + 1.2))
    bars = ax.barh(names, [v for _, v in ordered], color="tab:blue")
    for bar, (_, v) in zip(bars, ordered, strict=True):
        ax.text(v + 0.005, bar.get_y() + bar.get_height() / 2, f"{v:.1%}", va="center", fontsize=8)
    if overall is not None:
        ax.axvline(
            overall, color="black", linestyle="--", linewidth=1, label=f"overall: {overall:.1%}"
        )
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlim(0, 1.08)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("class")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def misclassified(
    images: np.ndarray,
    y_true: np.ndarray,
    probabilities: np.ndarray,
    n: int = 18,
    n_cols: int = 6,
    title: str | None = None,
) -> Figure:
    """The model's most confident mistakes (introduced in notebook 03).

    ``probabilities`` is the model's output, shape (N, 10). Shows up to ``n`` images the
    model got wrong, the most confident mistake first, each titled with the true
    class, the predicted class and the probability the model gave it.
    """
    images = _as_images(images)
    y_true = checks.labels(y_true, len(images), "y_true")
    probs = np.asarray(probabilities, dtype=float)
    if probs.shape != (len(images), len(CLASS_NAMES)):
        raise ValueError(
            f"probabilities has shape {probs.shape}; expected ({len(images)}, "
            f"{len(CLASS_NAMES)}), one row of class probabilities per image"
        )
    n = checks.whole("n", n, 1, example=18)
    y_pred = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    wrong = np.flatnonzero(y_pred != y_true)
    if len(wrong) == 0:
        raise ValueError("the model made no mistakes on these images: nothing to show")
    chosen = wrong[np.argsort(-confidence[wrong], kind="stable")][:n]
    titles = [
        f"true: {CLASS_NAMES[y_true[i]]}\npred: {CLASS_NAMES[y_pred[i]]} ({confidence[i]:.0%})"
        for i in chosen
    ]
    fig = image_grid(
        images[chosen],
        titles=titles,
        n_cols=n_cols,
        title=title or f"The {len(chosen)} most confident mistakes",
        panel_size=min(1.6, MAX_WIDTH / min(n_cols, len(chosen))),
    )
    return fig


# ------------------------------------------------------------------ notebook 04


def _scale_end(weights: np.ndarray, robust: bool, vmax: float | None = None) -> float:
    """The end of a symmetric colour scale: given, the 98th percentile of |w|, or the max."""
    if vmax is not None:
        return checks.number("vmax", vmax, above=0, example=0.5)
    if robust:
        end = float(np.quantile(np.abs(weights), 0.98))
        return end if end > 0 else _limit(weights)
    return _limit(weights)


def kernel_grid(
    kernels: np.ndarray,
    channel: int = 0,
    n_cols: int = 8,
    title: str | None = None,
    vmax: float | None = None,
    robust: bool = False,
) -> Figure:
    """Every filter's kernel for one input channel, on one shared diverging scale.

    Introduced in notebook 04. ``kernels`` has shape (height, width, input channels,
    filters), as :func:`helpers.models.conv_kernels` returns it. Red weights are
    positive, blue negative, white zero; the colour bar gives the scale, which is
    symmetric around 0 and shared by every panel. It ends at the largest absolute
    weight, at the 98th percentile of the absolute weights with ``robust`` (so that a
    few large weights do not make all the others pale; larger ones get the end
    colours), or at ``vmax``.
    """
    k = _check_kernels(kernels)
    channel = _index(channel, "channel", k.shape[2])
    n_cols = checks.whole("n_cols", n_cols, 1, example=8)
    vmax = _scale_end(k[:, :, channel, :], robust, vmax)
    n_cols = min(n_cols, k.shape[3])
    n_rows = int(np.ceil(k.shape[3] / n_cols))
    panel = min(1.0, (MAX_WIDTH - 1.2) / n_cols)
    fig = plt.figure(figsize=(panel * n_cols + 1.2, panel * n_rows + 0.8), layout="constrained")
    axes, image = _kernel_panels(fig, k, channel, n_cols, vmax)
    clipped = bool(np.abs(k[:, :, channel, :]).max() > vmax)
    fig.colorbar(
        image, ax=axes, shrink=0.8, label="weight", extend="both" if clipped else "neither"
    )
    channel_note = f", input channel {channel}" if k.shape[2] > 1 else ""
    fig.suptitle(title or f"{k.shape[3]} kernels of {k.shape[0]}×{k.shape[1]}{channel_note}")
    return fig


def kernel_channels(
    kernels: np.ndarray,
    filters: Sequence[int] = (0, 1, 2, 3),
    channels: Sequence[int] | None = None,
    n_cols: int = 16,
    title: str | None = None,
    robust: bool = False,
) -> Figure:
    """The kernels of a few filters, one per input channel (introduced in notebook 04).

    A filter of a layer with C input channels holds C kernels, one for each feature
    map it reads. Each filter of ``filters`` gets a block of rows holding its kernels
    for ``channels`` (default: all), ``n_cols`` to a row, each row labelled with the
    filter and its channels. All panels share one diverging scale (``robust``: see
    :func:`kernel_grid`).
    """
    k = _check_kernels(kernels)
    filters = _indices(filters, "filters", k.shape[3])
    channels = (
        list(range(k.shape[2])) if channels is None else _indices(channels, "channels", k.shape[2])
    )
    n_cols = checks.whole("n_cols", n_cols, 1, example=8)
    chosen = k[:, :, channels, :][:, :, :, filters]
    vmax = _scale_end(chosen, robust)
    n_cols = min(n_cols, len(channels))
    sub_rows = int(np.ceil(len(channels) / n_cols))
    panel = min(0.9, (MAX_WIDTH - 2.2) / n_cols)
    n_rows = len(filters) * sub_rows
    fig = plt.figure(figsize=(panel * n_cols + 2.2, panel * n_rows + 1.1), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    image = None
    for ax in axes.flat:
        _plain(ax)
        ax.axis("off")
    for r, f in enumerate(filters):
        for i, ch in enumerate(channels):
            ax = axes[r * sub_rows + i // n_cols, i % n_cols]
            ax.axis("on")
            image = ax.imshow(
                k[:, :, ch, f], cmap=DIVERGING, vmin=-vmax, vmax=vmax, interpolation="nearest"
            )
        for j in range(sub_rows):
            part = channels[j * n_cols : (j + 1) * n_cols]
            what = f"channel {part[0]}" if len(part) == 1 else f"channels {part[0]}–{part[-1]}"
            axes[r * sub_rows + j, 0].set_ylabel(
                f"filter {f}\n{what}", rotation=0, ha="right", va="center", fontsize=8
            )
    clipped = bool(np.abs(chosen).max() > vmax)
    fig.colorbar(
        image, ax=axes, shrink=0.8, label="weight", extend="both" if clipped else "neither"
    )
    fig.supxlabel("one kernel per input channel (a feature map of the layer before)", fontsize=9)
    fig.suptitle(title or f"Kernels of {len(filters)} filters, one per input channel")
    return fig


#: How :func:`kernels_before_after` colours its two halves.
SCALES = ("shared", "halves", "kernel")


def kernels_before_after(
    before: np.ndarray,
    after: np.ndarray,
    channel: int = 0,
    n_cols: int = 8,
    scale: str = "shared",
    titles: tuple[str, str] = ("before training", "after training"),
    title: str | None = None,
    robust: bool = False,
) -> Figure:
    """The same layer's kernels before and after training, side by side (introduced in notebook 04).

    ``before`` and ``after`` have the same shape (height, width, input channels,
    filters). ``scale`` chooses the colour scale:

    - ``"shared"``: one scale for both halves, so a change in the size of the weights shows;
    - ``"halves"``: one scale per half;
    - ``"kernel"``: every kernel divided by its own largest absolute weight, so that
      the *patterns* can be compared whatever their size.

    ``robust`` ends the first two kinds of scale at the 98th percentile of the
    absolute weights instead of the largest (see :func:`kernel_grid`).
    """
    b = _check_kernels(before, "before")
    a = _check_kernels(after, "after")
    if a.shape != b.shape:
        raise ValueError(
            f"before has shape {b.shape} and after {a.shape}; expected the same layer twice"
        )
    if scale not in SCALES:
        raise ValueError(f"scale is {scale!r}; expected one of {SCALES}")
    channel = _index(channel, "channel", b.shape[2])
    n_cols = checks.whole("n_cols", n_cols, 1, example=8)
    if scale == "kernel":
        b, a = (k / np.maximum(np.abs(k).max(axis=(0, 1), keepdims=True), 1e-12) for k in (b, a))
    n_cols = min(n_cols, b.shape[3])
    n_rows = int(np.ceil(b.shape[3] / n_cols))
    panel = min(1.0, (MAX_WIDTH - 1.6) / (2 * n_cols))
    fig = plt.figure(figsize=(2 * panel * n_cols + 1.6, panel * n_rows + 1.2), layout="constrained")
    halves = fig.subfigures(1, 2, wspace=0.04)
    both = np.concatenate([b[:, :, channel, :].ravel(), a[:, :, channel, :].ravel()])
    common = 1.0 if scale == "kernel" else _scale_end(both, robust)
    label = "relative weight" if scale == "kernel" else "weight"
    for sub, k, name in zip(halves, (b, a), titles, strict=True):
        vmax = _scale_end(k[:, :, channel, :], robust) if scale == "halves" else common
        axes, image = _kernel_panels(sub, k, channel, n_cols, vmax)
        for ax in axes.flat:
            ax.title.set_fontsize(6)
        clipped = bool(np.abs(k[:, :, channel, :]).max() > vmax * (1 + 1e-9))
        sub.colorbar(
            image, ax=axes, shrink=0.8, label=label, extend="both" if clipped else "neither"
        )
        sub.suptitle(name, fontsize=11)
    if title:
        fig.suptitle(title)
    return fig


def _check_activations(
    activations: Mapping[str, np.ndarray], n_images: int | None = None
) -> dict[str, np.ndarray]:
    if not isinstance(activations, Mapping) or not activations:
        raise ValueError(
            "activations is empty or not a dict; expected {layer name: array (N, H, W, C)}, "
            "as helpers.models.layer_outputs(model, images) returns it"
        )
    result = {}
    for name, array in activations.items():
        array = np.asarray(array)
        if array.ndim == 3:
            array = array[np.newaxis]
        if array.ndim != 4:
            raise ValueError(
                f"the output of {name!r} has shape {np.shape(activations[name])}; expected "
                "feature maps (N, height, width, channels). Pass only convolution and "
                "pooling layers (helpers.models.feature_layer_names(model))."
            )
        if n_images is not None and len(array) != n_images:
            raise ValueError(
                f"the output of {name!r} holds {len(array)} images; expected {n_images}, "
                "one per image shown"
            )
        result[name] = array
    return result


def _image_batch(images: np.ndarray, n: int) -> np.ndarray:
    """``n`` images as (n, H, W): one image may be (H, W) or (H, W, 1), several (n, H, W[, 1])."""
    x = np.asarray(images)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    elif x.ndim == 3 and x.shape[-1] == 1 and n == 1:
        x = x[np.newaxis, :, :, 0]
    elif x.ndim == 2:
        x = x[np.newaxis]
    if x.ndim != 3 or len(x) != n:
        raise ValueError(
            f"images has shape {np.shape(images)}; expected the {n} input image(s) of the "
            "activations: one image as (H, W) or (H, W, 1), several as (N, H, W) or (N, H, W, 1)"
        )
    return x


def _shape_label(array: np.ndarray) -> str:
    return "×".join(str(d) for d in array.shape[1:])


def feature_maps(
    activations: Mapping[str, np.ndarray],
    images: np.ndarray,
    channels: Sequence[int] = tuple(range(8)),
    image_titles: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Feature maps of one or more images after each layer (introduced in notebook 04).

    ``activations`` maps layer names to outputs of shape (N, height, width, channels),
    as :func:`helpers.models.layer_outputs` returns them, and ``images`` holds the N
    input images. Each row is a layer, labelled with its name and output shape; each
    image gets a block of columns: the input, then the feature maps of ``channels``.
    All maps of one layer share one colour scale, so a bright map is a strong response.
    """
    acts = _check_activations(activations)
    imgs = _image_batch(images, len(next(iter(acts.values()))))
    acts = _check_activations(acts, len(imgs))
    smallest = min(a.shape[3] for a in acts.values())
    channels = _indices(channels, "channels", smallest)
    if image_titles is not None and len(image_titles) != len(imgs):
        raise ValueError(
            f"image_titles has {len(image_titles)} entries; expected one per image ({len(imgs)})"
        )
    n_rows, per_block = len(acts), len(channels) + 1
    n_cols = len(imgs) * per_block
    panel = min(1.1, (MAX_WIDTH - 1.0) / n_cols)
    fig = plt.figure(figsize=(panel * n_cols + 1.0, panel * n_rows + 1.0), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for r, (name, array) in enumerate(acts.items()):
        low = min(0.0, float(array[..., channels].min()))
        high = max(float(array[..., channels].max()), low + 1e-6)
        for i in range(len(imgs)):
            first = i * per_block
            ax = axes[r, first]
            _plain(ax)
            if r == 0:
                ax.imshow(imgs[i], cmap="gray_r")
                label = image_titles[i] if image_titles is not None else f"image {i}"
                ax.set_title(f"input:\n{label}", fontsize=8)
            else:
                ax.axis("off")
            for c, ch in enumerate(channels, start=1):
                ax = axes[r, first + c]
                _plain(ax)
                ax.imshow(array[i, :, :, ch], cmap=SEQUENTIAL, vmin=low, vmax=high)
                if r == 0:
                    ax.set_title(f"channel {ch}", fontsize=7)
                if c == 1:
                    ax.set_ylabel(
                        f"{name}\n{_shape_label(array)}",
                        rotation=0,
                        ha="right",
                        va="center",
                        fontsize=8,
                    )
    fig.suptitle(title or "Feature maps after each layer (bright: strong response)")
    return fig


def filter_activations(
    activations: Mapping[str, np.ndarray],
    images: np.ndarray,
    filter_index: int,
    image_titles: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """One channel's feature map through the layers, for several images (introduced in notebook 04).

    Each row is an image; each column after the input is a layer of ``activations``
    (name, output shape), showing its channel ``filter_index``. A column shares one
    colour scale across the images, so the same filter's responses can be compared.
    """
    acts = _check_activations(activations)
    imgs = _image_batch(images, len(next(iter(acts.values()))))
    acts = _check_activations(acts, len(imgs))
    filter_index = _index(filter_index, "filter_index", min(a.shape[3] for a in acts.values()))
    if image_titles is not None and len(image_titles) != len(imgs):
        raise ValueError(
            f"image_titles has {len(image_titles)} entries; expected one per image ({len(imgs)})"
        )
    n_cols = len(acts) + 1
    panel = min(1.7, (MAX_WIDTH - 1.0) / n_cols)
    fig = plt.figure(figsize=(panel * n_cols + 1.0, panel * len(imgs) + 1.0), layout="constrained")
    axes = fig.subplots(len(imgs), n_cols, squeeze=False)
    for i in range(len(imgs)):
        ax = axes[i, 0]
        _plain(ax)
        ax.imshow(imgs[i], cmap="gray_r")
        label = image_titles[i] if image_titles is not None else f"image {i}"
        ax.set_ylabel(label, fontsize=9)
        if i == 0:
            ax.set_title("input", fontsize=9)
    for c, (name, array) in enumerate(acts.items(), start=1):
        maps = array[..., filter_index]
        low = min(0.0, float(maps.min()))
        high = max(float(maps.max()), low + 1e-6)
        for i in range(len(imgs)):
            ax = axes[i, c]
            _plain(ax)
            ax.imshow(maps[i], cmap=SEQUENTIAL, vmin=low, vmax=high)
            if i == 0:
                ax.set_title(f"{name}, channel {filter_index}\n{_shape_label(array)}", fontsize=9)
    fig.suptitle(title or f"Channel {filter_index} through the layers")
    return fig


# ------------------------------------------------------------------ notebooks 05-06: experiments


def plot_generalization_gap(result, title: str | None = None):
    """Bars of training vs validation accuracy per variant, the gap written above.

    Introduced in notebook 06.

    Accepts a :class:`helpers.experiments.ExperimentResult` or its ``table``. Returns
    the Figure.
    """
    table = getattr(result, "table", result)
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


def plot_accuracy_vs_shift(
    table: pd.DataFrame, title: str | None = None, images: str = "validation images"
):
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
    ax.set_xlabel(f"shift of the {images} (pixels, averaged over directions)")
    ax.set_ylabel("accuracy")
    ax.set_title(title or f"Accuracy on shifted {images}")
    ax.grid(alpha=0.3)
    ax.legend(title="model")
    fig.tight_layout()
    return fig


def _check_sweep(sweep) -> None:
    if not all(hasattr(sweep, a) for a in ("band", "values", "variants", "seeds")):
        raise ValueError(
            f"sweep is a {type(sweep).__name__}; expected a helpers.sweeps.Sweep, "
            'e.g. sweeps.load("pooling")'
        )


def plot_seed_band(
    sweep,
    variants=None,
    metric: str = "val_accuracy",
    live: dict | None = None,
    title: str | None = None,
):
    """A learning curve over seeds: the mean and the lowest-to-highest band per variant.

    Introduced in notebook 03. ``sweep`` is a :class:`helpers.sweeps.Sweep`;
    ``variants`` selects and orders the variants shown (default: all); ``metric`` is
    a recorded curve (``"val_accuracy"``, ``"val_loss"``, ``"accuracy"``, ``"loss"``).
    ``live`` maps some of the variants to this notebook's own run, a list of one value
    per epoch, drawn as points over the band. Returns the Figure.
    """
    _check_sweep(sweep)
    names = (
        sweep.variants if variants is None else checks.names(variants, sweep.variants, "variants")
    )
    live = dict(live or {})
    unknown = [n for n in live if n not in names]
    if unknown:
        raise ValueError(f"live names {unknown}, which are not among the variants shown {names}")
    band = sweep.band(metric)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for i, name in enumerate(names):
        color = f"C{i % 10}"
        b = band[name]
        n = len(sweep.seeds)
        ax.plot(b.index, b["mean"], color=color, label=f"{name}: mean of {n} seeds")
        ax.fill_between(b.index, b["lowest"], b["highest"], color=color, alpha=0.2)
        if name in live:
            values = list(live[name])
            ax.plot(
                range(1, len(values) + 1),
                values,
                linestyle="none",
                marker="o",
                markersize=5,
                markeredgecolor="black",
                color=color,
                label=f"{name}: this run",
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("val_", "validation ").replace("_", " "))
    ax.set_title(title or f"{metric} over seeds (shaded: lowest to highest)")
    epochs = band.index
    ax.set_xticks(list(epochs) if len(epochs) <= 12 else list(epochs)[:: max(1, len(epochs) // 10)])
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    return fig


def plot_paired_differences(sweep, pairs, metric: str = "val_accuracy", title: str | None = None):
    """Per-seed differences between pairs of variants, and the course's verdict on each.

    Introduced in notebook 05. One row per pair ``(a, b)`` of ``sweep``'s variants: a
    point per seed at ``a - b`` in points of ``metric`` (seed *k* of both variants
    shares the split, the initial weights and the batches), the black bar the 95%
    interval of the mean difference (none with fewer than
    :data:`helpers.comparisons.MIN_SEEDS` seeds), the grey band the differences too
    small to state (:data:`helpers.comparisons.SMALLEST_DIFFERENCE`). A pair is
    *clear* when its bar lies outside the band and away from zero
    (:func:`helpers.comparisons.paired`); the verdict is written beside it. Returns the
    Figure.
    """
    from helpers import comparisons

    _check_sweep(sweep)
    pairs = [tuple(pair) for pair in pairs]
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"each pair is (a, b); received {pair!r}")
        checks.names(list(pair), sweep.variants, "pairs")
    smallest = 100 * comparisons.SMALLEST_DIFFERENCE
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(pairs) + 1.6))
    ax.axvspan(-smallest, smallest, color="0.85", zorder=0, label="too small to state")
    ax.axvline(0, color="0.4", linewidth=1)
    for row, (a, b) in enumerate(pairs):
        c = comparisons.paired(sweep.values(a, metric), sweep.values(b, metric), names=(a, b))
        ax.scatter(100 * c.differences, [row] * c.seeds, color=f"C{row % 10}", alpha=0.8, s=36)
        low, high = c.interval
        if not np.isnan(low):
            ax.plot([100 * low, 100 * high], [row, row], color="black", linewidth=2.5)
        ax.annotate(
            c.verdict, (1.01, row), xycoords=("axes fraction", "data"), va="center", fontsize=9
        )
    ax.set_yticks(range(len(pairs)), [f"{a} − {b}" for a, b in pairs])
    ax.invert_yaxis()
    name = metric.replace("val_", "validation ").replace("_", " ")
    ax.set_xlabel(f"difference in {name} (points), one point per seed")
    ax.set_title(title or f"{name}: per-seed differences, and the 95% interval of their mean")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def plot_seed_spread(
    sweep,
    metric: str = "val_accuracy",
    live: dict | None = None,
    variants=None,
    title: str | None = None,
):
    """Every seed's result after training, one row of points per variant, and this run.

    Introduced in notebook 05. Each point is one seed of ``sweep`` (a
    :class:`helpers.sweeps.Sweep`), the vertical bar their mean; ``live`` maps some of
    the variants to this notebook's own result, drawn as a black cross. Overlapping
    rows do not mean that two variants cannot be told apart: compare them seed by seed
    (:func:`plot_paired_differences`). Returns the Figure.
    """
    _check_sweep(sweep)
    names = (
        sweep.variants if variants is None else checks.names(variants, sweep.variants, "variants")
    )
    live = dict(live or {})
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(names) + 1.6))
    labelled = False
    for row, name in enumerate(names):
        values = sweep.values(name, metric)
        ax.scatter(values, [row] * len(values), color=f"C{row % 10}", alpha=0.7, s=36)
        ax.plot([values.mean()] * 2, [row - 0.3, row + 0.3], color=f"C{row % 10}", linewidth=2)
        if name in live:
            ax.scatter(
                [live[name]],
                [row],
                marker="x",
                color="black",
                s=70,
                zorder=3,
                label=None if labelled else "this run",
            )
            labelled = True
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel(metric.replace("val_", "validation ").replace("_", " "))
    ax.set_title(title or f"{metric}: each point one seed, the bar their mean")
    ax.grid(axis="x", alpha=0.3)
    if live:
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
