"""helpers.viz: every plot draws on tiny inputs, is titled and readable, and rejects bad input."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers import experiments, viz  # noqa: E402
from helpers.data import CLASS_NAMES, to_model_input  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fashion(fashion_mnist):
    """40 real test images (model-ready) and their labels."""
    _, (x_test, y_test) = fashion_mnist
    return to_model_input(x_test[:40]), y_test[:40]


@pytest.fixture(scope="module")
def kernels():
    rng = np.random.default_rng(0)
    return rng.normal(scale=0.2, size=(3, 3, 4, 6))


def texts(fig) -> str:
    """Every title, suptitle, axis label and tick label of a figure, joined."""
    parts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return "\n".join(p for p in parts if p)


def assert_fits_the_book(fig):
    width, _ = fig.get_size_inches()
    assert width <= viz.MAX_WIDTH + 1e-9, f"figure is {width:.1f} in wide"


# ----------------------------------------------------------------- kernel_responses (notebook 02)


def test_kernel_responses(fashion):
    image = fashion[0][0]
    edge = np.array([[-1.0, 0, 1]] * 3)
    blur = np.full((3, 3), 1 / 9)
    responses = {"edges": np.zeros((26, 26)) - 0.5, "blur": np.ones((26, 26))}
    fig = viz.kernel_responses(image, {"edges": edge, "blur": blur}, responses, title="Kernels")
    text = texts(fig)
    assert "kernel: edges" in text and "kernel: blur" in text and "input image" in text
    assert "response 26×26" in text and "Kernels" in text
    assert "0.11" in text, "the kernel's weights are written in"
    assert_fits_the_book(fig)


def test_kernel_responses_rejects_mismatches(fashion):
    image = fashion[0][0]
    with pytest.raises(ValueError, match="same names"):
        viz.kernel_responses(image, {"a": np.ones((3, 3))}, {"b": np.ones((26, 26))})
    with pytest.raises(ValueError, match="expected one image"):
        viz.kernel_responses(fashion[0][:2], {"a": np.ones((3, 3))}, {"a": np.ones((26, 26))})
    with pytest.raises(ValueError, match="kernel 'a' has shape \\(9,\\)"):
        viz.kernel_responses(image, {"a": np.ones(9)}, {"a": np.ones((26, 26))})
    with pytest.raises(ValueError, match="kernels is empty"):
        viz.kernel_responses(image, {}, {})


# ----------------------------------------------------------------- notebook 03


def test_class_accuracy_bars_uses_class_names():
    accuracies = {name: 0.5 + i / 20 for i, name in enumerate(CLASS_NAMES)}
    fig = viz.class_accuracy_bars(accuracies, overall=0.7)
    text = texts(fig)
    assert all(name in text for name in CLASS_NAMES)
    assert "overall: 70.0%" in text and "Accuracy per class" in text
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel()
    assert ax.get_yticklabels()[-1].get_text() == CLASS_NAMES[0], "worst class at the top"
    assert_fits_the_book(fig)


@pytest.mark.parametrize(
    ("accuracies", "overall", "message"),
    [
        ({}, None, "accuracies is empty"),
        ({"Bag": 1.5}, None, r"\[0, 1\]"),
        ({"Bag": 0.5}, 90, "overall"),
    ],
)
def test_class_accuracy_bars_rejects_bad_values(accuracies, overall, message):
    with pytest.raises(ValueError, match=message):
        viz.class_accuracy_bars(accuracies, overall=overall)


def test_misclassified_shows_the_most_confident_mistakes_first(fashion):
    x, y = fashion
    probs = np.full((len(y), len(CLASS_NAMES)), 0.01)
    probs[np.arange(len(y)), y] = 0.91  # right everywhere ...
    wrong = (y[3] + 1) % 10
    probs[3] = 0.01
    probs[3, wrong] = 0.91  # ... except image 3 (91%) and image 5 (55%)
    probs[5] = 0.05
    probs[5, (y[5] + 1) % 10] = 0.55
    fig = viz.misclassified(x, y, probs, n=18)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[0] == f"true: {CLASS_NAMES[y[3]]}\npred: {CLASS_NAMES[wrong]} (91%)"
    assert len(titles) == 2 and "(55%)" in titles[1]
    assert "most confident mistakes" in texts(fig)
    assert_fits_the_book(fig)


def test_misclassified_rejects_bad_input(fashion):
    x, y = fashion
    perfect = np.eye(10)[y]
    with pytest.raises(ValueError, match="no mistakes"):
        viz.misclassified(x, y, perfect)
    with pytest.raises(ValueError, match=rf"expected \({len(y)}, {len(CLASS_NAMES)}\)"):
        viz.misclassified(x, y, perfect[:, :-1])
    with pytest.raises(ValueError, match="^n is 0; expected a whole number >= 1, e.g. 18$"):
        viz.misclassified(x, y, perfect, n=0)
    with pytest.raises(ValueError, match="^n is 2.0; expected a whole number >= 1, e.g. 18$"):
        viz.misclassified(x, y, perfect, n=2.0)


# ----------------------------------------------------------------- kernels (notebook 04)


def test_kernel_grid(kernels):
    fig = viz.kernel_grid(kernels, channel=2, n_cols=4)
    text = texts(fig)
    assert "filter 0" in text and "filter 5" in text and "input channel 2" in text
    assert "weight" in text, "the colour bar is labelled"
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len({im.get_clim() for im in images}) == 1, "one shared colour scale"
    low, high = images[0].get_clim()
    assert low == -high == -np.abs(kernels[:, :, 2, :]).max(), "symmetric around zero"
    assert images[0].get_cmap().name == viz.DIVERGING
    assert_fits_the_book(fig)


def test_kernel_grid_robust_scale_ignores_a_few_large_weights(kernels):
    spiked = kernels.copy()
    spiked[0, 0, 0, 0] = 50.0
    fig = viz.kernel_grid(spiked, robust=True)
    high = fig.axes[0].get_images()[0].get_clim()[1]
    assert high < 50.0 and high == pytest.approx(np.quantile(np.abs(spiked[:, :, 0, :]), 0.98))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernels": np.zeros((3, 3, 32))}, r"expected \(height, width, input channels, filters\)"),
        ({"channel": 4}, "channel is 4; expected a whole number from 0 to 3"),
        ({"channel": True}, "channel is True; expected a whole number from 0 to 3"),
        ({"n_cols": 0}, "n_cols is 0; expected a whole number >= 1, e.g. 8"),
        ({"n_cols": 2.5}, "n_cols is 2.5; expected a whole number >= 1, e.g. 8"),
        ({"vmax": -1.0}, r"vmax is -1.0; expected a number > 0, e.g. 0.5"),
        ({"vmax": float("nan")}, r"vmax is nan; expected a number > 0, e.g. 0.5"),
    ],
)
def test_kernel_grid_rejects_bad_input(kernels, kwargs, message):
    with pytest.raises(ValueError, match=message):
        viz.kernel_grid(**{"kernels": kernels, **kwargs})


def test_kernel_channels(kernels):
    fig = viz.kernel_channels(kernels, filters=[1, 4], n_cols=3)
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert "filter 1\nchannels 0–2" in labels and "filter 4\nchannel 3" in labels
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 2 * 4, "one kernel per input channel and filter"
    assert len({im.get_clim() for im in images}) == 1
    assert_fits_the_book(fig)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filters": [6]}, "filter is 6; expected a whole number from 0 to 5"),
        ({"filters": 2}, r"expected a list of indices, e.g. \[2\]"),
        ({"filters": []}, "filters is empty"),
        ({"channels": [9]}, "channel is 9; expected a whole number from 0 to 3"),
    ],
)
def test_kernel_channels_rejects_bad_indices(kernels, kwargs, message):
    with pytest.raises(ValueError, match=message):
        viz.kernel_channels(kernels, **kwargs)


@pytest.mark.parametrize("scale", viz.SCALES)
def test_kernels_before_after(kernels, scale):
    fig = viz.kernels_before_after(kernels * 0.1, kernels, scale=scale, title="Before/after")
    text = texts(fig)
    assert "before training" in text and "after training" in text and "Before/after" in text
    halves = [{im.get_clim() for ax in sub.axes for im in ax.get_images()} for sub in fig.subfigs]
    if scale == "shared":
        assert halves[0] == halves[1] and len(halves[0]) == 1
    elif scale == "halves":
        assert halves[0] != halves[1]
    else:
        assert halves[0] == halves[1] == {(-1.0, 1.0)}
    assert_fits_the_book(fig)


def test_kernels_before_after_rejects_bad_input(kernels):
    with pytest.raises(ValueError, match="expected the same layer twice"):
        viz.kernels_before_after(kernels, kernels[:, :, :2, :])
    with pytest.raises(ValueError, match="scale is 'log'"):
        viz.kernels_before_after(kernels, kernels, scale="log")


# ----------------------------------------------------------------- feature maps (notebook 04)


def fake_activations(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {
        "conv1": np.maximum(rng.normal(size=(n, 26, 26, 8)), 0),
        "pool1": np.maximum(rng.normal(size=(n, 13, 13, 8)), 0),
    }


def test_feature_maps_one_image(fashion):
    image = fashion[0][0]  # one (28, 28, 1) image
    fig = viz.feature_maps(fake_activations(1), image, channels=[0, 3], image_titles=["Boot"])
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert labels == ["conv1\n26×26×8", "pool1\n13×13×8"], "rows name the layer and its shape"
    text = texts(fig)
    assert "input:\nBoot" in text and "channel 3" in text
    assert_fits_the_book(fig)


def test_feature_maps_two_images_share_a_scale_per_layer(fashion):
    images = fashion[0][:2]
    fig = viz.feature_maps(fake_activations(2), images, channels=range(4))
    conv_row = [
        ax
        for ax in fig.axes
        if ax.get_images() and ax.get_images()[0].get_array().shape == (26, 26)
    ]
    assert len(conv_row) == 2 * 4
    assert len({ax.get_images()[0].get_clim() for ax in conv_row}) == 1
    assert_fits_the_book(fig)


def test_feature_maps_rejects_bad_input(fashion):
    x = fashion[0]
    with pytest.raises(ValueError, match="expected the 2 input image"):
        viz.feature_maps(fake_activations(2), x[:3])
    with pytest.raises(ValueError, match=r"'dense' has shape \(1, 128\)"):
        viz.feature_maps({"dense": np.zeros((1, 128))}, x[0])
    with pytest.raises(ValueError, match="activations is empty"):
        viz.feature_maps({}, x[0])
    with pytest.raises(ValueError, match="channel is 8; expected a whole number from 0 to 7"):
        viz.feature_maps(fake_activations(1), x[0], channels=[8])
    with pytest.raises(ValueError, match="image_titles has 2 entries"):
        viz.feature_maps(fake_activations(1), x[0], image_titles=["a", "b"])


def test_filter_activations(fashion):
    images = fashion[0][:3]
    fig = viz.filter_activations(
        fake_activations(3), images, filter_index=5, image_titles=["a", "b", "c"]
    )
    text = texts(fig)
    assert "conv1, channel 5\n26×26×8" in text and "pool1, channel 5\n13×13×8" in text
    assert "Channel 5 through the layers" in text
    column = [ax for ax in fig.axes if ax.get_title().startswith("conv1")]
    assert len(column) == 1
    assert_fits_the_book(fig)


def test_filter_activations_rejects_a_filter_that_does_not_exist(fashion):
    with pytest.raises(ValueError, match="filter_index is 8; expected a whole number from 0 to 7"):
        viz.filter_activations(fake_activations(1), fashion[0][0], filter_index=8)
    with pytest.raises(ValueError, match="filter_index is 'conv1'"):
        viz.filter_activations(fake_activations(1), fashion[0][0], filter_index="conv1")


# ----------------------------------------------------------------- existing plots keep working


def test_existing_plots_still_draw(fashion):
    x, y = fashion
    viz.image_grid(x[:4], titles=["a", "b", "c", "d"])
    viz.learning_curves(
        {
            "run": {
                "loss": [1.0, 0.5],
                "val_loss": [1.1, 0.7],
                "accuracy": [0.5, 0.7],
                "val_accuracy": [0.4, 0.6],
            }
        }
    )
    fig = viz.plot_confusion_matrix(y, y)
    assert all(name in texts(fig) for name in CLASS_NAMES)


@pytest.mark.parametrize(
    "draw",
    [
        lambda k, n: viz.image_grid(np.zeros((2, 28, 28, 1), np.float32), n_cols=n),
        lambda k, n: viz.kernel_grid(k, n_cols=n),
        lambda k, n: viz.kernel_channels(k, filters=[0], n_cols=n),
        lambda k, n: viz.kernels_before_after(k, k * 2, n_cols=n),
    ],
    ids=["image_grid", "kernel_grid", "kernel_channels", "kernels_before_after"],
)
@pytest.mark.parametrize("n_cols", [0, -1, 2.5, True, None])
def test_every_grid_rejects_bad_column_counts_alike(kernels, draw, n_cols):
    text = f"n_cols is {n_cols!r}; expected a whole number >= 1, e.g. 8"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        draw(kernels, n_cols)


# ----------------------------------------------------------------- experiments (notebooks 05-06)


def experiment_table(*variants: str) -> pd.DataFrame:
    """A table shaped like run_experiment's, with made-up accuracies."""
    train = [0.95 - 0.02 * i for i in range(len(variants))]
    validation = [0.90 - 0.01 * i for i in range(len(variants))]
    return pd.DataFrame(
        {
            "parameters": [1000] * len(variants),
            "train accuracy": train,
            "validation accuracy": validation,
            "gap (train − validation)": np.subtract(train, validation),
            "s/epoch": ["1.0 s"] * len(variants),
        },
        index=pd.Index(list(variants), name="variant"),
    )


