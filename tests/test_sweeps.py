"""helpers.sweeps and tools/sweep.py: the seed sweeps shipped with the helpers, and the
code that makes them.

The shipped files are checked against the notebooks they describe (same variants, read
from the notebooks' cells tagged ``sweep-variants``, same models, same settings); the
runner is checked on tiny experiments, for determinism and for the files it writes; a
sweep split into partial results (replayed from the shipped files, no training) merges
back into the very bytes one run writes; the statistics on hand-made tables.
"""

from __future__ import annotations

import dataclasses
import filecmp
import json
import subprocess

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import papermill  # noqa: E402
import pytest  # noqa: E402

from conftest import ROOT  # noqa: E402
from helpers import models, sweeps, viz  # noqa: E402
from tools import sweep as sweep_tool  # noqa: E402

NAMES = list(sweeps.EXPERIMENTS)
_BOOK = dict(sweeps.EXPERIMENTS)  # the experiments as shipped, before any test replaces one


def _book(name: str) -> sweeps.Experiment:
    """The experiment as the sweep runs it: with the notebook's variants where it has them."""
    found = _BOOK[name]()
    if found.variants is not None:
        return found
    return dataclasses.replace(found, variants=sweep_tool.notebook_variants(found.notebook))


# --------------------------------------------------------------------------- shipped files


@pytest.mark.parametrize("name", NAMES)
def test_shipped_sweep_covers_every_seed_variant_and_epoch(name):
    sweep = sweeps.load(name)
    experiment = _book(name)
    assert sweep.seeds == list(experiment.seeds) and len(sweep.seeds) >= 2
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
    if "VAL_SIZE" in defaults:  # every sweep judges on the whole validation split
        whole = 6_000  # data.course_splits holds out 10% of the 60,000 training images
        assert int(defaults["VAL_SIZE"]) == whole, f"{experiment.notebook}: VAL_SIZE is not all"
    assert {k: settings[k] for k in expected} == expected, (
        f"{experiment.notebook}'s defaults differ from the shipped sweep {name!r}; "
        "run `make sweep` again"
    )


@pytest.mark.parametrize("name", NAMES)
def test_shipped_sweep_measured_todays_models(name):
    """The recorded fingerprints are those of the models the variants build now."""
    import keras

    sweep = sweeps.load(name)
    experiment = _book(name)
    before = keras.config.dtype_policy().name
    keras.config.set_dtype_policy(sweep.policy)  # the precision the sweep recorded
    try:
        sweep.check_matches(experiment.variants, **sweep.settings)
    finally:
        keras.config.set_dtype_policy(before)


def test_check_matches_refuses_a_changed_variant_or_setting():
    sweep = sweeps.load("pooling")
    variants = dict(_book("pooling").variants)
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
    variants = dict(_book("pooling").variants)
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


def _tiny(name: str) -> sweeps.Experiment:
    return dataclasses.replace(
        _book(name), train_size=300, test_size=200, epochs=2, batch_size=64, val_size=500
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
        _tiny("pooling"), variants={"max": _book("pooling").variants["max"]}
    )
    runs, _ = sweeps.run_one(pooling, seed=0, verbose=0)
    assert [c for c in runs[0] if c.startswith("val_accuracy_shift")] == [
        f"val_accuracy_shift_{k}" for k in range(1, 5)
    ]
    dropout = _tiny("dropout")
    dropout = dataclasses.replace(
        dropout,
        epochs=5,
        variants={"early stopping": dropout.variants["early stopping"]},
    )
    runs, curves = sweeps.run_one(dropout, seed=0, verbose=0)
    assert runs[0]["epochs_trained"] == len(curves) <= 5
    assert "test_accuracy" not in runs[0]  # variants are compared on validation only


def test_run_one_records_flipped_and_footwear_accuracy(fashion_mnist):
    augmentation = dataclasses.replace(
        _tiny("augmentation"),
        variants={"flips": _book("augmentation").variants["flips"]},
        shifts=1,  # what is recorded, not how far: one shift of the validation images
    )
    runs, _ = sweeps.run_one(augmentation, seed=0, verbose=0)
    row = runs[0]
    for column in (
        "val_flipped_accuracy",
        "val_footwear_accuracy",
        "val_flipped_footwear_accuracy",
    ):
        assert 0.0 <= row[column] <= 1.0, (column, row[column])
    assert "val_accuracy_shift_1" in row  # the augmentation experiment records shifts too


