"""helpers.experiments: the machinery of notebooks 05-07, on tiny models and inputs, and the
measurements shipped for notebook 10. Their plots are tested with helpers.viz."""

from __future__ import annotations

import contextlib
import io
import re

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import experiments, models, viz  # noqa: E402


def tiny_model(**kwargs) -> keras.Model:
    """A small member of the course's CNN family: fast to train, same layer names."""
    return models.cnn(filters=(2,), dense_units=4, **kwargs)


@pytest.fixture(scope="module")
def splits():
    rng = np.random.default_rng(0)

    def split(n):
        x = rng.random((n, *models.INPUT_SHAPE), dtype=np.float32)
        return x, np.arange(n) % models.NUM_CLASSES

    return split(64), split(32), split(32)


@pytest.fixture(scope="module")
def result(splits):
    train, validation, test = splits
    return experiments.run_experiment(
        {"max": lambda: tiny_model(), "none": lambda: tiny_model(pooling="none")},
        train,
        validation,
        test,
        epochs=2,
        batch_size=16,
        seed=0,
        verbose=0,
    )


# --------------------------------------------------------------------------- run_experiment


def test_result_table_has_a_row_per_variant_in_order(result):
    table = result.table
    assert list(table.index) == ["max", "none"]
    assert list(table.columns) == [
        "parameters",
        "train accuracy",
        "validation accuracy",
        "test accuracy",
        "gap (train − validation)",
        "s/epoch",
    ]
    assert table.loc["max", "parameters"] == result.models["max"].count_params()
    # Without pooling the flattened feature maps are larger, and so is the Dense layer.
    assert table.loc["none", "parameters"] > table.loc["max", "parameters"]
    for column in ("train accuracy", "validation accuracy", "test accuracy"):
        assert table[column].between(0, 1).all()
    gap = table["train accuracy"] - table["validation accuracy"]
    np.testing.assert_allclose(table["gap (train − validation)"], gap, atol=1e-4)
    assert all(
        isinstance(s, str) and s.endswith(" s") and float(s[:-2]) >= 0 for s in table["s/epoch"]
    )


def test_result_keeps_histories_models_and_timings(result):
    assert result.variants == ["max", "none"]
    for name in result.variants:
        history = result.histories[name]
        assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert len(history["accuracy"]) == 2
        assert isinstance(result.models[name], keras.Model)
        assert len(result.results[name].epoch_seconds) == 2
    assert result.table.loc["none", "validation accuracy"] == pytest.approx(
        result.histories["none"]["val_accuracy"][-1], abs=1e-4
    )


def test_same_seed_gives_the_same_results(splits, result):
    train, validation, test = splits
    again = experiments.run_experiment(
        {"max": lambda: tiny_model()}, train, validation, test, epochs=2, batch_size=16, verbose=0
    )
    assert again.histories["max"] == result.histories["max"]


@pytest.fixture(scope="module")
def verbose_run(splits):
    """Two variants trained for an epoch, verbose and without a test set: the result and
    what it printed (one run, each model traced once, for the two tests below)."""
    train, validation, _ = splits
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run = experiments.run_experiment(
            {"a": tiny_model, "b": tiny_model},
            train,
            validation,
            epochs=1,
            batch_size=32,
            verbose=1,
        )
    return run, printed.getvalue()


def test_without_a_test_set_there_is_no_test_column(verbose_run):
    run, _ = verbose_run
    assert "test accuracy" not in run.table.columns
    assert "validation accuracy" in run.table.columns


def test_verbose_prints_one_line_per_variant(verbose_run):
    _, printed = verbose_run
    lines = [line for line in printed.splitlines() if line]
    assert len(lines) == 2
    assert lines[0].startswith("a: ") and " s per epoch" in lines[0]


def test_per_epoch_table(result):
    frame = result.per_epoch("val_accuracy")
    assert list(frame.columns) == ["max", "none"]
    assert list(frame.index) == [1, 2]
    assert list(result.per_epoch("loss", variants=["none"]).columns) == ["none"]


