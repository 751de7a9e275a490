"""Show the code, then reuse it.

Each notebook writes the Keras code it teaches; the helpers hold what later notebooks
reuse. These tests check both halves without running anything:

- the taught code is in the notebook that teaches it, next to a cell that checks the
  helper gives the same thing (those cells run, and must pass, in the notebook tests);
- the docstring of every helper a notebook uses names the notebook that introduces it,
  and that notebook is the first one, in the order of the table of contents, that uses it
  (helpers only other helpers use, such as the classes their functions return, are not
  checked).
"""

from __future__ import annotations

import importlib
import inspect
import re

import nbformat
import pytest

from conftest import ROOT, course

NAMES = [entry.split("/")[-1] for entry in course.toc_notebooks()]
MODULES = [
    "claims",
    "data",
    "augmentation",
    "models",
    "training",
    "calibration",
    "saving",
    "viz",
    "explorer",
    "experiments",
    "sweeps",
    "params",
]
CLAIM = re.compile(r"introduced in notebook (\d\d)", re.IGNORECASE)


def _code(name: str) -> str:
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


CODE = {name: _code(name) for name in NAMES}

# notebook -> what it must write itself, and the helper it must check against it
TAUGHT = {
    "01_data_preparation": (
        ["tf.data.Dataset.from_tensor_slices(", ".cache()", ".shuffle(", ".batch(", ".prefetch("],
        "data.make_dataset(",
    ),
    "02_cnn_components": (
        [
            "keras.Sequential(",
            "keras.Input(",
            "layers.Conv2D(",
            "layers.MaxPooling2D(",
            "layers.Flatten(",
            "layers.Dense(",
        ],
        "models.baseline_cnn(",
    ),
    "03_training": (
        ["keras.Sequential(", "model.compile(", "model.fit(", "model.evaluate("],
        "training.train(",
    ),
    "04_kernels_and_feature_maps": (["keras.Model("], "models.layer_outputs("),
    "05_pooling": (["for ", ".fit(", "training.set_seed("], "experiments.run_experiment("),
    "06_dropout": (["keras.Sequential(", "layers.Dropout("], "models.architecture("),
    "07_batch_normalization": (
        ["keras.Sequential(", "layers.BatchNormalization("],
        "models.architecture(",
    ),
    "08_augmentation": (
        [
            "layers.RandomTranslation(",
            "layers.RandomFlip(",
            "class Cutout(layers.Layer)",
            "keras.Sequential(",
            "layers.GlobalAveragePooling2D(",
            ".map(",
        ],
        "models.architecture(",
    ),
    "09_saliency_and_calibration": (
        ["tf.GradientTape(", "tape.watch(", "def occlusion_map(", "def reliability_table("],
        "calibration.expected_calibration_error(",
    ),
}


@pytest.mark.parametrize("name", sorted(TAUGHT))
def test_the_notebook_writes_the_code_it_teaches(name):
    if name not in CODE:
        pytest.skip(f"{name} is not in the table of contents")
    written, helper = TAUGHT[name]
    code = CODE[name]
    missing = [snippet for snippet in written if snippet not in code]
    assert not missing, f"{name} does not write {missing} itself"
    assert helper in code, f"{name} never shows that {helper.rstrip('(')} gives the same thing"
    checks = [line for line in code.splitlines() if line.lstrip().startswith("assert ")]
    assert checks, f"{name} has no assert that ties its code to the helper"


def _helpers():
    """(module, name, object) for every public function and class of the helpers."""
    for module_name in MODULES:
        module = importlib.import_module(f"helpers.{module_name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield module_name, name, obj


def _first_use(module: str, name: str) -> str | None:
    used = re.compile(
        rf"(?<![\w.]){module}\.{name}\b|from helpers\.{module} import [^\n]*\b{name}\b"
    )
    return next((nb for nb in NAMES if used.search(CODE[nb])), None)


HELPERS = list(_helpers())


@pytest.mark.parametrize("module, name, obj", HELPERS, ids=[f"{m}.{n}" for m, n, _ in HELPERS])
def test_docstring_names_the_notebook_that_introduces_it(module, name, obj):
    first = _first_use(module, name)
    claims = CLAIM.findall(inspect.getdoc(obj) or "")
    if first is None:
        pytest.skip(f"no notebook uses helpers.{module}.{name} directly")
    assert claims, (
        f"helpers.{module}.{name} is first used in {first}; its docstring must say "
        f"'introduced in notebook {first[:2]}'"
    )
    assert claims[0] == first[:2], (
        f"helpers.{module}.{name} says it is introduced in notebook {claims[0]}, but the "
        f"first notebook that uses it is {first}"
    )