def test_run_one_builds_the_faster_paths_policy_and_stops_half_the_epochs(
    fashion_mnist, monkeypatch
):
    import keras

    from helpers import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda cpuinfo=None: frozenset({"avx512_bf16"}))
    monkeypatch.setattr(precision, "_gpu_capabilities", lambda: [])
    # A 4-epoch recipe: "half the epochs" stops after 2 (its schedule and its callback
    # read the recipe), which is what this test is about, in a fraction of the time.
    monkeypatch.setitem(sweeps.CAPSTONE_RECIPE, "epochs", 4)
    ablation = sweeps.EXPERIMENTS["capstone_ablation"]()
    half = "half the epochs"
    tiny = dataclasses.replace(
        ablation,
        variants={half: ablation.variants[half]},
        train_size=300,
        test_size=200,
        epochs=sweeps.CAPSTONE_RECIPE["epochs"],
        batch_size=64,
        val_size=500,
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
        sweeps.run("baseline", seeds=(3, 3))
    with pytest.raises(ValueError, match="at least two different seeds, each once"):
        sweeps.run("baseline", seeds=(3, 4, 3))
    # The helpers, installed without the notebooks, say where the variants are.
    with pytest.raises(ValueError, match=r"notebooks/05_pooling.ipynb, in its cell tagged"):
        sweeps.run("pooling", seeds=(0, 1))
    with pytest.raises(ValueError, match=r"expected some of \[0, 1\]"):
        sweeps.check_partial_seeds("capstone_ablation", [1, 2])
    with pytest.raises(ValueError, match="each once"):
        sweeps.check_partial_seeds("pooling", [1, 1])
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
        # a beats b by half a point in every seed: clear, though the ranges overlap
        ([0.90, 0.91, 0.92], [0.895, 0.905, 0.915], "higher"),
        ([0.895, 0.905, 0.915], [0.90, 0.91, 0.92], "lower"),
        # ahead in every seed, but too unevenly for three seeds (the interval reaches zero)
        ([0.90, 0.91, 0.92], [0.80, 0.85, 0.89], "no clear difference"),
        # steady but a tenth of a point: too small to state
        ([0.90, 0.91, 0.92], [0.899, 0.909, 0.919], "no clear difference"),
        # two seeds are never enough
        ([0.95, 0.96], [0.90, 0.91], "no clear difference"),
    ],
)
def test_compare_uses_the_paired_rule(a, b, verdict):
    result = _sweep({"a": a, "b": b}).compare("a", "b")
    assert result["verdict"] == verdict
    assert result["mean difference"] == pytest.approx(np.mean(a) - np.mean(b))
    assert result["lowest difference"] <= result["mean difference"] <= result["highest difference"]
    assert result["seeds"] == len(a)


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
        assert sweep.differences(_book(name).variants, **sweep.settings) == []
    if "avx512_bf16" in flags:  # where the faster path would choose bfloat16
        one = dataclasses.replace(
            _tiny("pooling"), variants={"max": _book("pooling").variants["max"]}, shifts=1
        )
        runs, _ = sweeps.run_one(one, seed=0, verbose=0)
        assert runs[0]["policy"] == "float32"


# --------------------------------------------------------------------------- one definition


@pytest.mark.parametrize("name", NAMES)
def test_each_experiments_variants_are_defined_once(name):
    """Either the notebook's cell tagged ``sweep-variants`` defines them (05-08, where the
    notebook teaches them) or the helpers do (03's one baseline, 10's ablation), never both."""
    experiment = sweeps.EXPERIMENTS[name]()
    nb = nbformat.read(ROOT / "notebooks" / f"{experiment.notebook}.ipynb", as_version=4)
    tagged = [c for c in nb.cells if sweeps.VARIANTS_TAG in c.metadata.get("tags", [])]
    if experiment.variants is None:
        assert len(tagged) == 1 and "VARIANTS" in tagged[0].source, experiment.notebook
    else:
        assert tagged == [], f"{experiment.notebook} and helpers.sweeps both define {name!r}"
    assert (experiment.variants is None) == (name not in ("baseline", "capstone_ablation"))