def test_generalization_gap_plot():
    table = experiment_table("no dropout", "dropout 0.25", "dropout 0.5")
    result = experiments.ExperimentResult(table=table, histories={}, models={}, results={})
    fig = viz.plot_generalization_gap(result, title="Gap")
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * len(table)  # two bars per variant
    gaps = [t.get_text() for t in ax.texts if t.get_text().startswith("gap")]
    assert gaps == [f"gap {g:+.3f}" for g in table["gap (train − validation)"]]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(table.index)
    heights = [bar.get_height() for bar in ax.patches]
    assert sorted(heights) == sorted([*table["train accuracy"], *table["validation accuracy"]])
    assert "Gap" in texts(fig) and ax.get_ylabel() == "accuracy"
    assert_fits_the_book(fig)
    plt.close(fig)
    fig = viz.plot_generalization_gap(table)  # the table alone draws the same bars
    assert len(fig.axes[0].patches) == 2 * len(table)


def test_gap_plot_rejects_other_tables():
    with pytest.raises(ValueError, match="expected rows with the columns"):
        viz.plot_generalization_gap(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="expected rows with the columns"):
        viz.plot_generalization_gap(experiment_table("a").iloc[:0])
    with pytest.raises(ValueError, match="expected an ExperimentResult or its table"):
        viz.plot_generalization_gap({"train accuracy": 1})


