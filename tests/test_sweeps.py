"""helpers.sweeps: the seed sweeps shipped with the helpers, and the code that makes them.

The shipped files are checked against the notebooks they describe (same variants, same
models, same settings); the runner is checked on tiny experiments, for determinism and
for the files it writes; the statistics on hand-made tables.
"""

from __future__ import annotations

import dataclasses
import filecmp

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import papermill  # noqa: E402
import pytest  # noqa: E402

from conftest import ROOT  # noqa: E402
from helpers import models, sweeps, viz  # noqa: E402

NAMES = list(sweeps.EXPERIMENTS)


# --------------------------------------------------------------------------- shipped files


@pytest.mark.parametrize("name", NAMES)
def test_shipped_sweep_covers_every_seed_variant_and_epoch(name):
    sweep = sweeps.load(name)
    experiment = sweeps.EXPERIMENTS[name]()
    assert sweep.seeds == list(experiment.seeds) and len(sweep.seeds) >= 2
    assert sweep.variants == list(experiment.variants)
    assert len(sweep.runs) == len(sweep.seeds) * len(sweep.variants)
    assert not sweep.runs.duplicated(["variant", "seed"]).any()
    for (variant, seed), rows in sweep.curves.groupby(["variant", "seed"]):
        run = sweep.runs[(sweep.runs["variant"] == variant) & (sweep.runs["seed"] == seed)]
        trained = int(run["epochs_trained"].iloc[0])
        assert list(rows["epoch"]) == list(range(1, trained + 1)), (variant, seed)
        if variant not in experiment.callbacks:  # only a callback (early stopping) ends sooner
            assert trained == experiment.epochs, (variant, seed)
    accuracies = sweep.runs[[c for c in sweep.runs.columns if "accuracy" in c]]
    assert ((accuracies >= 0) & (accuracies <= 1)).all().all()
    gap = sweep.runs["train_accuracy"] - sweep.runs["val_accuracy"]
    assert np.allclose(sweep.runs["gap"], gap)


@pytest.mark.parametrize("name", NAMES)
def test_shipped_sweep_used_the_notebooks_own_defaults(name):
    experiment = sweeps.EXPERIMENTS[name]()
    notebook = ROOT / "notebooks" / f"{experiment.notebook}.ipynb"
    defaults = {k: v["default"] for k, v in papermill.inspect_notebook(str(notebook)).items()}
    settings = sweeps.load(name).settings
    expected = {
        key: int(defaults[key.upper()]) for key in experiment.tied if key.upper() in defaults
    }
    assert set(expected) == set(experiment.tied), f"{experiment.notebook} lacks {experiment.tied}"
    if "TEST_SIZE" in defaults:
        expected["test_size"] = int(defaults["TEST_SIZE"])
    assert {k: settings[k] for k in expected} == expected, (
        f"{experiment.notebook}'s defaults differ from the shipped sweep {name!r}; "
        "run `make sweep` again"
    )


@pytest.mark.parametrize("name", NAMES)
def test_shipped_sweep_measured_todays_models(name):
    """The recorded fingerprints are those of the models the variants build now."""
    import keras

    sweep = sweeps.load(name)
    experiment = sweeps.EXPERIMENTS[name]()
    before = keras.config.dtype_policy().name
    keras.config.set_dtype_policy(sweep.policy)  # the precision the sweep recorded
    try:
        sweep.check_matches(experiment.variants, **sweep.settings)
    finally:
        keras.config.set_dtype_policy(before)


def test_check_matches_refuses_a_changed_variant_or_setting():
    sweep = sweeps.load("pooling")
    variants = dict(sweeps.EXPERIMENTS["pooling"]().variants)
    with pytest.raises(ValueError, match="variants are"):
        sweep.check_matches({k: variants[k] for k in list(variants)[:2]})
    changed = dict(variants, max=lambda: models.cnn(dense_units=64))
    with pytest.raises(ValueError, match="'max' builds a model with fingerprint"):
        sweep.check_matches(changed)
    with pytest.raises(ValueError, match="epochs is 4, the shipped runs used 3"):
        sweep.check_matches(variants, epochs=4)
    with pytest.raises(ValueError, match="unknown setting 'seeds'"):
        sweep.check_matches(variants, seeds=5)


