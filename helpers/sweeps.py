"""Seed sweeps: each controlled experiment of the course, repeated over several seeds.

Introduced in notebook 03. One training run is one sample: another seed draws other
initial weights, another validation split and another order of batches, and moves
every accuracy by a few tenths of a point. Before a notebook says that one variant
beats another, the difference must be larger than that seed-to-seed spread. The
course therefore ran each of its experiments (notebooks 03 and 05-08, and the
ablation of notebook 10's recipe) with the book's settings for several seeds
(``make sweep``, about two and a half hours on 2 CPU cores) and ships the results with the
helpers, as it ships notebook 10's recipe search.

:data:`EXPERIMENTS` defines what was run: each experiment's settings, and the variants
where the notebook does not write them itself (notebooks 05 to 08 define theirs in the
cell tagged :data:`VARIANTS_TAG`, which ``python -m tools.sweep`` reads from the
repository). :func:`load` reads the shipped results as a :class:`Sweep`, whose methods
summarise them (:meth:`Sweep.summary`), compare two variants seed by seed
(:meth:`Sweep.compare`) and hold the bands the notebooks plot (:meth:`Sweep.band`, drawn
by :func:`helpers.viz.plot_seed_band`). :func:`run` writes a whole sweep;
:func:`run_partial` some of its seeds, on one machine, and :func:`merge` the parts into
the files :func:`run` would have written.
"""

from __future__ import annotations

import json
import math
import platform
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from helpers import checks, comparisons, data, environment, experiments, models, precision, training

__all__ = [
    "CURVE_COLUMNS",
    "EXPERIMENTS",
    "FOOTWEAR",
    "RUN_COLUMNS",
    "SEEDS",
    "VARIANTS_TAG",
    "Experiment",
    "Sweep",
    "check_partial_seeds",
    "early_stopping",
    "load",
    "merge",
    "run",
    "run_partial",
]

#: The seeds every sweep runs. Seed 0 is the notebooks' own ``SEED``, so a notebook's
#: live run under the book's settings repeats the sweep's first run.
SEEDS = (0, 1, 2, 3, 4)

#: The tag of the notebook cell that defines an experiment's ``VARIANTS``, where the
#: notebook teaches them (``python -m tools.sweep`` reads the variants from that cell).
VARIANTS_TAG = "sweep-variants"

#: Columns of a sweep's table of runs: one row per seed and variant.
RUN_COLUMNS = (
    "variant",
    "seed",
    "fingerprint",
    "parameters",
    "train_size",
    "test_size",
    "epochs",
    "batch_size",
    "epochs_trained",
    "train_accuracy",
    "val_accuracy",
)
#: Columns of a sweep's learning curves: one row per seed, variant and epoch.
CURVE_COLUMNS = ("variant", "seed", "epoch", "loss", "accuracy", "val_loss", "val_accuracy")


@dataclass(frozen=True)
class Experiment:
    """One controlled experiment of the course, as the sweep runs it.

    ``variants`` maps a name to a function that builds and compiles a fresh model; it is
    ``None`` where the notebook teaches the variants: its cell tagged
    :data:`VARIANTS_TAG` defines ``VARIANTS``, and ``python -m tools.sweep`` reads them
    from there (one definition, which the student reads and can edit), so that the
    helpers, installed without the notebooks, hold no second copy. ``callbacks`` maps
    some names to a function that returns fresh Keras callbacks for that run.
    ``train_size``, ``test_size``, ``epochs`` and ``batch_size`` are the notebook's own
    parameters (a test checks that they are its defaults). ``test`` says whether the test accuracy of every run is
    recorded: only where nothing is chosen (the baseline of notebook 03), since the
    variants of 05-07 are compared on the validation set. ``shifts`` records the
    validation accuracy on images shifted by 1..``shifts`` pixels (notebook 05).
    ``flips`` records the validation accuracy on images mirrored left to right, and
    that of the footwear classes (:data:`FOOTWEAR`) as they are and mirrored (notebook
    08). ``seeds`` are the seeds the sweep runs; ``tied`` names the settings that are the
    notebook's own parameter defaults (notebook 10 trains its final model on all
    60,000 images, but its ablation, like its search, on the 54,000 of the split).
    ``val_size`` judges on that many validation images (the course's tests, which run
    tiny sweeps); ``None``, the book's sweeps, on the whole validation split.
    ``faster`` builds the models with the Keras dtype policy of the course's faster path
    on the machine that runs the sweep (:func:`helpers.precision.choose`:
    ``mixed_bfloat16`` where the processor computes in bfloat16, ``float32`` elsewhere),
    as notebook 10 does (:func:`helpers.precision.scope`); otherwise they are built in
    ``float32``, as the teaching experiments of notebooks 03 to 08 are on every machine.
    Each run records its ``policy``, and :meth:`Sweep.differences` refuses a run in
    another one.
    """

    notebook: str
    train_size: int
    epochs: int
    batch_size: int
    variants: Mapping[str, Callable] | None = None
    test_size: int = 10_000
    callbacks: Mapping[str, Callable[[], list]] = field(default_factory=dict)
    test: bool = False
    shifts: int = 0
    flips: bool = False
    seeds: tuple[int, ...] = SEEDS
    tied: tuple[str, ...] = ("train_size", "epochs", "batch_size")
    faster: bool = False
    val_size: int | None = None