def test_plot_accuracy_vs_shift():
    table = pd.DataFrame(
        {"max": [0.9, 0.8, 0.6], "none": [0.9, 0.5, 0.3]},
        index=pd.RangeIndex(0, 3, name="shift (pixels)"),
    )
    fig = viz.plot_accuracy_vs_shift(table, title="Shifted")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["max", "none"]
    for line, name in zip(ax.lines, table.columns, strict=True):
        np.testing.assert_array_equal(line.get_xdata(), table.index)
        np.testing.assert_array_equal(line.get_ydata(), table[name])
    assert "Shifted" in texts(fig) and ax.get_xlabel() and ax.get_ylabel()
    assert_fits_the_book(fig)


@pytest.mark.parametrize("table", [{"max": [0.9]}, pd.DataFrame(), None])
def test_plot_accuracy_vs_shift_rejects_bad_input(table):
    with pytest.raises(ValueError, match="expected the non-empty DataFrame"):
        viz.plot_accuracy_vs_shift(table)


def test_paired_differences_draw_each_seed_at_a_minus_b_and_the_verdict():
    from helpers import sweeps

    sweep = sweeps.load("pooling")
    pairs = [("none", "max"), ("average", "max")]
    fig = viz.plot_paired_differences(sweep, pairs)
    ax = fig.axes[0]
    points = [c for c in ax.collections if c.get_offsets().shape[0] == len(sweep.seeds)]
    assert len(points) == len(pairs)
    for (a, b), dots in zip(pairs, points, strict=True):
        expected = 100 * (sweep.values(a) - sweep.values(b))
        np.testing.assert_allclose(sorted(dots.get_offsets()[:, 0]), sorted(expected))
    verdicts = [t.get_text() for t in ax.texts]
    assert verdicts == [sweep.compare(a, b)["verdict"] for a, b in pairs]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["none − max", "average − max"]
    plt.close(fig)
    with pytest.raises(ValueError, match="pairs"):
        viz.plot_paired_differences(sweep, [("max", "no such variant")])