@pytest.mark.parametrize("name", NAMES)
def test_the_notebooks_variants_are_the_shipped_sweeps(name):
    """The variant names of the notebook's cell (or the helpers', for notebooks 03 and 10) are those
    of the shipped sweep, in order; a renamed, added or removed variant fails here (and
    test_shipped_sweep_measured_todays_models checks each model's fingerprint)."""
    defined, shipped = list(_book(name).variants), sweeps.load(name).variants
    assert defined == shipped, (
        f"{_book(name).notebook} defines the variants {defined}; the shipped sweep {name!r} "
        f"ran {shipped}: run `make sweep SWEEP={name}` again or restore the variants"
    )


def _notebook(tmp_path, variants_cell: str, parameters: str = "RATE = 0.01\n", tag=True):
    nb = nbformat.v4.new_notebook()
    imports = nbformat.v4.new_code_cell("import math\nfrom helpers import models, training")
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    cell = nbformat.v4.new_code_cell(variants_cell)
    if tag:
        cell.metadata["tags"] = [sweeps.VARIANTS_TAG]
    magic = nbformat.v4.new_code_cell("%matplotlib inline")  # not Python: skipped
    nb.cells = [magic, imports, params, nbformat.v4.new_markdown_cell("text"), cell]
    path = tmp_path / "99_test.ipynb"
    nbformat.write(nb, path)
    return path


def test_notebook_variants_runs_only_the_statements_that_build_them(tmp_path):
    """The training that follows VARIANTS in the same cell (here: statements that would
    fail) does not run; a value the variants read is computed first; the parameters are
    the notebook's defaults, the imports its own."""
    cell = (
        "data = 1 / 0  # stands for loading the data\n"
        "RATES = [RATE, 10 * RATE]\n"
        "VARIANTS = {}\n"
        "for lr in RATES:\n"
        '    VARIANTS[f"lr {lr:g}"] = lambda lr=lr: (models.__name__, lr, math.pi)\n'
        'VARIANTS["last"] = lambda: None\n'
        "result = training.train(VARIANTS, data)  # stands for the training\n"
    )
    variants = sweep_tool.notebook_variants(_notebook(tmp_path, cell))
    assert list(variants) == ["lr 0.01", "lr 0.1", "last"]
    assert variants["lr 0.1"]() == ("helpers.models", 0.1, pytest.approx(3.14159, abs=1e-5))


@pytest.mark.parametrize(
    "cell, tag, message",
    [
        ("VARIANTS = {'a': lambda: 1}", False, "has 0 cell.s. tagged 'sweep-variants'"),
        ("variants = {'a': lambda: 1}", True, "no statement assigns VARIANTS"),
        ("VARIANTS = {'a': lambda: UNITS}\nx = UNITS", True, "uses \\['UNITS'\\]"),
        ("VARIANTS = {'a': 1}", True, "VARIANTS is \\{'a': 1\\}; expected a non-empty dict"),
        ("VARIANTS = {", True, "not valid Python"),
    ],
)
def test_notebook_variants_say_what_is_wrong(tmp_path, cell, tag, message):
    with pytest.raises(ValueError, match=message):
        sweep_tool.notebook_variants(_notebook(tmp_path, cell, tag=tag))


# --------------------------------------------------------------------------- partial runs


def _shipped_rows(name: str):
    """The shipped rows of ``name``, as :func:`sweeps.run_one` returned them."""
    runs_path, curves_path = sweeps._paths(name)
    text = {"variant": str, "fingerprint": str, "policy": str}
    return pd.read_csv(runs_path, dtype=text), pd.read_csv(curves_path, dtype={"variant": str})


@pytest.fixture
def replay(monkeypatch):
    """``run_one`` replays the shipped rows of the seed instead of training."""

    def fake(experiment, seed, verbose=1):
        names = {e().notebook: n for n, e in _BOOK.items()}
        runs, curves = _shipped_rows(names[experiment.notebook])
        return (
            runs[runs["seed"] == seed].to_dict("records"),
            curves[curves["seed"] == seed].to_dict("records"),
        )

    monkeypatch.setattr(sweeps, "run_one", fake)