def test_a_run_in_another_precision_is_not_a_sample_of_the_sweep(capsys):
    """The pooling sweep trained in float32: models built in mixed_bfloat16 (as on a
    processor with native bfloat16) are refused, and ``matches`` says so in one line."""
    from helpers import precision

    sweep = sweeps.load("pooling")
    assert sweep.policy == "float32"
    variants = dict(sweeps.EXPERIMENTS["pooling"]().variants)
    assert sweep.matches(variants, **sweep.settings)
    assert capsys.readouterr().out == ""
    bf16 = precision.TrainingPath("mixed_bfloat16", 128, 1e-3, reason="a test")
    with precision.scope(bf16):
        with pytest.raises(
            ValueError, match="built in mixed_bfloat16, the shipped runs trained in float32"
        ):
            sweep.check_matches(variants)
        assert not sweep.matches(variants, batch_size=32)
    line = capsys.readouterr().out
    assert line.count("\n") == 1 and line.startswith(
        "Not the book's settings (batch_size is 32, the shipped runs used 128;"
    )


# --------------------------------------------------------------------------- the runner


_BOOK = dict(sweeps.EXPERIMENTS)  # the experiments as shipped, before any test replaces one


def _tiny(name: str) -> sweeps.Experiment:
    return dataclasses.replace(
        _BOOK[name](), train_size=300, test_size=200, epochs=2, batch_size=64
    )


def test_run_writes_files_that_a_second_run_reproduces(tmp_path, monkeypatch, fashion_mnist):
    monkeypatch.setitem(sweeps.EXPERIMENTS, "baseline", lambda: _tiny("baseline"))
    first, second = tmp_path / "first", tmp_path / "second"
    sweep = sweeps.run("baseline", seeds=(0, 1), folder=first, verbose=0)
    sweeps.run("baseline", seeds=(0, 1), folder=second, verbose=0)
    for name in ("sweep_baseline_runs.csv", "sweep_baseline_curves.csv"):
        assert filecmp.cmp(first / name, second / name, shallow=False), name
    assert sweep.seeds == [0, 1] and sweep.variants == ["baseline"]
    assert "test_accuracy" in sweep.runs.columns  # the baseline records its test accuracy
    assert sweep.settings == {"train_size": 300, "test_size": 200, "epochs": 2, "batch_size": 64}
    assert len(sweep.curves) == 2 * 2
    # different seeds are different samples
    assert sweep.values("baseline").nunique() == 2


def test_run_one_records_shifts_and_early_stopping(fashion_mnist):
    pooling = dataclasses.replace(
        _tiny("pooling"), variants={"max": sweeps.EXPERIMENTS["pooling"]().variants["max"]}
    )
    runs, _ = sweeps.run_one(pooling, seed=0, verbose=0)
    assert [c for c in runs[0] if c.startswith("val_accuracy_shift")] == [
        f"val_accuracy_shift_{k}" for k in range(1, 5)
    ]
    dropout = _tiny("dropout")
    dropout = dataclasses.replace(
        dropout,
        epochs=12,
        variants={"early stopping": dropout.variants["early stopping"]},
    )
    runs, curves = sweeps.run_one(dropout, seed=0, verbose=0)
    assert runs[0]["epochs_trained"] == len(curves) <= 12
    assert "test_accuracy" not in runs[0]  # variants are compared on validation only


def test_run_one_records_flipped_and_footwear_accuracy(fashion_mnist):
    augmentation = dataclasses.replace(
        _tiny("augmentation"),
        variants={"flips": sweeps.EXPERIMENTS["augmentation"]().variants["flips"]},
    )
    runs, _ = sweeps.run_one(augmentation, seed=0, verbose=0)
    row = runs[0]
    for column in (
        "val_flipped_accuracy",
        "val_footwear_accuracy",
        "val_flipped_footwear_accuracy",
    ):
        assert 0.0 <= row[column] <= 1.0, (column, row[column])
    assert "val_accuracy_shift_4" in row  # the augmentation experiment records shifts too