# ------------------------------------------------------------- notebook 02's animation


def test_convolution_frames_fill_one_by_one_then_row_by_row():
    assert viz.convolution_frames((26, 26)) == [*range(1, 13), *range(26, 677, 26)]
    assert viz.convolution_frames((2, 3), one_by_one=2) == [1, 2, 3, 6]
    assert viz.convolution_frames((1, 2), one_by_one=5) == [1, 2]


def test_convolution_animation_moves_the_window_and_fills_the_output():
    """A 7 × 7 image, a 3 × 3 kernel at stride 2: a 3 × 3 output. After five outputs the
    window sits on row 1, column 1 of the output, so at pixel (2, 2) of the image."""
    image = np.arange(49, dtype=float).reshape(7, 7) / 49
    kernel = np.eye(3)
    output = np.array(
        [
            [np.sum(image[2 * r : 2 * r + 3, 2 * c : 2 * c + 3] * kernel) for c in range(3)]
            for r in range(3)
        ]
    )
    animation = viz.convolution_animation(image, kernel, output, stride=2, one_by_one=4)
    window, current, drawn = animation._func(5)
    assert window.get_xy() == (2 - 0.5, 2 - 0.5) and window.get_width() == 3
    assert current.get_xy() == (1 - 0.5, 1 - 0.5)
    shown = np.asarray(drawn.get_array())
    np.testing.assert_array_equal(shown.flat[:5], output.flat[:5])
    assert np.isnan(shown.flat[5:]).all()
    assert f"= {output[1, 1]:.2f}" in animation._fig._suptitle.get_text()
    animation._func(9)
    np.testing.assert_array_equal(np.asarray(drawn.get_array()), output)
    with pytest.raises(ValueError, match=r"gives \(3, 3\)"):
        viz.convolution_animation(image, kernel, output[:2], stride=2)


def test_animation_html_plays_offline_and_is_described():
    image = np.random.default_rng(0).random((28, 28))
    kernel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
    output = np.array(
        [[np.sum(image[r : r + 3, c : c + 3] * kernel) for c in range(26)] for r in range(26)]
    )
    page = viz.animation_html(viz.convolution_animation(image, kernel, output), "a kernel")
    assert "://" not in page and "font-awesome" not in page and "<i class=" not in page
    images = re.findall(r"<img [^>]*>", page)
    assert images and all('alt="a kernel"' in tag for tag in images)
    assert page.count("data:image/png;base64,") == len(viz.convolution_frames((26, 26)))
    assert len(page.encode()) <= 2_000_000  # the issue's budget for notebook 02's animation
    assert 'aria-label="Play"' in page and ">▶<" in page
    assert '<input aria-label="Frame" id="_anim_slider' in page
