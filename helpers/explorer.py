"""An interactive explorer of a trained model, in one HTML page that works offline.

Introduced in notebook 04, shown again in notebook 10; its saliency map is notebook 09's
Grad-CAM. The explorer puts on one page what the notebooks draw one figure at a time, for
a handful of validation images (:func:`choose_images` picks a few of each class):

- the images, as buttons: choosing one shows the model's probability for each class, as
  labelled bars;
- the feature maps of every convolution layer for that image, layer by layer, and the
  first layer's kernels;
- the Grad-CAM map of the predicted class over the image;
- the confusion matrix of the whole validation set (rows: true class, columns: predicted
  class); choosing a cell shows some of the validation images in it.

The page is one self-contained HTML document: its data, scripts and styles are inside
it, and it requests nothing from any network, so it works offline, in the executed
book and as a file sent to someone (:func:`save_explorer`). :func:`show_explorer`
shows it as a notebook cell's output.

**How the pictures are stored.** Every map is drawn here, in Python, with the course's
colour maps (:data:`helpers.viz.SEQUENTIAL` for feature maps and Grad-CAM,
:data:`helpers.viz.DIVERGING` for kernels, grey for the images) and stored as a PNG
image written as text (a data URL). The values are rounded to 255 levels of their view's
colour scale, and the colour map is the PNG's palette of 255 colours: a PNG with a
palette takes one byte per pixel before compression, so a layer's maps for one image
cost a few kilobytes. All channels of a layer are tiled into one picture (left to right,
then top to bottom), with a transparent line between them. With about 50 images and the
baseline the page weighs about 1.1 MB; :data:`MAX_BYTES` is the most it may weigh.

**Colour scales.** Each view has one colour scale, shown by a colour bar with its two
ends: a layer's feature maps share one scale over all the explorer's images and
channels (from the smallest to the largest value among them), so a bright map is a
strong response and two images can be compared; the kernels share one scale centred
on 0 (red positive, blue negative); the Grad-CAM map of an image goes from 0 to its
largest value, as notebook 09 draws it (where the map is large matters, not its units).

**Which saliency map.** Notebook 09 compares three maps (gradients, Grad-CAM and
occlusion) and then checks them by cascading randomisation: replace the trained
weights by random ones and see whether the map changes. Only Grad-CAM's map changed in
both of the notebook's comparisons; by their absolute values, the gradient's and
occlusion's maps survived full randomisation, so where they are large is set by the
image rather than by what the model learned. :func:`grad_cam` is the notebook's
``grad_cam``, the same definition, for any of the course's models.
"""

from __future__ import annotations

import base64
import html
import json
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
from matplotlib import colormaps

from helpers import checks, data, models, training, viz

__all__ = [
    "IMAGE_SETS",
    "MAX_BYTES",
    "choose_images",
    "explorer_html",
    "grad_cam",
    "receptive_field_centres",
    "save_explorer",
    "show_explorer",
]

#: The sets an explorer's images may come from, as its page names them.
IMAGE_SETS = ("validation", "test")
#: The most an explorer page may weigh, in bytes (its HTML, encoded as UTF-8).
MAX_BYTES = 3_000_000
#: Levels of a colour scale, palette entries 1 to 255; entry 0 is transparent (the gaps
#: between maps), so that the PNG's transparency chunk holds a single byte.
_LEVELS = 255
_GAP = 0
#: The widest a tile is drawn, in CSS pixels, and the most tiles in a row.
_TILE_PX = 72
_COLUMNS = 8
_POOLING = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)


# --------------------------------------------------------------------------- choosing images


def choose_images(labels: np.ndarray, per_class: int = 5, seed: int = 0) -> np.ndarray:
    """The positions of a few images of each class, drawn at random but the same for a seed.

    Introduced in notebook 04, to choose the images of the explorer: ``per_class`` images
    of each class (all of a class's images if it has fewer), drawn without replacement
    with ``numpy.random.default_rng(seed)``, sorted within each class, class 0 first.
    ``labels`` are the class labels of the images to choose from, e.g. ``y_val``.
    """
    labels = checks.labels(labels, len(np.asarray(labels)), "labels")
    per_class = checks.whole("per_class", per_class, 1, example=5)
    seed = checks.whole("seed", seed, 0, example=0)
    if len(labels) == 0:
        raise ValueError("labels is empty; expected the labels of the images to choose from")
    rng = np.random.default_rng(seed)
    chosen = []
    for c in range(len(data.CLASS_NAMES)):
        of_class = np.flatnonzero(labels == c)
        if len(of_class):
            drawn = rng.choice(of_class, size=min(per_class, len(of_class)), replace=False)
            chosen.append(np.sort(drawn))
    return np.concatenate(chosen).astype(np.int64)