def test_run_one_builds_the_faster_paths_policy_and_stops_half_the_epochs(
    fashion_mnist, monkeypatch
):
    import keras

    from helpers import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda cpuinfo=None: frozenset({"avx512_bf16"}))
    monkeypatch.setattr(precision, "_gpu_capabilities", lambda: [])
    ablation = sweeps.EXPERIMENTS["capstone_ablation"]()
    half = "half the epochs"
    tiny = dataclasses.replace(
        ablation,
        variants={half: ablation.variants[half]},
        train_size=300,
        test_size=200,
        epochs=sweeps.CAPSTONE_RECIPE["epochs"],
        batch_size=64,
    )
    seen = []
    monkeypatch.setattr(
        keras.config,
        "set_dtype_policy",
        lambda p, _set=keras.config.set_dtype_policy: (seen.append(str(p)), _set(p))[-1],
    )
    runs, curves = sweeps.run_one(tiny, seed=0, verbose=0)
    assert runs[0]["policy"] == "mixed_bfloat16"
    assert runs[0]["epochs_trained"] == len(curves) == sweeps.CAPSTONE_RECIPE["epochs"] // 2
    assert seen == ["mixed_bfloat16", "float32"]  # and back to float32 afterwards
    assert keras.config.dtype_policy().name == "float32"


def test_sweeps_without_a_recorded_policy_ran_in_float32():
    assert "policy" not in sweeps.load("dropout").runs.columns
    assert sweeps.load("dropout").policy == "float32"


@pytest.mark.parametrize("name", list(sweeps.EXPERIMENTS))
def test_each_shipped_sweep_ran_in_its_experiments_precision(name):
    experiment, sweep = sweeps.EXPERIMENTS[name](), sweeps.load(name)
    if experiment.faster:  # the faster path's policy on the machine that ran it, recorded
        assert "policy" in sweep.runs.columns
        assert sweep.runs["policy"].nunique() == 1
    else:
        assert sweep.policy == "float32"


def test_flip_accuracies_count_the_footwear_classes_only():
    from helpers import data

    class Constant:
        """A stand-in model that always predicts 'Sandal'."""

        def predict_on_batch(self, x):
            out = np.zeros((len(x), 10), dtype=np.float32)
            out[:, data.CLASS_NAMES.index("Sandal")] = 1.0
            return out

    y = np.array([data.CLASS_NAMES.index(c) for c in ("Sandal", "Sneaker", "Shirt", "Ankle boot")])
    x = np.zeros((4, 28, 28, 1), dtype=np.float32)
    got = sweeps._flip_accuracies(Constant(), x, y)
    assert got["val_footwear_accuracy"] == got["val_flipped_footwear_accuracy"] == 1 / 3
    assert got["val_flipped_accuracy"] == 1 / 4


def test_run_refuses_bad_arguments():
    with pytest.raises(ValueError, match="name is 'poolin'"):
        sweeps.run("poolin")
    with pytest.raises(ValueError, match="at least two different seeds"):
        sweeps.run("pooling", seeds=(3, 3))
    with pytest.raises(FileNotFoundError, match="make sweep"):
        sweeps.load("pooling", folder=ROOT / "no-such-folder")


# --------------------------------------------------------------------------- statistics


