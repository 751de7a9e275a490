"""helpers.explorer: the page shows what the model computes, on hand-worked examples.

The probabilities, the confusion matrix and its cells, the feature maps and their colour
scales, the kernels and the Grad-CAM maps read back from the page equal what is computed
here independently; Grad-CAM is pinned on a model whose answer is worked out by hand and
checked against notebook 09's own code; the page requests nothing from the network, is
usable with a keyboard and a screen reader, and stays under its size limit on the real
data with the baseline.
"""

from __future__ import annotations

import ast
import base64
import html
import io
import json
import re
from html.parser import HTMLParser

import keras
import nbformat
import numpy as np
import pytest
from matplotlib import colormaps
from PIL import Image

from conftest import ROOT
from helpers import data, explorer, models, training, viz

PAYLOAD = re.compile(r'<script type="application/json" id="explorer-data">(.*?)</script>', re.S)


# --------------------------------------------------------------------------- reading a page


class Elements(HTMLParser):
    """Every start tag of a page, as (tag, attributes)."""

    def __init__(self, page: str):
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def all(self, tag: str | None = None, **wanted) -> list[dict[str, str | None]]:
        return [
            attrs
            for t, attrs in self.found
            if (tag is None or t == tag) and all(attrs.get(k) == v for k, v in wanted.items())
        ]


def payload(page: str) -> dict:
    return json.loads(PAYLOAD.search(page).group(1).replace("<\\/", "</"))


def decode(url: str) -> np.ndarray:
    """A PNG data URL's pixels: grey levels, or palette entries for a palette PNG."""
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url[len(prefix) :]))))


def untile(sheet: np.ndarray, n: int, h: int, w: int) -> np.ndarray:
    """The n tiles of h x w that explorer pictures hold, 8 a row with 1-pixel gaps."""
    columns = min(8, n)
    return np.stack(
        [
            sheet[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w]
            for r, c in (divmod(k, columns) for k in range(n))
        ]
    )


def on_scale(entries: np.ndarray, low: float, high: float) -> np.ndarray:
    """Palette entries 1-255 read back on the scale from low to high."""
    assert entries.min() >= 1, "entry 0 is the transparent gap"
    return low + (entries.astype(float) - 1) / 254 * (high - low)


# --------------------------------------------------------------------------- a tiny model


def tiny_model() -> keras.Model:
    """Two convolutions of four filters, untrained, from a fixed seed."""
    training.set_seed(3)
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(2, name="pool1"),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(2, name="pool2"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(16, activation="relu", name="dense"),
            keras.layers.Dense(10, activation="softmax", name="probabilities"),
        ]
    )
    # Larger output weights, so that an untrained model predicts several classes.
    kernel, bias = model.get_layer("probabilities").get_weights()
    model.get_layer("probabilities").set_weights([kernel * 8, bias])
    return model


@pytest.fixture(scope="module")
def setting():
    rng = np.random.default_rng(0)
    x = (rng.random((300, 28, 28, 1)) * (rng.random((300, 1, 1, 1)) < 0.7)).astype(np.float32)
    x[:, 10:18, :, 0] *= np.linspace(0, 1, 28, dtype=np.float32)  # some structure
    y = rng.integers(0, 10, 300)
    model = tiny_model()
    chosen = explorer.choose_images(y, per_class=2, seed=1)
    page = explorer.explorer_html(model, x, y, chosen=chosen, per_cell=4)
    return model, x, y, chosen, page


# --------------------------------------------------------------------------- choose_images