# --------------------------------------------------------------------------- Grad-CAM


def receptive_field_centres(model: keras.Model, layer_name: str) -> np.ndarray:
    """Where, in pixels, each output cell of ``layer_name`` is centred in the image (one axis).

    Introduced in notebook 09, which writes it for the baseline's "valid" convolutions
    and pooling: a window of size k moves the first centre (k - 1) / 2 steps of the
    layer below inwards, and a stride s multiplies the distance between neighbouring
    cells by s. A "same" window, which pads the layer below, starts as many steps further
    out as Keras pads before it, so the same rule serves notebook 10's model.
    """
    checks.model(model)
    first, step = 0.0, 1.0  # the first cell's centre and the distance between cells, in pixels
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, *_POOLING)):
            if isinstance(layer, keras.layers.Conv2D):
                size = layer.kernel_size[0]
                if layer.dilation_rate[0] != 1:
                    raise ValueError(
                        f"{layer.name} has dilation rate {layer.dilation_rate}; expected 1, "
                        "the course's convolutions"
                    )
            else:
                size = layer.pool_size[0]
            stride = layer.strides[0]
            before = 0  # pixels of padding before the first window, in the layer below's steps
            if layer.padding == "same":
                n_in = layer.input.shape[1]
                n_out = -(-n_in // stride)
                before = max((n_out - 1) * stride + size - n_in, 0) // 2
            first += ((size - 1) / 2 - before) * step
            step *= stride
        if layer.name == layer_name:
            return first + step * np.arange(layer.output.shape[1])
    raise ValueError(
        f"{model.name!r} has no layer {layer_name!r}; expected one of "
        f"{[layer.name for layer in model.layers]}"
    )


def _to_pixels(maps: np.ndarray, centres: np.ndarray, size: int) -> np.ndarray:
    """Maps (N, n, n) whose cells sit at ``centres``, interpolated linearly at every pixel."""
    weights = np.stack(
        [np.interp(np.arange(size), centres, unit) for unit in np.eye(len(centres))], axis=1
    )
    return np.einsum("pi,nij,qj->npq", weights, maps, weights)  # edges keep the outer cell


def _output_layer(model: keras.Model) -> keras.layers.Dense:
    """The model's last layer, if it is the course's dense softmax layer."""
    last = model.layers[-1]
    if not (
        isinstance(last, keras.layers.Dense)
        and getattr(last.activation, "__name__", "") == "softmax"
    ):
        raise ValueError(
            f"{model.name!r} ends with {type(last).__name__} {last.name!r}; expected a Dense "
            "layer with a softmax, as every model of the course ends"
        )
    return last


def grad_cam(
    model: keras.Model,
    images: np.ndarray,
    classes: np.ndarray,
    layer_name: str | None = None,
    relu: bool = True,
) -> np.ndarray:
    """Grad-CAM of each image for its class, placed over the image, shape (N, 28, 28).

    Introduced in notebook 09, which writes it out for the baseline; of the notebook's
    three maps, Grad-CAM's is the one that changed when the model's weights were replaced
    by random ones, which is why the explorer shows it. For the class score y (the output of the last
    dense layer before its softmax) and the feature maps A of ``layer_name`` (the last
    convolution unless named): each map k is weighted by the mean of dy/dA over its
    positions, the weighted maps are summed, negative values are set to 0 (unless
    ``relu=False``) and each cell is placed at the centre of its receptive field
    (:func:`receptive_field_centres`), the pixels in between interpolated linearly.

    ``images`` is a model-ready batch (N, 28, 28, 1); ``classes`` holds the class each
    image's map explains, e.g. the predicted ones. The layers between ``layer_name`` and
    the output are run one after the other, so the model must be a chain of layers, as
    the course's models are.
    """
    import tensorflow as tf

    checks.model(model)
    images = checks.images(images, "images")
    classes = checks.labels(classes, len(images), "classes")
    relu = checks.flag("relu", relu)
    convolutions = models.conv_layer_names(model)
    if not convolutions:
        raise ValueError(f"{model.name!r} has no Conv2D layer; Grad-CAM explains a convolution")
    if layer_name is None:
        layer_name = convolutions[-1]
    checks.choice("layer_name", layer_name, convolutions)
    output = _output_layer(model)
    layers = list(model.layers)
    after = layers[layers.index(model.get_layer(layer_name)) + 1 : -1]
    kernel, bias = output.get_weights()
    feature_model = keras.Model(model.inputs[0], model.get_layer(layer_name).output)
    cams = []
    for start in range(0, len(images), 256):
        with tf.GradientTape() as tape:
            maps = tf.cast(feature_model(images[start : start + 256], training=False), tf.float32)
            tape.watch(maps)
            h = maps
            for layer in after:
                h = layer(h, training=False)
            scores = tf.cast(h, tf.float32) @ kernel + bias
            chosen = tf.gather(scores, classes[start : start + 256], batch_dims=1)
        gradients = tape.gradient(chosen, maps)
        weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)  # one per map
        cam = tf.reduce_sum(weights * maps, axis=-1)
        cams.append((tf.nn.relu(cam) if relu else cam).numpy())
    centres = receptive_field_centres(model, layer_name)
    return _to_pixels(np.concatenate(cams), centres, images.shape[1])