def _sweep(values: dict[str, list[float]]) -> sweeps.Sweep:
    runs, curves = [], []
    for variant, accuracies in values.items():
        for seed, accuracy in enumerate(accuracies):
            runs.append(
                {
                    "variant": variant,
                    "seed": seed,
                    "fingerprint": "0" * 12,
                    "parameters": 10,
                    "train_size": 100,
                    "test_size": 50,
                    "epochs": 2,
                    "batch_size": 10,
                    "epochs_trained": 2,
                    "train_accuracy": accuracy + 0.05,
                    "val_accuracy": accuracy,
                }
            )
            for epoch in (1, 2):
                curves.append(
                    {
                        "variant": variant,
                        "seed": seed,
                        "epoch": epoch,
                        "loss": 1.0 / epoch,
                        "accuracy": accuracy,
                        "val_loss": 1.1 / epoch,
                        "val_accuracy": accuracy - 0.1 * (2 - epoch),
                    }
                )
    return sweeps.Sweep("test", pd.DataFrame(runs), pd.DataFrame(curves))


def test_summary_and_describe():
    sweep = _sweep({"a": [0.90, 0.91, 0.92], "b": [0.80, 0.85, 0.90]})
    table = sweep.summary()
    assert list(table.index) == ["a", "b"]
    assert table.loc["a", "mean"] == pytest.approx(0.91)
    assert table.loc["a", "std"] == pytest.approx(0.01)
    assert (table.loc["b", "lowest"], table.loc["b", "highest"]) == (0.8, 0.9)
    assert table["seeds"].tolist() == [3, 3]
    assert sweep.describe("a") == "91.0% (90.0–92.0% over 3 seeds)"
    assert sweep.summary("gap")["mean"].tolist() == pytest.approx([0.05, 0.05])


@pytest.mark.parametrize(
    "a, b, verdict",
    [
        ([0.90, 0.91, 0.92], [0.80, 0.85, 0.89], "higher"),
        ([0.80, 0.85, 0.89], [0.90, 0.91, 0.92], "lower"),
        # a beats b for every seed, but the ranges overlap: not stated as a difference
        ([0.90, 0.91, 0.92], [0.895, 0.905, 0.915], "no clear difference"),
    ],
)
def test_compare_states_a_difference_only_beyond_the_spread(a, b, verdict):
    result = _sweep({"a": a, "b": b}).compare("a", "b")
    assert result["verdict"] == verdict
    assert result["mean difference"] == pytest.approx(np.mean(a) - np.mean(b))
    assert result["lowest difference"] <= result["mean difference"] <= result["highest difference"]


def test_band_per_epoch():
    band = _sweep({"a": [0.9, 0.8], "b": [0.5, 0.7]}).band("val_accuracy")
    assert list(band.index) == [1, 2]
    assert band[("a", "lowest")].tolist() == pytest.approx([0.7, 0.8])
    assert band[("b", "highest")].tolist() == pytest.approx([0.6, 0.7])
    assert band[("a", "mean")].tolist() == pytest.approx([0.75, 0.85])


def test_reading_errors_name_what_exists():
    sweep = _sweep({"a": [0.9, 0.8]})
    with pytest.raises(ValueError, match=r"variant is 'z'; this sweep ran \['a'\]"):
        sweep.values("z")
    with pytest.raises(ValueError, match="metric is 'test_accuracy'; this sweep recorded"):
        sweep.summary("test_accuracy")
    with pytest.raises(ValueError, match="metric is 'f1'"):
        sweep.band("f1")


def test_plots_of_a_sweep():
    sweep = _sweep({"a": [0.9, 0.8, 0.85], "b": [0.5, 0.7, 0.6]})
    fig = viz.plot_seed_band(sweep, live={"a": [0.8, 0.9]}, title="band")
    assert fig.axes[0].get_title() == "band"
    assert len(fig.axes[0].collections) == 2  # one shaded band per variant
    plt.close(fig)
    fig = viz.plot_seed_spread(sweep, live={"b": 0.65})
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a", "b"]
    plt.close(fig)
    with pytest.raises(ValueError, match="not among the variants shown"):
        viz.plot_seed_band(sweep, variants=["a"], live={"b": [0.1]})
    with pytest.raises(ValueError, match="expected a helpers.sweeps.Sweep"):
        viz.plot_seed_spread(pd.DataFrame())


# --------------------------------------------------------------------------- model options