SPLITS = {5: [[1, 0], [2], [4, 3]], 2: [[1], [0]]}  # a partial may run its seeds in any order


@pytest.mark.parametrize("name", NAMES)
def test_partial_runs_merge_into_the_bytes_of_one_run(name, tmp_path, replay):
    """One run over every seed writes the shipped files byte for byte (the replay is
    faithful); the same seeds run as partial results, in another order, merge into
    those very bytes: the same rows, order, columns and float formatting."""
    variants = _book(name).variants
    whole = tmp_path / "whole"
    sweeps.run(name, folder=whole, verbose=0, variants=variants)
    parts = []
    for seeds in SPLITS[len(_BOOK[name]().seeds)]:
        folder = tmp_path / "-".join(map(str, seeds))
        sweeps.run_partial(name, seeds, folder, verbose=0, variants=variants)
        parts.append(folder)
    merged = sweeps.merge(name, parts[::-1], folder=tmp_path / "merged")
    for shipped, one, joined in zip(
        sweeps._paths(name),
        sweeps._paths(name, whole),
        sweeps._paths(name, tmp_path / "merged"),
        strict=True,
    ):
        assert one.read_bytes() == shipped.read_bytes(), one.name
        assert joined.read_bytes() == one.read_bytes(), joined.name
    assert merged.seeds == list(_BOOK[name]().seeds)


def _parts(tmp_path, name="pooling", splits=((0, 1), (2,), (3, 4))):
    folders = []
    for seeds in splits:
        folder = tmp_path / name / ("seeds-" + "-".join(map(str, seeds)))
        sweeps.run_partial(name, seeds, folder, verbose=0, variants=_book(name).variants)
        folders.append(folder)
    return folders


def _edit_record(folder, name="pooling", **changes):
    path = folder / f"sweep_{name}_partial.json"
    record = json.loads(path.read_text())
    for key, value in changes.items():
        record[key] = record[key] | value if isinstance(value, dict) else value
    path.write_text(json.dumps(record))


def test_a_partial_records_its_seeds_settings_policy_and_versions(tmp_path, replay):
    (folder,) = _parts(tmp_path, splits=((3, 1),))
    record = json.loads((folder / "sweep_pooling_partial.json").read_text())
    assert record["experiment"] == "pooling" and record["seeds"] == [3, 1]
    assert record["settings"] == sweeps.load("pooling").settings
    assert record["policy"] == "float32"
    assert set(record["versions"]) == {"Python", "TensorFlow", "Keras", "NumPy"}
    assert sweeps.load("pooling", folder).seeds == [1, 3]


def test_merge_refuses_overlapping_missing_or_foreign_partials(tmp_path, replay):
    a, b, c = _parts(tmp_path)
    out = tmp_path / "out"
    (overlap,) = _parts(tmp_path / "again", splits=((2, 3),))
    with pytest.raises(ValueError, match=r"they overlap \(seed 2 in .*seeds-2, .*seeds-2-3"):
        sweeps.merge("pooling", [a, b, c, overlap], out)
    with pytest.raises(ValueError, match=r"SEEDS=3,4` and add that folder"):
        sweeps.merge("pooling", [a, b], out)
    (dropout,) = _parts(tmp_path, "dropout", splits=((0,),))
    with pytest.raises(ValueError, match="holds a partial result of 'dropout', not of 'pooling'"):
        sweeps.merge("pooling", [a, b, dropout], out)
    with pytest.raises(ValueError, match="a file of the experiment 'dropout'"):
        sweeps.merge("pooling", [a, b, dropout / "sweep_dropout_runs.csv"], out)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sweeps.merge("pooling", [a, b, tmp_path / "nowhere"], out)
    assert not out.exists()  # nothing written by a refused merge
    # a file of a partial stands for its folder
    sweeps.merge("pooling", [a / "sweep_pooling_runs.csv", b, c], out)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"settings": {"epochs": 4}}, r"ran with \{.*'epochs': 4.*the experiment's settings"),
        ({"policy": "mixed_bfloat16"}, "they differ in dtype policy"),
        ({"versions": {"TensorFlow": "0.1"}}, r"they differ in versions .*'TensorFlow': '0.1'"),
        ({"experiment": "dropout"}, "records the experiment 'dropout', not 'pooling'"),
    ],
)
def test_merge_refuses_partials_run_otherwise(tmp_path, replay, change, message):
    a, b, c = _parts(tmp_path)
    _edit_record(b, **change)
    with pytest.raises(ValueError, match=message):
        sweeps.merge("pooling", [a, b, c], tmp_path / "out")