# --------------------------------------------------------------------------- pictures


def _palette(cmap: str) -> bytes:
    """The gap's entry, then 255 colours of a matplotlib colour map, as PNG palette bytes."""
    colours = colormaps[cmap](np.linspace(0, 1, _LEVELS))[:, :3]
    rgb = np.rint(colours * 255).astype(np.uint8)
    return bytes(np.concatenate([np.zeros((1, 3), np.uint8), rgb]).ravel())


def _levels(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Values on the scale [low, high] as palette entries 1-255 (low is 1, high 255)."""
    if high <= low:
        return np.ones(values.shape, np.uint8)
    scaled = (np.asarray(values, float) - low) / (high - low) * (_LEVELS - 1)
    return (1 + np.rint(np.clip(scaled, 0, _LEVELS - 1))).astype(np.uint8)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(pixels: np.ndarray, palette: bytes | None = None) -> str:
    """A 2-D uint8 array as a PNG data URL: grey levels, or entries of ``palette``.

    Written out by hand (the PNG format is a header, the palette, the compressed rows),
    so that the explorer needs nothing beyond the course's requirements.
    """
    height, width = pixels.shape
    colour_type = 0 if palette is None else 3  # 0: grey levels, 3: palette entries
    chunks = [_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))]
    if palette is not None:
        chunks += [_chunk(b"PLTE", palette), _chunk(b"tRNS", bytes([0]))]  # entry 0: clear
    rows = np.hstack([np.zeros((height, 1), np.uint8), pixels.astype(np.uint8)])  # filter 0
    chunks += [_chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)), _chunk(b"IEND", b"")]
    png = b"\x89PNG\r\n\x1a\n" + b"".join(chunks)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _tiles(levels: np.ndarray) -> np.ndarray:
    """Tiles (n, h, w) of palette entries in one picture, _COLUMNS a row, 1-pixel gaps."""
    n, h, w = levels.shape
    columns = min(_COLUMNS, n)
    rows = -(-n // columns)
    sheet = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), _GAP, np.uint8)
    for k in range(n):
        r, c = divmod(k, columns)
        sheet[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = levels[k]
    return sheet


def _image_png(image: np.ndarray) -> str:
    """One image (28, 28[, 1]) in [0, 1], dark garment on white, as notebook figures draw it."""
    return _png(np.rint(255 * (1 - np.asarray(image)[..., 0])).astype(np.uint8))


def _gradient(cmap: str) -> str:
    """A CSS linear gradient through a colour map, for a colour bar."""
    stops = colormaps[cmap](np.linspace(0, 1, 9))
    colours = ", ".join(
        "#{:02x}{:02x}{:02x}".format(*np.rint(c[:3] * 255).astype(int)) for c in stops
    )
    return f"linear-gradient(to right, {colours})"


def _number(value: float) -> str:
    return f"{value:.3g}"


# --------------------------------------------------------------------------- the data


def _check_model(model: keras.Model) -> keras.Model:
    checks.model(model)
    if tuple(model.input_shape[1:]) != models.INPUT_SHAPE:
        raise ValueError(
            f"{model.name!r} takes inputs of shape {tuple(model.input_shape[1:])}; expected "
            f"{models.INPUT_SHAPE}, one Fashion-MNIST image, as the course's models do"
        )
    _output_layer(model)
    if not models.conv_layer_names(model):
        raise ValueError(f"{model.name!r} has no Conv2D layer; the explorer shows convolutions")
    return model


def _explorer_data(model, x_val, y_val, chosen, per_cell, channels) -> dict:
    """Everything the page shows, as JSON-ready values."""
    probabilities = training.predict(model, x_val)
    predicted = probabilities.argmax(axis=1)
    images, labels = x_val[chosen], y_val[chosen]
    names = models.conv_layer_names(model)
    outputs = models.layer_outputs(model, images, names)

    layers = []
    features = [[] for _ in chosen]
    for name in names:
        maps = np.moveaxis(np.asarray(outputs[name], np.float32), -1, 1)[:, :channels]
        low, high = float(maps.min()), float(maps.max())
        n, h, w = maps.shape[1:]
        columns = min(_COLUMNS, n)
        scale = max(1, _TILE_PX // h)
        layers.append(
            {
                "name": name,
                "shape": [h, w, int(outputs[name].shape[-1])],
                "shown": n,
                "low": low,
                "high": high,
                "width": (columns * (w + 1) - 1) * scale,
            }
        )
        sequential = _palette(viz.SEQUENTIAL)
        for i in range(len(chosen)):
            features[i].append(_png(_tiles(_levels(maps[i], low, high)), sequential))

    cams = grad_cam(model, images, predicted[chosen])
    diverging = _palette(viz.DIVERGING)
    kernels = models.conv_kernels(model, names[0])
    kh, kw = kernels.shape[:2]
    tiles = np.moveaxis(kernels.reshape(kh, kw, -1), -1, 0)
    limit = float(np.abs(tiles).max()) or 1.0

    matrix = viz.confusion_matrix(y_val, predicted)
    cells = {}
    for t in range(len(data.CLASS_NAMES)):
        for p in range(len(data.CLASS_NAMES)):
            inside = np.flatnonzero((y_val == t) & (predicted == p))[:per_cell]
            if len(inside):
                cells[f"{t},{p}"] = {
                    "indices": inside.tolist(),
                    "images": [_image_png(x_val[i]) for i in inside],
                }

    sequential = _palette(viz.SEQUENTIAL)
    return {
        "classes": list(data.CLASS_NAMES),
        "images": [
            {
                "index": int(chosen[i]),
                "label": int(labels[i]),
                "predicted": int(predicted[chosen[i]]),
                "probabilities": [round(float(v), 7) for v in probabilities[chosen[i]]],
                "image": _image_png(images[i]),
                "features": features[i],
                "cam": _png(_levels(cams[i], 0.0, float(cams[i].max())), sequential),
                "cam_high": float(cams[i].max()),
            }
            for i in range(len(chosen))
        ],
        "layers": layers,
        "cam_layer": names[-1],
        "kernels": {
            "layer": names[0],
            "shape": list(kernels.shape),
            "low": -limit,
            "high": limit,
            "picture": _png(_tiles(_levels(tiles, -limit, limit)), diverging),
            "width": (min(_COLUMNS, len(tiles)) * (kw + 1) - 1) * max(1, 48 // kw),
        },
        "confusion": {
            "matrix": matrix.tolist(),
            "count": len(y_val),
            "accuracy": float(np.mean(predicted == y_val)),
            "per_cell": per_cell,
            "cells": cells,
        },
    }


# --------------------------------------------------------------------------- the page

_STYLE = """
:root { --bg: #ffffff; --fg: #1a1a1a; --muted: #555555; --line: #b0b0b0; --panel: #f3f3f3;
  --accent: #1f5fa8; --bar: #9aa5b1; --focus: #c2410c; color-scheme: light; }
@media (prefers-color-scheme: dark) {
  :root:not([data-theme="light"]) { --bg: #14181d; --fg: #e8e8e8; --muted: #b8b8b8;
    --line: #5a6068; --panel: #20262d; --accent: #7cb7ff; --bar: #6b7580; --focus: #ffb454;
    color-scheme: dark; } }
:root[data-theme="dark"] { --bg: #14181d; --fg: #e8e8e8; --muted: #b8b8b8; --line: #5a6068;
  --panel: #20262d; --accent: #7cb7ff; --bar: #6b7580; --focus: #ffb454; color-scheme: dark; }
html, body { background: var(--bg); color: var(--fg); }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  margin: 0; padding: 12px 16px; }
h1 { font-size: 1.3em; margin: 0 0 4px; } h2 { font-size: 1.1em; margin: 18px 0 6px; }
h3 { font-size: 1em; margin: 12px 0 4px; }
p { margin: 4px 0; } .note { color: var(--muted); font-size: 0.9em; }
img { image-rendering: pixelated; }
button { font: inherit; color: var(--fg); background: var(--panel);
  border: 1px solid var(--line); border-radius: 4px; cursor: pointer; }
button:focus-visible, input:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.thumbs { display: flex; flex-wrap: wrap; gap: 4px; }
.thumb { padding: 2px; background: #ffffff; line-height: 0; }
.thumb[aria-pressed="true"] { border: 3px solid var(--accent); padding: 0; }
.columns { display: flex; flex-wrap: wrap; gap: 24px; }
.columns > section { flex: 1 1 320px; }
.stack { position: relative; width: 168px; height: 168px; border: 1px solid var(--line); }
.stack img { position: absolute; inset: 0; width: 168px; height: 168px; }
.big { width: 168px; height: 168px; border: 1px solid var(--line); }
table { border-collapse: collapse; }
.probs th, .probs td { padding: 1px 6px; text-align: left; font-weight: normal; }
.probs .predicted th, .probs .predicted td { font-weight: bold; }
.track { width: 180px; height: 12px; background: var(--panel); border: 1px solid var(--line); }
.fill { height: 100%; background: var(--bar); }
.predicted .fill { background: var(--accent); }
.legend { display: flex; align-items: center; gap: 6px; font-size: 0.9em; margin: 4px 0; }
.colourbar { display: inline-block; width: 160px; height: 12px; border: 1px solid var(--line); }
.sheet { display: block; max-width: 100%; height: auto; }
.confusion th, .confusion td { border: 1px solid var(--line); padding: 0; text-align: center;
  min-width: 44px; height: 30px; font-size: 0.85em; }
.confusion th { padding: 2px 4px; font-weight: normal; }
.confusion thead th { writing-mode: vertical-rl; transform: rotate(180deg); height: 90px; }
.confusion .cell { width: 100%; height: 100%; min-height: 30px; border: 0; border-radius: 0; }
.confusion .cell[aria-pressed="true"] { outline: 3px solid var(--accent); outline-offset: -3px; }
.found { display: flex; flex-wrap: wrap; gap: 8px; margin: 6px 0; padding: 0; list-style: none; }
.found figure { margin: 0; text-align: center; font-size: 0.8em; }
.found img { width: 56px; height: 56px; border: 1px solid var(--line); background: #ffffff; }
"""

_SCRIPT = """
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("explorer-data").textContent);
  const byId = (id) => document.getElementById(id);
  const percent = (p) => (100 * p).toFixed(1) + "%";
  const number = (v) => Number(v.toPrecision(3)).toString();
  const names = data.classes;

  function showImage(k) {
    const item = data.images[k];
    document.querySelectorAll(".thumb").forEach((button) => {
      button.setAttribute("aria-pressed", String(Number(button.dataset.k) === k));
    });
    const described = `${data.set} image ${item.index}, a ${names[item.label]}`;
    byId("chosen").src = item.image;
    byId("chosen").alt = `The chosen image: ${described}`;
    names.forEach((name, c) => {
      const p = item.probabilities[c];
      byId(`fill-${c}`).style.width = percent(p);
      byId(`prob-${c}`).textContent = percent(p);
      byId(`row-${c}`).classList.toggle("predicted", c === item.predicted);
      byId(`true-${c}`).textContent = c === item.label ? " (true class)" : "";
    });
    const predicted = names[item.predicted];
    byId("cam-image").src = item.image;
    byId("cam-map").src = item.cam;
    byId("cam-map").alt = `Grad-CAM of ${described}, for the predicted class ${predicted}`;
    byId("cam-alone").src = item.cam;
    byId("cam-alone").alt = `Grad-CAM map alone, for the predicted class ${predicted}`;
    byId("cam-high").textContent = number(item.cam_high);
    byId("cam-class").textContent = predicted;
    data.layers.forEach((layer, i) => {
      const picture = byId(`maps-${i}`);
      picture.src = item.features[i];
      picture.alt = `${layer.shown} feature maps of ${layer.name} for ${described}`;
    });
    const verdict = item.predicted === item.label ? "right" : "wrong";
    byId("status").textContent = `Chosen: ${described}. The model predicts ${predicted} ` +
      `(${percent(item.probabilities[item.predicted])}), ${verdict}.`;
  }

  function showCell(button) {
    const t = Number(button.dataset.t), p = Number(button.dataset.p);
    document.querySelectorAll(".cell").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    const cell = data.confusion.cells[`${t},${p}`];
    const count = data.confusion.matrix[t][p];
    byId("cell-title").textContent = `True class ${names[t]}, predicted ${names[p]}: ` +
      `${count} image${count === 1 ? "" : "s"}` +
      (count > cell.indices.length ? `, the first ${cell.indices.length} shown` : "");
    const list = byId("cell-images");
    list.replaceChildren(...cell.indices.map((index, j) => {
      const entry = document.createElement("li");
      const figure = document.createElement("figure");
      const picture = document.createElement("img");
      picture.src = cell.images[j];
      picture.alt = `${data.set} image ${index}: true class ${names[t]}, predicted ${names[p]}`;
      const caption = document.createElement("figcaption");
      caption.textContent = `image ${index}`;
      figure.append(picture, caption);
      entry.append(figure);
      return entry;
    }));
    byId("status").textContent = byId("cell-title").textContent + ".";
  }

  document.querySelectorAll(".thumb").forEach((button) => {
    button.addEventListener("click", () => showImage(Number(button.dataset.k)));
  });
  document.querySelectorAll(".cell").forEach((button) => {
    button.addEventListener("click", () => showCell(button));
  });
  byId("opacity").addEventListener("input", (event) => {
    byId("cam-map").style.opacity = String(event.target.value / 100);
  });

  // Inside the book, follow its colour mode: a srcdoc frame can read its page's setting.
  try {
    const page = window.parent !== window ? window.parent.document.documentElement : null;
    const follow = () => {
      const theme = page.dataset.theme;
      if (theme === "dark" || theme === "light") document.documentElement.dataset.theme = theme;
    };
    if (page) {
      follow();
      new MutationObserver(follow).observe(page, {attributes: true, attributeFilter: ["data-theme"]});
    }
  } catch (error) { /* another page's frame: the reader's system setting applies */ }

  showImage(0);
})();
"""


def _legend(low: float, high: float, cmap: str, what: str, high_id: str = "") -> str:
    high_attributes = f' id="{high_id}"' if high_id else ""
    return (
        f'<div class="legend"><span>{_number(low)}</span>'
        f'<span class="colourbar" role="img" aria-label="colour scale of {html.escape(what)}"'
        f' style="background: {_gradient(cmap)}"></span>'
        f"<span{high_attributes}>{_number(high)}</span></div>"
    )


def _page(content: dict, title: str) -> str:
    e = html.escape
    names = content["classes"]
    which = e(content["set"])  # the set the images come from: "validation" or "test"
    thumbs = "".join(
        f'<button type="button" class="thumb" data-k="{k}" aria-pressed="false" '
        f'aria-label="{which.capitalize()} image {item["index"]}, a {e(names[item["label"]])}">'
        f'<img src="{item["image"]}" width="42" height="42" '
        f'alt="{which.capitalize()} image {item["index"]}, a {e(names[item["label"]])}"></button>'
        for k, item in enumerate(content["images"])
    )
    rows = "".join(
        f'<tr id="row-{c}"><th scope="row">{e(name)}<span id="true-{c}"></span></th>'
        f'<td><div class="track" aria-hidden="true"><div class="fill" id="fill-{c}"></div>'
        f'</div></td><td id="prob-{c}"></td></tr>'
        for c, name in enumerate(names)
    )
    layers = "".join(
        f"<h3>{e(layer['name'])}: {layer['shown']} of its {layer['shape'][2]} feature maps, "
        f"{layer['shape'][0]} × {layer['shape'][1]} each</h3>"
        + _legend(layer["low"], layer["high"], viz.SEQUENTIAL, f"{layer['name']}'s feature maps")
        + f'<img class="sheet" id="maps-{i}" width="{layer["width"]}" alt="">'
        for i, layer in enumerate(content["layers"])
    )
    kernels = content["kernels"]
    confusion = content["confusion"]
    matrix = np.asarray(confusion["matrix"])
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    blues = colormaps["Blues"]
    head = "".join(f'<th scope="col">{e(name)}</th>' for name in names)
    body = []
    for t, name in enumerate(names):
        cells = []
        for p in range(len(names)):
            count = int(matrix[t, p])
            r, g, b, _ = blues(0.05 + 0.9 * shares[t, p])
            ink = "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "#ffffff"
            style = (
                f"background: #{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}; color: {ink}"
            )
            if count:
                label = f"True {name}, predicted {names[p]}: {count} images"
                cells.append(
                    f'<td><button type="button" class="cell" data-t="{t}" data-p="{p}" '
                    f'aria-pressed="false" aria-label="{e(label)}" style="{style}">{count}'
                    "</button></td>"
                )
            else:
                cells.append(f'<td style="{style}">0</td>')
        body.append(f'<tr><th scope="row">{e(name)}</th>{"".join(cells)}</tr>')
    payload = json.dumps(content, separators=(",", ":")).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{e(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1>{e(title)}</h1>
<p class="note">Works offline: everything it shows is inside this page.</p>
<p id="status" role="status" aria-live="polite"></p>
<section aria-labelledby="images-title">
<h2 id="images-title">Choose an image</h2>
<p class="note">{len(content["images"])} {which} images, a few of each class.</p>
<div class="thumbs">{thumbs}</div>
</section>
<div class="columns">
<section aria-labelledby="prediction-title">
<h2 id="prediction-title">What the model predicts</h2>
<img class="big" id="chosen" alt="">
<table class="probs"><caption class="note">Probability of each class (softmax)</caption>
<thead><tr><th scope="col">class</th><th scope="col">bar</th><th scope="col">probability</th>
</tr></thead><tbody>{rows}</tbody></table>
</section>
<section aria-labelledby="cam-title">
<h2 id="cam-title">Grad-CAM (notebook 09)</h2>
<p class="note">Where the last convolution, {e(content["cam_layer"])}, found evidence for the
predicted class, <span id="cam-class"></span>, drawn over the image; from 0 (dark) to the
map's largest value (yellow).</p>
<div class="columns">
<div class="stack"><img id="cam-image" alt=""><img id="cam-map" alt="" style="opacity: 0.6"></div>
<img class="big" id="cam-alone" alt="">
</div>
<div class="legend"><span>0</span><span class="colourbar" role="img"
aria-label="colour scale of the Grad-CAM map" style="background: {_gradient(viz.SEQUENTIAL)}"></span>
<span id="cam-high"></span></div>
<label for="opacity">Opacity of the map over the image</label>
<input type="range" id="opacity" min="0" max="100" value="60">
</section>
</div>
<section aria-labelledby="maps-title">
<h2 id="maps-title">Feature maps of every convolution (notebook 04)</h2>
<p class="note">Each layer's maps, left to right and top to bottom, channel 0 first. A layer's
maps share one colour scale over all the images of this page, so a bright map is a strong
response and the images can be compared.</p>
{layers}
<h3>The kernels of {e(kernels["layer"])}: {kernels["shape"][3]} filters of
{kernels["shape"][0]} × {kernels["shape"][1]}</h3>
<p class="note">Red positive, blue negative, white 0; one scale for all of them.</p>
{_legend(kernels["low"], kernels["high"], viz.DIVERGING, "the kernels")}
<img class="sheet" id="kernels" src="{kernels["picture"]}" width="{kernels["width"]}"
alt="The {kernels["shape"][3]} kernels of {e(kernels["layer"])}">
</section>
<section aria-labelledby="confusion-title">
<h2 id="confusion-title">Confusion matrix of the {which} set</h2>
<p class="note">{confusion["count"]:,} {which} images, accuracy
{100 * confusion["accuracy"]:.1f}%. Rows: the true class; columns: the predicted class; the
shade is the share of the row. Choose a cell to see its images.</p>
<table class="confusion">
<caption class="note">Rows: true class. Columns: predicted class.</caption>
<thead><tr><td></td>{head}</tr></thead>
<tbody>{"".join(body)}</tbody>
</table>
<h3 id="cell-title">No cell chosen yet</h3>
<ul class="found" id="cell-images" aria-labelledby="cell-title"></ul>
</section>
</main>
<script type="application/json" id="explorer-data">{payload}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""


# --------------------------------------------------------------------------- entry points


def explorer_html(
    model: keras.Model,
    validation_images: np.ndarray,
    validation_labels: np.ndarray,
    *,
    chosen: Sequence[int] | None = None,
    per_cell: int = 6,
    channels: int = 32,
    title: str = "Model explorer",
    images_from: str = "validation",
) -> str:
    """The explorer of a trained model, as one self-contained HTML page (introduced in notebook 04).

    ``model`` is one of the course's trained models (input 28 × 28 × 1, a softmax over
    the ten classes); ``validation_images`` and ``validation_labels`` are the validation
    set, e.g. ``x_val, y_val``: its confusion matrix counts every image, and each cell
    keeps its first ``per_cell`` images to show. ``chosen`` are the positions of the
    images to explore, :func:`choose_images` (five of each class, seed 0) unless given.
    ``channels`` is how many channels of each convolution to show (the first ones).
    ``images_from`` names the set the images come from, as the page calls it:
    ``"validation"``, or ``"test"`` for a model that trained on the validation images too
    (notebook 10's capstone).

    Raises ``ValueError`` if the page would weigh more than :data:`MAX_BYTES`: choose
    fewer images or channels.
    """
    model = _check_model(model)
    x_val = checks.images(validation_images, "validation_images")
    y_val = checks.labels(validation_labels, len(x_val), "validation_labels")
    chosen = (
        choose_images(y_val)
        if chosen is None
        else checks.indices("chosen", chosen, len(x_val), "choose_images(y_val)")
    )
    per_cell = checks.whole("per_cell", per_cell, 1, 50, example=6)
    channels = checks.whole("channels", channels, 1, example=32)
    if not isinstance(title, str) or not title.strip():
        raise ValueError(f"title is {title!r}; expected a non-empty string, e.g. 'Model explorer'")
    images_from = checks.choice("images_from", images_from, IMAGE_SETS)
    content = _explorer_data(model, x_val, y_val, chosen, per_cell, channels)
    content["set"] = images_from
    page = _page(content, title)
    size = len(page.encode("utf-8"))
    if size > MAX_BYTES:
        raise ValueError(
            f"the explorer would weigh {size:,} bytes; expected at most {MAX_BYTES:,}. "
            f"Explore fewer images (chosen has {len(chosen)}), or show fewer channels "
            f"(channels={channels}) or cell images (per_cell={per_cell})"
        )
    return page


def show_explorer(
    model: keras.Model,
    validation_images: np.ndarray,
    validation_labels: np.ndarray,
    *,
    height: int = 900,
    **options,
):
    """The explorer as a notebook cell's output (introduced in notebook 04).

    Returns an ``IPython.display.HTML`` holding the page of :func:`explorer_html` (which
    takes the same arguments) in a frame ``height`` pixels high, so that it works the
    same in JupyterLab, in Colab and in the executed book. The page scrolls inside it.
    """
    from IPython.display import HTML

    height = checks.whole("height", height, 200, 5000, example=900)
    page = explorer_html(model, validation_images, validation_labels, **options)
    title = options.get("title", "Model explorer")
    # In a <div>: IPython suggests its IFrame, which loads a file or address, for a bare frame.
    return HTML(
        f'<div class="model-explorer"><iframe srcdoc="{html.escape(page, quote=True)}" '
        f'title="{html.escape(title)}" '
        f'style="width: 100%; height: {height}px; border: 1px solid #888888;"></iframe></div>'
    )


def save_explorer(
    path: str | os.PathLike,
    model: keras.Model,
    validation_images: np.ndarray,
    validation_labels: np.ndarray,
    **options,
) -> Path:
    """Write the explorer to an HTML file, to open in any browser or send (introduced in notebook 04).

    Takes the arguments of :func:`explorer_html`; returns the file's path. The file
    needs nothing else, not even a network connection.
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path).endswith(".html"):
        raise ValueError(
            f"path is {path!r}; expected a file name ending in .html, e.g. 'explorer.html'"
        )
    page = explorer_html(model, validation_images, validation_labels, **options)
    target = Path(path)
    target.write_text(page, encoding="utf-8")
    return target