def test_plot_overlays_the_chosen_variants(result):
    fig = result.plot(variants=["none"], metrics=("accuracy",), title="t")
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["none (train)", "none (validation)"]
    plt.close(fig)
    fig = result.plot()
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 4
    plt.close(fig)


def test_the_result_and_its_table_draw_as_a_generalization_gap(result):
    """The plot itself is tested in test_viz.py; here, that it takes what an experiment gives."""
    for given in (result, result.table):
        fig = viz.plot_generalization_gap(given)
        assert len(fig.axes[0].patches) == 2 * len(result.variants)  # two bars per variant
        plt.close(fig)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"variants": {}}, "variants is empty"),
        ({"variants": [tiny_model]}, "variants is a list; expected a dict"),
        ({"variants": {"a": tiny_model()}}, "variant 'a' is a Functional, not a function"),
        ({"variants": {"": tiny_model}}, "variant name '' is not a non-empty string"),
        ({"variants": {"a": lambda: 3}}, "variant 'a' built a int; expected a keras.Model"),
        ({"epochs": 0}, "epochs is 0; expected a whole number >= 1, e.g. 5"),
        ({"epochs": 1.5}, "epochs is 1.5; expected a whole number >= 1, e.g. 5"),
        ({"epochs": True}, "epochs is True; expected a whole number >= 1, e.g. 5"),
        ({"batch_size": -4}, "batch_size is -4; expected a whole number >= 1, e.g. 128"),
        ({"seed": -1}, "seed is -1; expected a whole number >= 0, e.g. 0"),
        ({"verbose": 3}, "verbose is 3; expected one of (0, 1, 2)"),
        ({"train": "images"}, "train is str; expected a pair (x, y)"),
        ({"validation": (np.zeros((4, 28, 28)), np.zeros(4, int))}, "validation x has shape"),
        ({"test": (np.zeros((4, 28, 28, 1), np.float32), np.zeros(3, int))}, "test y has shape"),
    ],
)
def test_run_experiment_rejects_bad_arguments(splits, kwargs, message):
    train, validation, test = splits
    arguments = {
        "variants": {"a": tiny_model},
        "train": train,
        "validation": validation,
        "test": test,
        "epochs": 1,
        "batch_size": 32,
        "seed": 0,
        "verbose": 0,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):
        experiments.run_experiment(**arguments)


def test_uncompiled_variant_is_rejected(splits):
    train, validation, _ = splits

    def uncompiled():
        inputs = keras.Input(models.INPUT_SHAPE)
        outputs = keras.layers.Dense(models.NUM_CLASSES)(keras.layers.Flatten()(inputs))
        return keras.Model(inputs, outputs)

    with pytest.raises(ValueError, match="'raw' built a model that is not compiled"):
        experiments.run_experiment({"raw": uncompiled}, train, validation, epochs=1, verbose=0)


def test_unknown_variant_names_are_rejected(result):
    with pytest.raises(ValueError, match=r"\['average'\] that are not in the experiment"):
        result.plot(variants=["max", "average"])
    with pytest.raises(ValueError, match="variants is empty"):
        result.per_epoch(variants=[])
    with pytest.raises(ValueError, match="metric is 'acc'; expected one of the recorded"):
        result.per_epoch("acc")


# --------------------------------------------------------------------------- architecture