def test_merge_refuses_other_models_and_unfinished_or_unrecorded_partials(tmp_path, replay):
    a, b, c = _parts(tmp_path)
    runs = b / "sweep_pooling_runs.csv"
    original = runs.read_text()
    runs.write_text(original.replace("376684af6ff6", "000000000000"))
    with pytest.raises(ValueError, match=r"differ in variants or models .*'max': '000000000000'"):
        sweeps.merge("pooling", [a, b, c], tmp_path / "out")
    runs.write_text(original)
    _edit_record(c, seeds=[3, 4, 0])  # started for three seeds, stopped after two
    with pytest.raises(ValueError, match=r"seeds \[3, 4\], of the \[3, 4, 0\] it was started"):
        sweeps.merge("pooling", [a, b, c], tmp_path / "out")
    (c / "sweep_pooling_partial.json").unlink()
    with pytest.raises(ValueError, match="no sweep_pooling_partial.json: not a partial"):
        sweeps.merge("pooling", [a, b, c], tmp_path / "out")


# --------------------------------------------------------------------------- command line


def test_command_line_runs_seeds_into_partials_and_merges_them(
    tmp_path, replay, monkeypatch, capsys
):
    monkeypatch.setattr(sweep_tool, "PARTIALS", tmp_path / "sweeps")
    assert sweep_tool.main(["capstone_ablation", "--seeds", "1"]) == 0
    assert sweep_tool.main(["capstone_ablation", "--seeds", "0"]) == 0
    folder = tmp_path / "sweeps" / "capstone_ablation" / "seeds-1"
    assert f"A partial result (seeds [1]) is in {folder}" in capsys.readouterr().out
    out = tmp_path / "merged"
    assert sweep_tool.main(["merge", "capstone_ablation", "--out", str(out)]) == 0
    assert "merged 2 partial result(s), seeds [0, 1]" in capsys.readouterr().out
    shipped = sweeps._paths("capstone_ablation")
    for made, expected in zip(sweeps._paths("capstone_ablation", out), shipped, strict=True):
        assert made.read_bytes() == expected.read_bytes()
    # a merge that misses a seed says so and fails
    assert sweep_tool.main(["merge", "capstone_ablation", str(folder), "--out", str(out)]) == 2
    assert "SEEDS=0` and add that folder" in capsys.readouterr().err


def test_command_line_checks_every_seed_before_training(capsys, monkeypatch):
    monkeypatch.setattr(sweeps, "run_partial", lambda *a, **k: pytest.fail("trained"))
    # the first experiment without seeds 3 and 4 (capstone_ablation has 0 and 1 only)
    short = next(name for name, build in _BOOK.items() if 4 not in build().seeds)
    with pytest.raises(SystemExit):
        sweep_tool.main(["--seeds", "3,4"])
    assert f"the seeds [3, 4] are not some of the seeds of {short!r}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        sweep_tool.main(["pooling", "--seeds", "one"])
    assert "expected whole numbers from 0 separated by commas" in capsys.readouterr().err


def test_make_passes_seeds_and_merges():
    def dry(*args):
        done = subprocess.run(
            ["make", "-n", "--no-print-directory", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        # the recipe's line (under `make test` a sub-make also prints where it is)
        line = next(ln for ln in done.stdout.splitlines() if "tools.sweep" in ln)
        words = line.split()
        return words[words.index("tools.sweep") + 1 :]

    assert dry("sweep", "SWEEP=pooling", "SEEDS=0,1") == ["pooling", "--seeds", "0,1"]
    assert dry("sweep", "SWEEP=pooling") == ["pooling"]
    assert dry("sweep-merge", "SWEEP=pooling") == ["merge", "pooling"]