def test_choose_images_takes_a_few_of_each_class_the_same_for_a_seed():
    labels = np.array([0, 1, 2, 0, 1, 0, 0, 2, 1, 0, 9, 9])
    chosen = explorer.choose_images(labels, per_class=2, seed=0)
    assert np.array_equal(chosen, explorer.choose_images(labels, per_class=2, seed=0))
    assert [int(labels[i]) for i in chosen] == [0, 0, 1, 1, 2, 2, 9, 9]  # class 0 first
    for c in (0, 1, 2, 9):
        of_class = chosen[labels[chosen] == c]
        assert list(of_class) == sorted(of_class) and len(set(of_class)) == 2
    everything = explorer.choose_images(labels, per_class=10)  # fewer than asked: all of them
    assert sorted(everything) == list(range(len(labels)))
    draws = {tuple(explorer.choose_images(labels, per_class=2, seed=s)) for s in range(10)}
    assert len(draws) > 1, "the seed changes the draw"


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"labels": [0, 1], "per_class": 0}, "per_class is 0; expected a whole number >= 1"),
        ({"labels": [0.0, 1.0]}, "labels has dtype float64; expected integer class labels"),
        ({"labels": np.array([], int)}, "labels is empty"),
        ({"labels": [0, 1], "seed": -1}, "seed is -1; expected a whole number >= 0"),
    ],
)
def test_choose_images_rejects_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        explorer.choose_images(**arguments)


# --------------------------------------------------------------------------- Grad-CAM


def test_receptive_field_centres_of_the_course_models():
    """Worked by hand: a 3 x 3 window moves the first centre 1 step in, a 2 x 2 pooling
    half a step and doubles the steps; a "same" window starts where its padding ends."""
    baseline = models.baseline_cnn(compile=False)
    assert np.array_equal(explorer.receptive_field_centres(baseline, "conv1"), 1 + np.arange(26))
    assert np.array_equal(
        explorer.receptive_field_centres(baseline, "pool1"), 1.5 + 2 * np.arange(13)
    )
    # notebook 09 prints these: conv2's cells sit at pixels 3.5, 5.5, ..., 23.5
    assert np.array_equal(
        explorer.receptive_field_centres(baseline, "conv2"), 3.5 + 2 * np.arange(11)
    )
    capstone = models.capstone_cnn()
    assert np.array_equal(explorer.receptive_field_centres(capstone, "conv1_2"), np.arange(28.0))
    assert np.array_equal(
        explorer.receptive_field_centres(capstone, "conv2_1"), 0.5 + 2 * np.arange(14)
    )
    with pytest.raises(ValueError, match="has no layer 'conv9'"):
        explorer.receptive_field_centres(baseline, "conv9")


def one_convolution_model() -> keras.Model:
    """conv: filter 0 passes the pixel under its centre, filter 1 the pixel under its
    top-left corner; class 0's score sums filter 0's map, class 1's twice filter 1's,
    class 2's is minus filter 0's sum."""
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(2, 3, activation="relu", name="conv"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(10, activation="softmax", name="probabilities"),
        ]
    )
    kernel = np.zeros((3, 3, 1, 2), np.float32)
    kernel[1, 1, 0, 0] = 1.0
    kernel[0, 0, 0, 1] = 1.0
    model.get_layer("conv").set_weights([kernel, np.zeros(2, np.float32)])
    weights = np.zeros((26 * 26 * 2, 10), np.float32)  # flattened as (row, column, filter)
    weights[0::2, 0] = 1.0
    weights[1::2, 1] = 2.0
    weights[0::2, 2] = -1.0
    model.get_layer("probabilities").set_weights([weights, np.zeros(10, np.float32)])
    return model


def test_grad_cam_on_a_model_worked_by_hand():
    """Class 0: every cell's gradient is 1, so the map is filter 0's map, each cell placed
    on the pixel it is centred on: the image itself (the border repeats its neighbour).
    Class 1: twice filter 1's map, whose cell (i, j) saw pixel (i, j) but is centred on
    (i + 1, j + 1): the bright pixel appears one pixel down and right, twice as bright.
    Class 2: minus the image, which the ReLU sets to 0."""
    image = np.zeros((1, 28, 28, 1), np.float32)
    image[0, 10, 12, 0] = 1.0
    image[0, 20, 5, 0] = 0.5
    model = one_convolution_model()
    maps = explorer.grad_cam(model, np.repeat(image, 3, axis=0), np.array([0, 1, 2]))
    inner = np.clip(np.arange(28), 1, 26)
    expected_0 = image[0, inner][:, inner, 0]
    shifted = np.clip(np.arange(28) - 1, 0, 25)
    expected_1 = 2 * image[0, shifted][:, shifted, 0]
    np.testing.assert_allclose(maps[0], expected_0, atol=1e-6)
    np.testing.assert_allclose(maps[1], expected_1, atol=1e-6)
    assert np.unravel_index(maps[0].argmax(), (28, 28)) == (10, 12)
    assert np.unravel_index(maps[1].argmax(), (28, 28)) == (11, 13)
    np.testing.assert_allclose(maps[2], 0, atol=1e-7)
    signed = explorer.grad_cam(model, image, np.array([2]), relu=False)
    np.testing.assert_allclose(signed[0], -expected_0, atol=1e-6)