def test_architecture_table_shows_the_flatten_and_dense_sizes():
    table = experiments.architecture_table(
        {p: models.cnn(pooling=p) for p in ("max", "average", "strided", "none")}
    )
    assert table.loc["max", "feature maps before Flatten"] == "5 × 5 × 32"
    assert table.loc["strided", "feature maps before Flatten"] == "6 × 6 × 32"
    assert table.loc["none", "feature maps before Flatten"] == "24 × 24 × 32"
    assert table.loc["none", "Flatten length"] == 24 * 24 * 32
    units = models.cnn(pooling="none").get_layer("dense").units
    assert table.loc["none", "Dense parameters"] == 24 * 24 * 32 * units + units
    baseline = models.baseline_cnn().count_params()
    assert table.loc["max", "total parameters"] == baseline
    assert table.loc["average", "total parameters"] == baseline, "pooling has no weights"
    for variant, row in table.iterrows():
        model = models.cnn(pooling=variant)
        assert row["Dense parameters"] == model.get_layer("dense").count_params()
        assert row["total parameters"] == model.count_params()


def test_architecture_table_rejects_bad_input():
    with pytest.raises(ValueError, match="expected a non-empty dict"):
        experiments.architecture_table({})
    with pytest.raises(ValueError, match=r"models\['a'\] is a str"):
        experiments.architecture_table({"a": "cnn"})
    inputs = keras.Input(models.INPUT_SHAPE)
    other = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs))
    with pytest.raises(ValueError, match="expected layers named 'flatten' and 'dense'"):
        experiments.architecture_table({"gap": other})


# --------------------------------------------------------------------------- shifting


def test_shift_images_moves_pixels_and_fills_with_zero():
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3)
    right = experiments.shift_images(x, dx=1)
    np.testing.assert_array_equal(right[0], [[0, 1, 2], [0, 4, 5], [0, 7, 8]])
    up = experiments.shift_images(x, dy=-1)
    np.testing.assert_array_equal(up[0], [[4, 5, 6], [7, 8, 9], [0, 0, 0]])
    both = experiments.shift_images(x[..., np.newaxis], dx=-2, dy=2)
    assert both.shape == (1, 3, 3, 1) and both.dtype == np.float32
    np.testing.assert_array_equal(both[0, ..., 0], [[0, 0, 0], [0, 0, 0], [3, 0, 0]])
    np.testing.assert_array_equal(experiments.shift_images(x, 0, 0), x)
    assert experiments.shift_images(x, 0, 0) is not x


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dx": 3}, "dx is 3; expected a whole number from -2 to 2, e.g. 2"),
        ({"dy": -3}, "dy is -3; expected a whole number from -2 to 2, e.g. 2"),
        ({"dx": 1.5}, "dx is 1.5; expected a whole number from -2 to 2, e.g. 2"),
        ({"dy": True}, "dy is True; expected a whole number from -2 to 2, e.g. 2"),
    ],
)
def test_shift_images_rejects_bad_shifts(kwargs, message):
    """Shifts of a 3 x 3 image: at most 2 pixels either way, so that something is left."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        experiments.shift_images(np.zeros((1, 3, 3)), **kwargs)


def test_shift_images_rejects_bad_arrays():
    with pytest.raises(ValueError, match=r"x has shape \(3, 3\)"):
        experiments.shift_images(np.zeros((3, 3)), 1, 0)


def test_accuracy_vs_shift_table_and_plot(result, splits):
    """The table's unshifted row is the test accuracy; it draws (tested in test_viz.py)."""
    _, _, (x, y) = splits
    table = experiments.accuracy_vs_shift(result.models, x, y, max_shift=2)
    assert list(table.index) == [0, 1, 2] and table.index.name == "shift (pixels)"
    assert list(table.columns) == ["max", "none"]
    assert table.loc[0, "max"] == pytest.approx(result.table.loc["max", "test accuracy"], abs=1e-4)
    fig = viz.plot_accuracy_vs_shift(table)
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)