def test_weight_decay_and_momentum_options():
    baseline = models.cnn()
    assert models.architecture(models.cnn(weight_decay=0.0)) == models.architecture(baseline)
    decayed = models.cnn(weight_decay=1e-3)
    assert len(decayed.losses) == 4  # one L2 penalty per kernel: 2 convolutions, 2 dense layers
    assert models.fingerprint(decayed) != models.fingerprint(baseline)
    bn = models.cnn(batch_norm=True, batch_norm_momentum=0.9)
    assert bn.get_layer("bn1").momentum == pytest.approx(0.9)
    assert models.cnn(batch_norm=True).get_layer("bn1").momentum == pytest.approx(0.99)
    with pytest.raises(ValueError, match="weight_decay is -1"):
        models.cnn(weight_decay=-1)
    with pytest.raises(ValueError, match="batch_norm_momentum is 1"):
        models.cnn(batch_norm=True, batch_norm_momentum=1)


def test_fingerprint():
    assert models.fingerprint(models.cnn()) == models.fingerprint(models.baseline_cnn())
    assert models.fingerprint(models.cnn()) != models.fingerprint(models.cnn(learning_rate=1e-2))
    assert len(models.fingerprint(models.cnn())) == 12
    with pytest.raises(ValueError, match="not compiled"):
        models.fingerprint(models.cnn(compile=False))


@pytest.mark.parametrize(
    "flags", [frozenset(), frozenset({"avx512_bf16"})], ids=["no bfloat16", "avx512_bf16"]
)
def test_teaching_sweeps_train_in_float32_on_any_processor(flags, fashion_mnist, monkeypatch):
    """Only the capstone's ablation trains in the faster path's precision: on a processor
    with bfloat16 and on one without, the pooling and augmentation experiments build
    float32 models, which their shipped sweeps (recorded in float32) describe."""
    from helpers import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda cpuinfo=None: flags)
    monkeypatch.setattr(precision, "_gpu_capabilities", lambda: [])
    faster = [name for name, build in _BOOK.items() if build().faster]
    assert faster == ["capstone_ablation"]
    for name in ("pooling", "augmentation"):
        sweep = sweeps.load(name)
        assert sweep.policy == "float32", f"the shipped {name} sweep trained in {sweep.policy}"
        assert sweep.differences(_BOOK[name]().variants, **sweep.settings) == []
    one = dataclasses.replace(
        _tiny("pooling"), variants={"max": _BOOK["pooling"]().variants["max"]}, shifts=1
    )
    runs, _ = sweeps.run_one(one, seed=0, verbose=0)
    assert runs[0]["policy"] == "float32"


# --------------------------------------------------------------------------- one definition


@pytest.mark.parametrize(
    "name, old",
    [
        ("pooling", "_pooling_variants"),
        ("dropout", "_dropout_variants"),
        ("batch_norm", "_batch_norm_variants"),
        ("augmentation", "_augmentation_variants"),
    ],
)
def test_the_notebooks_variants_cell_builds_the_helpers_models(name, old):
    """Before the helpers' second copy of a sweep's variants goes: the notebook's cell
    tagged ``sweep-variants`` builds, variant by variant, the very models the helpers'
    copy built (architecture, layer settings, optimizer and compile settings), so the
    shipped results measured the notebook's variants."""
    import keras

    from tools import sweep as sweep_tool

    notebook = sweeps.EXPERIMENTS[name]().notebook
    new = sweep_tool.notebook_variants(notebook)
    before = getattr(sweeps, old)()
    assert list(new) == list(before)

    def described(build):
        keras.utils.clear_session()  # the same automatic layer names for both builds
        model = build()
        return {
            "model": model.get_config(),
            "optimizer": model.optimizer.get_config(),
            "compile": model.get_compile_config(),
            "policy": model.dtype_policy.name,
            "fingerprint": models.fingerprint(model),
        }

    for variant in new:
        assert described(new[variant]) == described(before[variant]), variant