def notebook_09_grad_cam():
    """Notebook 09's own receptive_field_centres and grad_cam, run from its cell."""
    import tensorflow as tf

    nb = nbformat.read(ROOT / "notebooks" / "09_saliency_and_calibration.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "def grad_cam(" in c.source)
    tree = ast.parse(cell.source)
    kept = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        or (isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "LAST_CONV")
    ]
    namespace = {"np": np, "tf": tf, "keras": keras}
    exec(compile(ast.Module(kept, type_ignores=[]), "notebook 09", "exec"), namespace)
    return namespace


def test_grad_cam_is_notebook_09s():
    notebook = notebook_09_grad_cam()
    training.set_seed(5)
    model = models.baseline_cnn(compile=False)
    images = np.random.default_rng(5).random((6, 28, 28, 1)).astype(np.float32)
    classes = np.array([0, 3, 5, 7, 9, 1])
    for relu in (True, False):
        ours = explorer.grad_cam(model, images, classes, relu=relu)
        theirs = notebook["grad_cam"](model, images, classes, relu=relu)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)
    for layer in ("conv1", "conv2"):
        assert np.array_equal(
            explorer.receptive_field_centres(model, layer),
            notebook["receptive_field_centres"](model, layer),
        )


def test_grad_cam_rejects_what_it_cannot_explain():
    model = one_convolution_model()
    image = np.zeros((1, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match="layer_name is 'dense'; expected one of"):
        explorer.grad_cam(model, image, np.array([0]), layer_name="dense")
    with pytest.raises(ValueError, match=r"classes has shape \(2,\); expected \(1,\)"):
        explorer.grad_cam(model, image, np.array([0, 1]))
    scores = keras.Sequential(
        [keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(1, 3), keras.layers.Flatten()]
    )
    with pytest.raises(ValueError, match="expected a Dense layer with a softmax"):
        explorer.grad_cam(scores, image, np.array([0]))


# --------------------------------------------------------------------------- what the page shows


def test_the_page_shows_the_models_probabilities(setting):
    model, x, y, chosen, page = setting
    shown = payload(page)
    assert [item["index"] for item in shown["images"]] == chosen.tolist()
    assert [item["label"] for item in shown["images"]] == y[chosen].tolist()
    probabilities = np.array([item["probabilities"] for item in shown["images"]])
    expected = model.predict(x[chosen], verbose=0)
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
    assert [item["predicted"] for item in shown["images"]] == expected.argmax(axis=1).tolist()
    assert shown["classes"] == list(data.CLASS_NAMES)
    for item, image in zip(shown["images"], x[chosen], strict=True):
        assert np.array_equal(decode(item["image"]), np.rint(255 * (1 - image[..., 0])))


def test_the_confusion_matrix_has_the_true_class_in_rows(setting):
    model, x, y, _, page = setting
    confusion = payload(page)["confusion"]
    predicted = model.predict(x, verbose=0).argmax(axis=1)
    assert len(set(predicted)) >= 3, "the tiny model must predict several classes"
    matrix = np.array(confusion["matrix"])
    assert np.array_equal(matrix, viz.confusion_matrix(y, predicted))
    by_hand = np.zeros((10, 10), int)
    for t, p in zip(y, predicted, strict=True):
        by_hand[t, p] += 1  # row: true class, column: predicted class
    assert np.array_equal(matrix, by_hand)
    assert confusion["count"] == len(y)
    assert confusion["accuracy"] == pytest.approx(np.mean(predicted == y))
    assert "Rows: true class. Columns: predicted class." in page


def test_a_cells_images_are_the_validation_images_of_that_cell(setting):
    model, x, y, _, page = setting
    cells = payload(page)["confusion"]["cells"]
    predicted = model.predict(x, verbose=0).argmax(axis=1)
    for t in range(10):
        for p in range(10):
            inside = np.flatnonzero((y == t) & (predicted == p))
            if not len(inside):
                assert f"{t},{p}" not in cells
                continue
            cell = cells[f"{t},{p}"]
            assert cell["indices"] == inside[:4].tolist()  # per_cell=4, the first ones
            for index, url in zip(cell["indices"], cell["images"], strict=True):
                assert np.array_equal(decode(url), np.rint(255 * (1 - x[index, ..., 0])))
    buttons = Elements(page).all("button", **{"class": "cell"})
    assert len(buttons) == len(cells)
    for button in buttons:
        t, p = int(button["data-t"]), int(button["data-p"])
        count = int(np.sum((y == t) & (predicted == p)))
        assert button["aria-label"] == (
            f"True {data.CLASS_NAMES[t]}, predicted {data.CLASS_NAMES[p]}: {count} images"
        )


def test_each_layers_maps_share_one_scale_from_their_smallest_to_their_largest_value(setting):
    model, x, _, chosen, page = setting
    shown = payload(page)
    outputs = models.layer_outputs(model, x[chosen], ["conv1", "conv2"])
    assert [layer["name"] for layer in shown["layers"]] == ["conv1", "conv2"]
    for i, layer in enumerate(shown["layers"]):
        maps = outputs[layer["name"]]
        assert layer["low"] == pytest.approx(maps.min())
        assert layer["high"] == pytest.approx(maps.max())
        h, w, n = maps.shape[1:]
        assert layer["shape"] == [h, w, n] and layer["shown"] == n
        step = (layer["high"] - layer["low"]) / 254
        for item, expected in zip(shown["images"], maps, strict=True):
            sheet = decode(item["features"][i])
            if len(sheet) > h:
                assert np.all(sheet[h :: h + 1] == 0), "transparent lines between the maps"
            tiles = untile(sheet, n, h, w)
            read = on_scale(tiles.astype(float), layer["low"], layer["high"])
            np.testing.assert_allclose(read, np.moveaxis(expected, -1, 0), atol=step / 2 + 1e-6)


def test_the_kernels_share_one_scale_centred_on_zero(setting):
    model, *_, page = setting
    kernels = payload(page)["kernels"]
    weights = models.conv_kernels(model, "conv1")
    limit = float(np.abs(weights).max())
    assert kernels["layer"] == "conv1" and kernels["shape"] == list(weights.shape)
    assert kernels["low"] == pytest.approx(-limit) and kernels["high"] == pytest.approx(limit)
    tiles = untile(decode(kernels["picture"]), 4, 3, 3)
    read = on_scale(tiles.astype(float), -limit, limit)
    np.testing.assert_allclose(
        read, np.moveaxis(weights[:, :, 0, :], -1, 0), atol=limit / 254 + 1e-6
    )


def test_the_grad_cam_maps_explain_the_predicted_class(setting):
    model, x, _, chosen, page = setting
    shown = payload(page)
    predicted = np.array([item["predicted"] for item in shown["images"]])
    maps = explorer.grad_cam(model, x[chosen], predicted)
    assert shown["cam_layer"] == "conv2"
    for item, expected in zip(shown["images"], maps, strict=True):
        high = float(expected.max())
        assert item["cam_high"] == pytest.approx(high)
        read = on_scale(decode(item["cam"]).astype(float), 0.0, high)
        np.testing.assert_allclose(read, expected, atol=high / 254 + 1e-7)


# --------------------------------------------------------------------------- offline, accessible


# Where CSS and scripts could name a resource to load.
LOADS = re.compile(
    r"""url\(\s*["']?([^"')]*)|@import\s+["']?([^"';]*)|fetch\(|\bimport\s*\(|XMLHttpRequest|"""
    r"""WebSocket|EventSource|sendBeacon|<object|<embed""",
    re.I,
)
LINKING = ("src", "href", "srcset", "action", "formaction", "poster", "data", "background")


def test_the_page_requests_nothing_from_the_network(setting):
    *_, chosen, page = setting
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""[=("'`]\s*//""", page), "a protocol-relative address"
    elements = Elements(page)
    named = [attrs[key] for _, attrs in elements.found for key in LINKING if key in attrs]
    assert len(named) == len(chosen) + 2, "the parser finds the thumbnails, kernels and icon"
    for target in named:
        assert target.startswith("data:image/png;base64,") or target == "data:,", target
    for found in LOADS.finditer(page):
        assert found.group(0).lower().startswith("url("), f"the page loads {found.group(0)!r}"
        assert found.group(1).startswith("#") or found.group(1) == "", found.group(0)
    for attrs in elements.all("script"):
        assert "src" not in attrs, "inline scripts only"


def test_the_thumbnails_are_labelled_buttons(setting):
    _, _, y, chosen, page = setting
    elements = Elements(page)
    thumbs = elements.all("button", **{"class": "thumb"})
    assert [int(b["data-k"]) for b in thumbs] == list(range(len(chosen)))
    for button, index in zip(thumbs, chosen, strict=True):
        assert button["type"] == "button"
        assert button["aria-label"] == f"Validation image {index}, a {data.CLASS_NAMES[y[index]]}"
    for image in elements.all("img"):
        assert "alt" in image, f"an image without alt text: {image}"


def test_the_page_is_labelled_for_screen_readers_and_readable_in_either_mode(setting):
    *_, page = setting
    elements = Elements(page)
    assert elements.all("html", lang="en")
    assert elements.all("p", role="status", **{"aria-live": "polite"}), "a live region"
    headers = [a for t, a in elements.found if t == "th"]
    assert len([a for a in headers if a.get("scope") == "col"]) >= 10
    assert len([a for a in headers if a.get("scope") == "row"]) >= 20  # probabilities, matrix
    assert not [a for a in headers if a.get("scope") not in ("col", "row")]
    assert elements.all("input", type="range", id="opacity") and 'label for="opacity"' in page
    for section in elements.all("section"):
        assert section.get("aria-labelledby"), section
    assert ":focus-visible" in page and "outline:" in page
    assert "prefers-color-scheme: dark" in page and ':root[data-theme="dark"]' in page
    assert "html, body { background: var(--bg); color: var(--fg); }" in page


# --------------------------------------------------------------------------- showing and saving


def test_show_explorer_is_a_titled_frame_holding_the_page(setting, recwarn):
    model, x, y, chosen, page = setting
    shown = explorer.show_explorer(model, x, y, chosen=chosen, per_cell=4, height=700)
    assert not [w for w in recwarn if "IFrame" in str(w.message)], "no warning in the output"
    frame = Elements(shown.data).all("iframe")
    assert len(frame) == 1 and frame[0]["title"] == "Model explorer"
    assert "height: 700px" in frame[0]["style"]
    assert frame[0]["srcdoc"] == page  # the parser unescapes the attribute
    assert html.escape(page, quote=True) in shown.data


def test_save_explorer_writes_the_page(setting, tmp_path):
    model, x, y, chosen, page = setting
    path = explorer.save_explorer(
        tmp_path / "explorer.html", model, x, y, chosen=chosen, per_cell=4
    )
    assert path.read_text(encoding="utf-8") == page
    with pytest.raises(ValueError, match="expected a file name ending in .html"):
        explorer.save_explorer(tmp_path / "explorer.txt", model, x, y)


def test_the_page_rejects_bad_arguments_saying_what_to_do(setting, monkeypatch):
    model, x, y, *_ = setting
    with pytest.raises(ValueError, match=r"chosen is \[0, 300\]; expected a non-empty list"):
        explorer.explorer_html(model, x, y, chosen=[0, 300])
    with pytest.raises(ValueError, match="validation_images has dtype uint8"):
        explorer.explorer_html(model, (x * 255).astype(np.uint8), y)
    with pytest.raises(ValueError, match=r"validation_labels has shape \(299,\)"):
        explorer.explorer_html(model, x, y[:-1])
    with pytest.raises(TypeError, match="model is a str; expected a Keras model"):
        explorer.explorer_html("model", x, y)
    monkeypatch.setattr(explorer, "MAX_BYTES", 1000)
    with pytest.raises(ValueError, match=r"expected at most 1,000\. Explore fewer images"):
        explorer.explorer_html(model, x[:20], y[:20], chosen=[0, 1])


def test_the_page_for_fifty_images_and_the_baseline_stays_under_the_limit(small_splits, capsys):
    """The baseline, trained for an epoch on 200 images, and the real validation set."""
    splits = small_splits
    training.set_seed(0)
    model = models.baseline_cnn()
    model.fit(splits.x_train, splits.y_train, epochs=1, batch_size=32, verbose=0)
    chosen = explorer.choose_images(splits.y_val)
    assert len(chosen) == 50
    page = explorer.explorer_html(model, splits.x_val, splits.y_val, chosen=chosen)
    size = len(page.encode("utf-8"))
    with capsys.disabled():
        print(f"\nthe explorer of the baseline, 50 images: {size:,} bytes")
    assert size <= explorer.MAX_BYTES == 3_000_000
    shown = payload(page)
    assert len(shown["images"]) == 50 and [layer["shown"] for layer in shown["layers"]] == [32, 32]


def test_the_maps_are_drawn_with_the_courses_colour_maps(setting):
    *_, page = setting
    shown = payload(page)
    prefix = "data:image/png;base64,"
    pictures = {
        viz.SEQUENTIAL: shown["images"][0]["features"][0],
        viz.DIVERGING: shown["kernels"]["picture"],
    }
    for cmap, url in pictures.items():
        picture = Image.open(io.BytesIO(base64.b64decode(url[len(prefix) :])))
        assert picture.mode == "P" and picture.info["transparency"] == 0
        palette = np.array(picture.getpalette()[: 256 * 3]).reshape(256, 3)
        ends = np.rint(np.array([colormaps[cmap](0.0)[:3], colormaps[cmap](1.0)[:3]]) * 255)
        assert np.array_equal(palette[[1, 255]], ends), cmap
    thumbnail = Image.open(io.BytesIO(base64.b64decode(shown["images"][0]["image"][len(prefix) :])))
    assert thumbnail.mode == "L"  # grey levels: dark garment on white


# ------------------------------------------------- as the executed notebooks show it


def _html_outputs(path, marker: str) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [
        "".join(out["data"]["text/html"])
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if marker in "".join(out.get("data", {}).get("text/html", ""))
    ]


@pytest.mark.notebooks
@pytest.mark.parametrize("name", ["04_kernels_and_feature_maps", "10_capstone"])
def test_the_notebooks_explorer_is_one_offline_page_within_its_size(fast_notebooks, name):
    """Notebooks 04 and 10 each show one explorer: at most :data:`MAX_BYTES` (its page,
    as the frame holds it), and nothing in it refers to a network address."""
    shown = _html_outputs(fast_notebooks.executed(name), "model-explorer")
    assert len(shown) == 1, f"{name} shows {len(shown)} explorers; expected 1"
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', shown[0])[1])
    assert len(page.encode("utf-8")) <= explorer.MAX_BYTES
    # Any network address has "://" or starts with "//" (base64 images contain "//" too).
    assert "://" not in page and not re.search(r"""[=("'`]\s*//""", page), "a network address"
    print(f"{name}: explorer page {len(page.encode('utf-8')):,} bytes")


@pytest.mark.notebooks
def test_notebook_02s_animation_is_offline_and_within_its_size(fast_notebooks):
    shown = _html_outputs(fast_notebooks.executed("02_cnn_components"), "_anim_img")
    assert len(shown) == 1, f"notebook 02 shows {len(shown)} animations; expected 1"
    assert len(shown[0].encode("utf-8")) <= 2_000_000
    assert "://" not in shown[0] and 'alt="A 3 by 3 window' in shown[0]
    print(f"02_cnn_components: animation {len(shown[0].encode('utf-8')):,} bytes")