def test_accuracy_vs_shift_on_a_model_that_sees_one_pixel():
    """A model that reads only the centre pixel: shifting empties it, so the bright image fails."""
    inputs = keras.Input(models.INPUT_SHAPE)
    centre = keras.layers.Flatten()(keras.layers.Cropping2D(((14, 13), (14, 13)))(inputs))
    dense = keras.layers.Dense(2)
    model = keras.Model(inputs, dense(centre))
    dense.set_weights([np.array([[1.0, -1.0]]), np.array([0.0, 0.5])])  # bright: 0, dark: 1
    x = np.zeros((2, *models.INPUT_SHAPE), np.float32)
    x[0, 14, 14] = 1.0
    table = experiments.accuracy_vs_shift({"m": model}, x, np.array([0, 1]), max_shift=2)
    assert table["m"].tolist() == [1.0, 0.5, 0.5]
    table = experiments.accuracy_vs_shift({"m": model}, x, np.array([0, 1]), 1, ["left"])
    assert table["m"].tolist() == [1.0, 0.5]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"models": {}}, "expected a non-empty dict"),
        ({"models": {"a": 1}}, r"models\['a'\] is a int"),
        ({"max_shift": -1}, "max_shift is -1; expected a whole number from 0 to 27, e.g. 4"),
        ({"max_shift": 28}, "max_shift is 28; expected a whole number from 0 to 27, e.g. 4"),
        ({"max_shift": 1.0}, "max_shift is 1.0; expected a whole number from 0 to 27, e.g. 4"),
        ({"directions": ["diagonal"]}, r"directions names \['diagonal'\]"),
        ({"directions": []}, "directions is empty"),
    ],
)
def test_accuracy_vs_shift_rejects_bad_arguments(result, splits, kwargs, message):
    _, _, (x, y) = splits
    arguments = {"models": result.models, "x": x, "y": y, "max_shift": 1}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        experiments.accuracy_vs_shift(**arguments)


# --------------------------------------------------------------------------- the rest


def test_format_seconds():
    assert experiments.format_seconds(4.25) == "4.2 s"
    assert experiments.format_seconds(12) == "12.0 s"
    assert experiments.format_seconds(np.float64(0)) == "0.0 s"
    for bad in (-1, "fast", float("nan"), True):
        with pytest.raises(
            ValueError, match=f"^seconds is {re.escape(repr(bad))}; expected a number >= 0"
        ):
            experiments.format_seconds(bad)


# --------------------------------------------------------------------------- shipped results


@pytest.fixture(scope="module")
def search():
    return experiments.capstone_search()


def test_capstone_search_has_the_documented_columns(search):
    runs, curves = search
    assert tuple(runs.columns) == experiments.SEARCH_COLUMNS
    assert tuple(curves.columns) == experiments.CURVE_COLUMNS
    assert len(runs) and len(curves)
    assert runs["chosen"].dtype == bool and runs["chosen"].sum() == 1, "one chosen recipe"
    assert runs["label"].is_unique
    assert set(curves["label"]) <= set(runs["label"]), "every curve belongs to a run"
    assert runs["val_accuracy"].between(0, 1).all() and curves["val_accuracy"].between(0, 1).all()
    np.testing.assert_allclose(runs["training_s"], runs["epochs"] * runs["s_per_epoch"], atol=0.5)


def test_capstone_search_curves_run_epoch_by_epoch_to_each_runs_result(search):
    runs, curves = search
    for label, curve in curves.groupby("label", sort=False):
        run = runs.set_index("label").loc[label]
        assert curve["epoch"].tolist() == list(range(1, int(run["epochs"]) + 1)), label
        assert curve["elapsed_s"].is_monotonic_increasing, label
        assert curve["val_accuracy"].iloc[-1] == pytest.approx(run["val_accuracy"], abs=1e-4)


def test_capstone_search_parameter_counts_are_those_of_the_course_models(search):
    """The shipped measurements are of the models the helpers build today."""
    runs, _ = search
    for _, run in runs.iterrows():
        if run["architecture"].startswith("baseline"):
            model = models.baseline_cnn()
        else:
            widths = tuple(int(w) for w in run["widths"].split())
            model = models.capstone_cnn(widths=widths, convs_per_block=int(run["convs_per_block"]))
        assert run["parameters"] == model.count_params(), run["label"]