def early_stopping() -> list:
    """The early stopping of notebook 06's sweep (introduced in notebook 06).

    Watch the validation loss, stop after 3 epochs without improvement, keep the best
    epoch's weights. Notebook 06 writes the same callback and checks that they agree.
    """
    return [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    ]


#: Notebook 10's recipe, as its ablation trains it: the 54,000 training images of the
#: course's split (the validation images judge it), batches of 256, 18 epochs (the most
#: the notebook plans), and a cosine decay of the learning rate from 0.002 to zero over
#: all the steps, in the dtype policy of the course's faster path.
CAPSTONE_RECIPE = {"train_size": 54_000, "epochs": 18, "batch_size": 256, "learning_rate": 0.002}


def capstone_schedule(train_size: int, batch_size: int, epochs: int, learning_rate: float):
    """Notebook 10's cosine decay: from ``learning_rate`` to zero over every step."""
    steps = math.ceil(train_size / batch_size) * epochs
    return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)


def _ablation_variants():
    r = CAPSTONE_RECIPE

    def cosine(epochs=r["epochs"]):
        return capstone_schedule(r["train_size"], r["batch_size"], epochs, r["learning_rate"])

    return {
        "capstone": lambda: models.capstone_cnn(learning_rate=cosine()),
        "without batch norm": lambda: models.capstone_cnn(batch_norm=False, learning_rate=cosine()),
        "without dropout": lambda: models.capstone_cnn(
            conv_dropout=0.0, dense_dropout=0.0, learning_rate=cosine()
        ),
        "constant learning rate": lambda: models.capstone_cnn(learning_rate=r["learning_rate"]),
        "one conv per block": lambda: models.capstone_cnn(
            convs_per_block=1, learning_rate=cosine()
        ),
        # The cosine decays over half the epochs, and training stops there.
        "half the epochs": lambda: models.capstone_cnn(learning_rate=cosine(r["epochs"] // 2)),
    }


def _stop_after_half_the_epochs() -> list:
    """A callback that ends the ablation's "half the epochs" run after its last epoch."""

    class StopAfter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 >= CAPSTONE_RECIPE["epochs"] // 2:
                self.model.stop_training = True

    return [StopAfter()]


#: The classes whose photographs all face the same way (toe to the left).
FOOTWEAR = ("Sandal", "Sneaker", "Ankle boot")


def _flip_accuracies(model, x, y) -> dict[str, float]:
    """Validation accuracy on mirrored images, and of the footwear as it is and mirrored."""
    footwear = np.isin(y, [data.CLASS_NAMES.index(name) for name in FOOTWEAR])
    as_is = training.predict(model, x).argmax(axis=1) == y
    mirrored = training.predict(model, x[:, :, ::-1]).argmax(axis=1) == y
    return {
        "val_flipped_accuracy": float(mirrored.mean()),
        "val_footwear_accuracy": float(as_is[footwear].mean()),
        "val_flipped_footwear_accuracy": float(mirrored[footwear].mean()),
    }


def _baseline_variants():
    """Notebook 03's single model: the notebook writes its layers by hand, and
    :func:`helpers.models.baseline_cnn` is the helper that reuses them (the notebook
    checks that the two agree)."""

    return {"baseline": lambda: models.baseline_cnn()}


#: The course's controlled experiments, by name, with the book's settings. The variants
#: of notebooks 05 to 08 are the notebooks' own (their cells tagged :data:`VARIANTS_TAG`);
#: notebook 03's one model is the helpers' baseline, and notebook 10's ablation, which the
#: notebook describes and reads but does not train, is defined here only.
EXPERIMENTS: dict[str, Callable[[], Experiment]] = {
    "baseline": lambda: Experiment(
        "03_training", 54_000, 5, 32, variants=_baseline_variants(), test=True
    ),
    "pooling": lambda: Experiment("05_pooling", 54_000, 3, 128, shifts=4),
    "dropout": lambda: Experiment(
        "06_dropout", 5_000, 25, 32, callbacks={"early stopping": early_stopping}
    ),
    "batch_norm": lambda: Experiment("07_batch_normalization", 20_000, 5, 128),
    "augmentation": lambda: Experiment("08_augmentation", 54_000, 5, 128, shifts=4, flips=True),
    # Six runs of four to ten minutes per seed: two seeds, not five.
    "capstone_ablation": lambda: Experiment(
        "10_capstone",
        CAPSTONE_RECIPE["train_size"],
        CAPSTONE_RECIPE["epochs"],
        CAPSTONE_RECIPE["batch_size"],
        variants=_ablation_variants(),
        callbacks={"half the epochs": _stop_after_half_the_epochs},
        seeds=(0, 1),
        tied=("epochs", "batch_size"),
        faster=True,
    ),
}


def _results_dir() -> Path:
    return experiments.results_path("")


def _paths(name: str, folder: Path | None = None) -> tuple[Path, Path]:
    folder = _results_dir() if folder is None else Path(folder)
    return folder / f"sweep_{name}_runs.csv", folder / f"sweep_{name}_curves.csv"


# --------------------------------------------------------------------------- running


def run_one(experiment: Experiment, seed: int, verbose: int = 1):
    """Run every variant of ``experiment`` once, with ``seed``; returns (runs, curves) rows.

    Exactly what the experiment's notebook does with ``SEED = seed`` and its book
    settings: the same split (:func:`helpers.data.course_splits`), the same
    :func:`helpers.experiments.run_experiment`.
    """
    if experiment.variants is None:
        raise ValueError(
            f"the experiment of {experiment.notebook} has no variants; give them "
            "(dataclasses.replace(experiment, variants=...)) or use tools.sweep.experiment"
        )
    splits = data.course_splits(
        experiment.train_size, experiment.test_size, seed=seed, val_size=experiment.val_size
    )
    path = _path(experiment)
    policy = path.policy
    with precision.scope(path):
        result = experiments.run_experiment(
            experiment.variants,
            splits.train,
            splits.validation,
            epochs=experiment.epochs,
            batch_size=experiment.batch_size,
            seed=seed,
            verbose=verbose,
            callbacks=experiment.callbacks,
        )
    shifted = None
    if experiment.shifts:
        shifted = experiments.accuracy_vs_shift(
            result.models, *splits.validation, max_shift=experiment.shifts
        )
    runs, curves = [], []
    for name in result.variants:
        model, history = result.models[name], result.histories[name]
        row = {
            "variant": name,
            "seed": seed,
            "fingerprint": models.fingerprint(model),
            "parameters": int(model.count_params()),
            "train_size": experiment.train_size,
            "test_size": experiment.test_size,
            "epochs": experiment.epochs,
            "batch_size": experiment.batch_size,
            "policy": policy,
            "epochs_trained": len(history["loss"]),
            "train_accuracy": float(result.table.loc[name, "train accuracy"]),
            "val_accuracy": float(result.table.loc[name, "validation accuracy"]),
        }
        if experiment.test:
            row["test_accuracy"] = training.evaluate(model, *splits.test)["accuracy"]
        if shifted is not None:
            for shift in range(1, experiment.shifts + 1):
                row[f"val_accuracy_shift_{shift}"] = float(shifted.loc[shift, name])
        if experiment.flips:
            row |= _flip_accuracies(model, *splits.validation)
        runs.append(row)
        for epoch in range(len(history["loss"])):
            curves.append(
                {"variant": name, "seed": seed, "epoch": epoch + 1}
                | {m: history[m][epoch] for m in CURVE_COLUMNS[3:]}
            )
    return runs, curves


def _experiment(name: str, variants: Mapping[str, Callable] | None) -> Experiment:
    """The experiment ``name``, with ``variants`` where given; refused without variants."""
    checks.choice("name", name, list(EXPERIMENTS))
    experiment = EXPERIMENTS[name]()
    if variants is not None:
        experiment = replace(experiment, variants=dict(variants))
    if experiment.variants is None:
        raise ValueError(
            f"the variants of {name!r} are defined in notebooks/{experiment.notebook}.ipynb, "
            f"in its cell tagged {VARIANTS_TAG!r}, and were not given; run the sweep from "
            f"the repository with `make sweep SWEEP={name}` (python -m tools.sweep {name}), "
            "which reads them, or pass variants="
        )
    return experiment


def _settings(experiment: Experiment) -> dict[str, int]:
    keys = ("train_size", "test_size", "epochs", "batch_size")
    return {k: getattr(experiment, k) for k in keys}


def _path(experiment: Experiment):
    """The training path (dtype policy) the experiment's models are built in here."""
    return precision.choose() if experiment.faster else precision.REFERENCE


def _write(runs: pd.DataFrame, curves: pd.DataFrame, name: str, folder: Path) -> None:
    """The one writer of a sweep's two files (a whole run, a partial one, a merge)."""
    runs_path, curves_path = _paths(name, folder)
    runs.to_csv(runs_path, index=False, float_format="%.6f")
    curves.to_csv(curves_path, index=False, float_format="%.6f")


def _run_seeds(experiment: Experiment, name: str, seeds, folder: Path, verbose: int) -> None:
    runs, curves = [], []
    Path(folder).mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        if verbose:
            print(f"{name}, seed {seed}:", flush=True)
        r, c = run_one(experiment, seed, verbose=verbose)
        runs += r
        curves += c
        # Written after every seed, so that an interrupted sweep keeps what it measured.
        _write(pd.DataFrame(runs), pd.DataFrame(curves, columns=CURVE_COLUMNS), name, folder)


def run(
    name: str,
    seeds=None,
    folder: Path | None = None,
    verbose: int = 1,
    *,
    variants: Mapping[str, Callable] | None = None,
) -> Sweep:
    """Run the experiment ``name`` of :data:`EXPERIMENTS` for every seed and write its files.

    ``seeds`` defaults to the experiment's own (:data:`SEEDS` for most). ``variants``
    are the notebook's, where the experiment leaves them to its notebook (``python -m
    tools.sweep`` reads them). Writes ``sweep_<name>_runs.csv`` and
    ``sweep_<name>_curves.csv`` into ``folder`` (default: the helpers' shipped results)
    and returns the :class:`Sweep`. On the same machine, running it again writes the
    same files: every run is seeded, and nothing that depends on the clock is recorded.
    """
    experiment = _experiment(name, variants)
    seeds = experiment.seeds if seeds is None else seeds
    seeds = [checks.whole("seed", s, 0, example=0) for s in seeds]
    if len(set(seeds)) < 2 or len(set(seeds)) < len(seeds):
        raise ValueError(f"seeds is {seeds!r}; expected at least two different seeds, each once")
    folder = _results_dir() if folder is None else Path(folder)
    _run_seeds(experiment, name, seeds, folder, verbose)
    return load(name, folder)


# --------------------------------------------------------------------------- partial runs


def _partial_path(name: str, folder: Path) -> Path:
    return Path(folder) / f"sweep_{name}_partial.json"


def _versions() -> dict[str, str | None]:
    """The versions that can change a run's numbers: Python (major.minor), TensorFlow,
    Keras, NumPy."""
    found = environment.installed()
    return {
        "Python": ".".join(platform.python_version_tuple()[:2]),
        "TensorFlow": found["TensorFlow"],
        "Keras": found["Keras"],
        "NumPy": np.__version__,
    }


def check_partial_seeds(name: str, seeds) -> list[int]:
    """``seeds`` as a list, if they are some of the experiment's seeds, each once."""
    checks.choice("name", name, list(EXPERIMENTS))
    planned = list(EXPERIMENTS[name]().seeds)
    seeds = [checks.whole("seed", s, 0, example=0) for s in seeds]
    if not seeds or len(set(seeds)) < len(seeds) or not set(seeds) <= set(planned):
        raise ValueError(
            f"the seeds {seeds} are not some of the seeds of {name!r}, each once; expected "
            f"some of {planned} (e.g. SEEDS={','.join(map(str, planned[:2]))})"
        )
    return seeds


def run_partial(
    name: str,
    seeds,
    folder: Path,
    verbose: int = 1,
    *,
    variants: Mapping[str, Callable] | None = None,
) -> Sweep:
    """Run some of the seeds of experiment ``name`` into ``folder``: a partial result.

    Writes the two files :func:`run` writes, with those seeds' rows only, and
    ``sweep_<name>_partial.json``: the seeds asked for, the settings, the dtype policy
    and the versions of Python, TensorFlow, Keras and NumPy, which :func:`merge` checks.
    Several partial results, made on several machines, merge into the files one
    :func:`run` over every seed writes.
    """
    experiment = _experiment(name, variants)
    seeds = check_partial_seeds(name, seeds)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for path in _paths(name, folder):  # no rows of an earlier run in this folder
        path.unlink(missing_ok=True)
    record = {
        "experiment": name,
        "notebook": experiment.notebook,
        "seeds": seeds,
        "settings": _settings(experiment),
        "policy": _path(experiment).policy,
        "versions": _versions(),
    }
    _partial_path(name, folder).write_text(json.dumps(record, indent=2) + "\n")
    _run_seeds(experiment, name, seeds, folder, verbose)
    return load(name, folder)


_FILE = re.compile(r"sweep_(?P<name>.+)_(?:runs\.csv|curves\.csv|partial\.json)")


def _read_partial(name: str, given: Path) -> dict:
    """A partial result of ``name``: its record, and its two tables as text."""
    given = Path(given)
    if not given.exists():
        raise FileNotFoundError(
            f"{given} does not exist; expected a folder that `make sweep SWEEP={name} "
            "SEEDS=...` wrote, or a file in it"
        )
    folder = given if given.is_dir() else given.parent
    match = _FILE.fullmatch(given.name)
    if not given.is_dir() and match and match["name"] != name:
        raise ValueError(
            f"{given} is a file of the experiment {match['name']!r}, not of {name!r}; "
            f"merge it with the other partial results of {match['name']!r}"
        )
    record_path = _partial_path(name, folder)
    if not record_path.exists():
        others = sorted(
            m["name"] for p in folder.glob("sweep_*_partial.json") if (m := _FILE.fullmatch(p.name))
        )
        if others:
            raise ValueError(
                f"{folder} holds a partial result of {', '.join(map(repr, others))}, not of "
                f"{name!r}; merge it with the other partial results of that experiment"
            )
        if _paths(name, folder)[0].exists():
            raise ValueError(
                f"{folder} has sweep_{name}_runs.csv but no {record_path.name}: not a partial "
                f"result (a whole sweep, or files copied without it); run its seeds with "
                f"`make sweep SWEEP={name} SEEDS=...` and merge those folders"
            )
        raise FileNotFoundError(
            f"no partial result of {name!r} in {folder}: expected {record_path.name} and the "
            f"two CSV files that `make sweep SWEEP={name} SEEDS=...` writes"
        )
    record = json.loads(record_path.read_text())
    if record.get("experiment") != name:
        raise ValueError(
            f"{record_path} records the experiment {record.get('experiment')!r}, not {name!r}"
        )
    runs_path, curves_path = _paths(name, folder)
    seeds = [int(s) for s in record["seeds"]]
    again = f"run `make sweep SWEEP={name} SEEDS={','.join(map(str, seeds))}` again"
    if not runs_path.exists() or not curves_path.exists():
        raise ValueError(
            f"{folder} has no results yet (stopped before its first seed ended); {again}"
        )
    # As text: the merged files repeat every field exactly as it was written.
    runs = pd.read_csv(runs_path, dtype=str, keep_default_na=False)
    curves = pd.read_csv(curves_path, dtype=str, keep_default_na=False)
    for label, table in (("runs", runs), ("curves", curves)):
        found = sorted({int(s) for s in table["seed"]})
        if found != sorted(seeds):
            raise ValueError(
                f"the {label} in {folder} have the seeds {found}, of the {seeds} it was "
                f"started with (it was stopped, or its files were edited); {again}"
            )
    if tuple(curves.columns) != CURVE_COLUMNS:
        raise ValueError(
            f"the curves in {folder} have the columns {list(curves.columns)}; expected "
            f"{list(CURVE_COLUMNS)}; {again}"
        )
    return {"folder": folder, "record": record, "seeds": seeds, "runs": runs, "curves": curves}


def _differing(parts: list[dict], label: str, value: Callable[[dict], object]) -> str | None:
    values = [value(p) for p in parts]
    if all(v == values[0] for v in values):
        return None
    listed = "; ".join(f"{p['folder']}: {v}" for p, v in zip(parts, values, strict=True))
    return f"they differ in {label} ({listed})"


def merge(name: str, partials: Sequence[Path], folder: Path | None = None) -> Sweep:
    """Merge the partial results (:func:`run_partial`) of experiment ``name`` into ``folder``.

    ``partials`` are their folders (or files in them). Together they must hold every seed
    of the experiment, each once, run with the experiment's settings, in one dtype policy,
    with the same versions, variants and models (fingerprints). Writes
    ``sweep_<name>_runs.csv`` and ``sweep_<name>_curves.csv`` into ``folder`` (default:
    the helpers' shipped results), byte for byte what one :func:`run` over every seed
    writes: seeds in the experiment's order, each seed's rows as it ran them.
    """
    checks.choice("name", name, list(EXPERIMENTS))
    experiment = EXPERIMENTS[name]()
    if isinstance(partials, (str, Path)) or not partials:
        raise ValueError(
            f"partials is {partials!r}; expected a list of the folders that "
            f"`make sweep SWEEP={name} SEEDS=...` wrote"
        )
    parts = [_read_partial(name, p) for p in partials]
    problem = f"cannot merge the partial results of {name!r}"
    where: dict[int, list[Path]] = {}
    for part in parts:
        for seed in part["seeds"]:
            where.setdefault(seed, []).append(part["folder"])
    twice = {s: f for s, f in where.items() if len(f) > 1}
    if twice:
        listed = "; ".join(f"seed {s} in {', '.join(map(str, f))}" for s, f in twice.items())
        raise ValueError(f"{problem}: they overlap ({listed}); leave out one copy of each seed")
    planned = list(experiment.seeds)
    missing = [s for s in planned if s not in where]
    extra = sorted(s for s in where if s not in planned)
    if missing or extra:
        raise ValueError(
            f"{problem}: they hold the seeds {sorted(where)}, the experiment runs {planned}"
            + (
                f"; run the missing ones with `make sweep SWEEP={name} "
                f"SEEDS={','.join(map(str, missing))}` and add that folder"
                if missing
                else ""
            )
            + (f"; leave out the partial results of the seeds {extra}" if extra else "")
        )
    expected = _settings(experiment)
    for part in parts:
        if part["record"]["settings"] != expected:
            raise ValueError(
                f"{problem}: {part['folder']} ran with {part['record']['settings']}, the "
                f"experiment's settings are {expected}; run its seeds again"
            )
    for label, value in (
        ("dtype policy", lambda p: p["record"]["policy"]),
        ("versions", lambda p: p["record"]["versions"]),
        ("columns", lambda p: list(p["runs"].columns)),
        (
            "variants or models (variant: fingerprint)",
            lambda p: dict(p["runs"].drop_duplicates("variant")[["variant", "fingerprint"]].values),
        ),
    ):
        found = _differing(parts, label, value)
        if found:
            raise ValueError(
                f"{problem}: {found}; run them again in one environment, with one "
                "definition of the experiment, and merge those"
            )
    order = {seed: i for i, seed in enumerate(planned)}

    def combined(key: str) -> pd.DataFrame:
        table = pd.concat([p[key] for p in parts], ignore_index=True)
        rank = table["seed"].astype(int).map(order).to_numpy()
        return table.iloc[np.argsort(rank, kind="stable")]

    folder = _results_dir() if folder is None else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write(combined("runs"), combined("curves"), name, folder)
    return load(name, folder)


# --------------------------------------------------------------------------- reading


@dataclass
class Sweep:
    """The shipped results of one experiment's seed sweep (introduced in notebook 03).

    ``runs`` has one row per seed and variant (:data:`RUN_COLUMNS`, plus
    ``test_accuracy`` or ``val_accuracy_shift_<k>`` where the experiment records them,
    and ``gap``, the generalization gap ``train_accuracy - val_accuracy``), ``curves``
    one row per seed, variant and epoch (:data:`CURVE_COLUMNS`).
    """

    name: str
    runs: pd.DataFrame
    curves: pd.DataFrame

    def __post_init__(self) -> None:
        self.runs = self.runs.assign(gap=self.runs["train_accuracy"] - self.runs["val_accuracy"])

    @property
    def variants(self) -> list[str]:
        """The variant names, in the order they were run."""
        return list(dict.fromkeys(self.runs["variant"]))

    @property
    def seeds(self) -> list[int]:
        """The seeds the sweep ran."""
        return sorted(int(s) for s in self.runs["seed"].unique())

    @property
    def settings(self) -> dict[str, int]:
        """The settings every run used: train_size, test_size, epochs and batch_size."""
        keys = ("train_size", "test_size", "epochs", "batch_size")
        return {k: int(self.runs[k].iloc[0]) for k in keys}

    @property
    def policy(self) -> str:
        """The Keras dtype policy the runs were trained in (``float32`` where none is recorded)."""
        if "policy" not in self.runs.columns:
            return "float32"
        return str(self.runs["policy"].iloc[0])

    def _metric(self, metric: str) -> str:
        numeric = [
            c
            for c in self.runs.columns
            if c.endswith("accuracy") or c.startswith("val_accuracy_shift") or c == "gap"
        ]
        if metric not in numeric:
            raise ValueError(f"metric is {metric!r}; this sweep recorded {numeric}")
        return metric

    def _variant(self, variant: str) -> str:
        if variant not in self.variants:
            raise ValueError(f"variant is {variant!r}; this sweep ran {self.variants}")
        return variant

    def describe(self, variant: str, metric: str = "val_accuracy") -> str:
        """``"90.4% (89.9–90.6% over 5 seeds)"``: the mean and range of a variant's metric."""
        v = self.values(variant, metric)
        return f"{v.mean():.1%} ({100 * v.min():.1f}–{v.max():.1%} over {len(v)} seeds)"

    def values(self, variant: str, metric: str = "val_accuracy") -> pd.Series:
        """The metric of one variant after training, one value per seed (indexed by seed)."""
        rows = self.runs[self.runs["variant"] == self._variant(variant)]
        return rows.set_index("seed")[self._metric(metric)].sort_index()

    def summary(self, metric: str = "val_accuracy") -> pd.DataFrame:
        """Mean, standard deviation, lowest and highest value of ``metric`` over the seeds.

        One row per variant; ``seeds`` says how many runs each row summarises.
        """
        self._metric(metric)
        rows = {}
        for variant in self.variants:
            v = self.values(variant, metric)
            rows[variant] = {
                "mean": v.mean(),
                "std": v.std(ddof=1),
                "lowest": v.min(),
                "highest": v.max(),
                "seeds": len(v),
            }
        table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("variant")
        table["seeds"] = table["seeds"].astype(int)
        return table.round(4)

    def compare(self, a: str, b: str, metric: str = "val_accuracy") -> dict:
        """Compare variant ``a`` with ``b`` seed by seed, by the course's rule
        (:func:`helpers.comparisons.paired`, introduced in notebook 05).

        Returns the mean of the per-seed differences ``a - b``, their lowest and highest
        value, the 95% interval of the mean, in how many seeds ``a`` is higher, and the
        verdict: ``"higher"``, ``"lower"`` or ``"no clear difference"``. The notebooks
        state a difference only when the verdict is not ``"no clear difference"``.
        """
        va, vb = self.values(a, metric), self.values(b, metric)
        return comparisons.paired(va, vb, names=(a, b)).as_dict()

    def band(self, metric: str = "val_accuracy", variant: str | None = None) -> pd.DataFrame:
        """Per epoch: the mean, lowest and highest value of a curve over the seeds.

        ``metric`` is one of the recorded curves (``loss``, ``accuracy``, ``val_loss``,
        ``val_accuracy``). Columns are a (variant, statistic) MultiIndex, the index
        is the epoch. Runs that stopped early contribute only the epochs they trained.
        """
        if metric not in CURVE_COLUMNS[3:]:
            raise ValueError(f"metric is {metric!r}; expected one of {list(CURVE_COLUMNS[3:])}")
        names = self.variants if variant is None else [self._variant(variant)]
        frames = {}
        for name in names:
            rows = self.curves[self.curves["variant"] == name]
            grouped = rows.groupby("epoch")[metric]
            frames[name] = pd.DataFrame(
                {"mean": grouped.mean(), "lowest": grouped.min(), "highest": grouped.max()}
            )
        return pd.concat(frames, axis=1)

    def differences(self, variants: Mapping[str, Callable], **settings) -> list[str]:
        """How ``variants`` and ``settings`` differ from what this sweep measured.

        The variant names must be the sweep's; each variant's model, built in the
        current Keras dtype policy, must have the recorded
        :func:`helpers.models.fingerprint` and the recorded ``policy`` (a float32 run
        is not a sample of a bfloat16 sweep); and every setting given (``train_size``,
        ``epochs``, ...) must equal the sweep's. Returns one line per difference, none
        when the shipped results describe this run.
        """
        for key in settings:
            if key not in self.settings:
                raise ValueError(f"unknown setting {key!r}; expected some of {list(self.settings)}")
        found = [
            f"{key} is {value!r}, the shipped runs used {self.settings[key]!r}"
            for key, value in settings.items()
            if self.settings[key] != value
        ]
        if list(variants) != self.variants:
            return found + [f"the variants are {list(variants)}, the shipped runs' {self.variants}"]
        recorded = self.runs.drop_duplicates("variant").set_index("variant")["fingerprint"]
        for name, build in variants.items():
            model = build()
            built, policy = models.fingerprint(model), model.dtype_policy.name
            if built != recorded[name]:
                found.append(
                    f"variant {name!r} builds a model with fingerprint {built}, the shipped "
                    f"runs measured {recorded[name]} (the model or its optimizer changed)"
                )
            if policy != self.policy:
                found.append(
                    f"variant {name!r} is built in {policy}, the shipped runs trained in "
                    f"{self.policy}"
                )
        return found

    def matches(self, variants: Mapping[str, Callable], **settings) -> bool:
        """Whether the shipped runs describe this run (:meth:`differences`); if not, say
        so in one line, for the notebook to skip its comparisons with them."""
        found = self.differences(variants, **settings)
        if found:
            print(
                f"Not the book's settings ({'; '.join(found)}): this run is not compared "
                "with the shipped runs below."
            )
        return not found

    def check_matches(self, variants: Mapping[str, Callable], **settings) -> None:
        """Raise unless ``variants`` and ``settings`` are the ones this sweep measured
        (:meth:`differences`): the shipped results no longer describe the notebook,
        and ``make sweep`` must be run again."""
        found = self.differences(variants, **settings)
        if found:
            raise ValueError(
                f"the shipped sweep {self.name!r} does not describe these runs: "
                + "; ".join(found)
                + ". Run `make sweep` again or restore the notebook's defaults."
            )


def load(name: str, folder: Path | None = None) -> Sweep:
    """The shipped seed sweep of experiment ``name`` (introduced in notebook 03).

    ``name`` is one of :data:`EXPERIMENTS`: ``"baseline"`` (notebook 03),
    ``"pooling"`` (05), ``"dropout"`` (06), ``"batch_norm"`` (07), ``"augmentation"`` (08),
    ``"capstone_ablation"`` (10).
    """
    checks.choice("name", name, list(EXPERIMENTS))
    runs_path, curves_path = _paths(name, folder)
    if not runs_path.exists() or not curves_path.exists():
        raise FileNotFoundError(
            f"no results for the sweep {name!r} at {runs_path.parent}; run `make sweep` "
            "(or reinstall the course's helpers)"
        )
    runs, curves = pd.read_csv(runs_path), pd.read_csv(curves_path)
    missing = [c for c in RUN_COLUMNS if c not in runs.columns]
    if missing or tuple(curves.columns) != CURVE_COLUMNS:
        raise ValueError(
            f"the sweep files of {name!r} have the columns {list(runs.columns)} and "
            f"{list(curves.columns)}; expected {list(RUN_COLUMNS)} and {list(CURVE_COLUMNS)}. "
            "Run `make sweep` again or reinstall the course's helpers."
        )
    runs["seed"] = runs["seed"].astype(int)
    return Sweep(name=name, runs=runs, curves=curves)
