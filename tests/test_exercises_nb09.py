"""The exercise checks of notebook 09 (saliency maps and calibration).

Expected answers are computed here independently of the checks: the occlusion grid by
a plain loop over the model's predictions, the ECE by hand from the exercise's data,
the temperature by a finer search than the check's.
"""

from __future__ import annotations

import hashlib
import re

import nbformat
import numpy as np
import pytest

from conftest import ROOT
from helpers.exercises import CORRECT, INCORRECT, NOT_ATTEMPTED, check, nb09, registered

EXERCISES = ["09.1", "09.2", "09.3"]


def test_all_are_registered():
    assert set(EXERCISES) <= set(registered())


@pytest.mark.parametrize("exercise", ["09.1", "09.3"])
def test_function_still_raising_not_implemented_is_unattempted(exercise):
    def todo(*args):
        raise NotImplementedError

    assert check(exercise, todo).status == NOT_ATTEMPTED


def expect(exercise, answer, status, hint=""):
    feedback = check(exercise, answer)
    assert feedback.status == status, feedback
    assert hint in feedback.message, feedback


# --------------------------------------------------------------------------- 09.1


def _probability(model, images, label):
    return np.asarray(model(np.asarray(images, dtype=np.float32)))[:, label]


def occlusion_loops(model, image, label, patch, fill=0.0):
    """The exercise's loop, written plainly: one occluded copy per square."""
    n = 28 // patch
    p = _probability(model, image[None], label)[0]
    grid = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            occluded = image.copy()
            occluded[i * patch : (i + 1) * patch, j * patch : (j + 1) * patch] = fill
            grid[i, j] = p - _probability(model, occluded[None], label)[0]
    return grid


def occlusion_batched(model, image, label, patch):
    n = 28 // patch
    batch = np.repeat(image[None], n * n, axis=0)
    for k in range(n * n):
        i, j = divmod(k, n)
        batch[k, i * patch : (i + 1) * patch, j * patch : (j + 1) * patch] = 0
    p = _probability(model, image[None], label)[0]
    return (p - _probability(model, batch, label)).reshape(n, n)


def occlusion_in_place(model, image, label, patch):
    """Forgets to copy: every square stays blanked for the next ones."""
    n = 28 // patch
    p = _probability(model, image[None], label)[0]
    grid = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            image[i * patch : (i + 1) * patch, j * patch : (j + 1) * patch] = 0
            grid[i, j] = p - _probability(model, image[None], label)[0]
    return grid


def occlusion_stride_1(model, image, label, patch):
    size = 28 - patch + 1
    p = _probability(model, image[None], label)[0]
    grid = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            occluded = image.copy()
            occluded[i : i + patch, j : j + patch] = 0
            grid[i, j] = p - _probability(model, occluded[None], label)[0]
    return grid


def occlusion_predicted_class(model, image, label, patch):
    predicted = int(np.asarray(model(image[None])).argmax())
    return occlusion_loops(model, image, predicted, patch)


def occluded_probability(model, image, label, patch):
    p = _probability(model, image[None], label)[0]
    return p - occlusion_loops(model, image, label, patch)


@pytest.mark.parametrize(
    ("fn", "status", "hint"),
    [
        (occlusion_loops, CORRECT, "blanked out"),
        (occlusion_batched, CORRECT, ""),
        (occlusion_in_place, INCORRECT, "image.copy()"),
        (occlusion_stride_1, INCORRECT, "one pixel at a time"),
        (lambda m, x, c, p: -occlusion_loops(m, x, c, p), INCORRECT, "signs"),
        (occluded_probability, INCORRECT, "probability of each occluded image"),
        (lambda m, x, c, p: occlusion_loops(m, x, c, p).T, INCORRECT, "swapped"),
        (lambda m, x, c, p: occlusion_loops(m, x, c, p, fill=1.0), INCORRECT, "fill it with 0"),
        (occlusion_predicted_class, INCORRECT, "use the class `label`"),
        (lambda m, x, c, p: occlusion_loops(m, x, c, p)[:-1], INCORRECT, "one value per square"),
        (lambda m, x, c, p: occlusion_loops(m, x, c, p) + 0.01, INCORRECT, "should be"),
        ("occlusion", INCORRECT, "Expected a function"),
    ],
)
def test_09_1_occlusion_loop(fn, status, hint):
    expect("09.1", fn, status, hint)


def test_09_1_check_leaves_keras_random_state_alone():
    """The check's model has fixed weights: building it draws no random numbers."""
    import keras

    keras.utils.set_random_seed(3)
    nb09._linear_model.cache_clear()
    check("09.1", occlusion_loops)
    after_check = keras.random.uniform((3,)).numpy()
    keras.utils.set_random_seed(3)
    np.testing.assert_array_equal(after_check, keras.random.uniform((3,)).numpy())


# --------------------------------------------------------------------------- 09.2


@pytest.fixture(scope="module")
def ece_09_2():
    """The ECE of the exercise's twelve predictions, by hand, and typical wrong answers."""
    conf = np.array(nb09.CONFIDENCES_09_2)
    correct = np.array(nb09.CORRECT_09_2, dtype=float)
    edges = nb09.EDGES_09_2
    shares, gaps, signed = [], [], []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        members = [k for k, c in enumerate(conf) if low < c <= high]
        accuracy = sum(correct[k] for k in members) / len(members)
        confidence = sum(conf[k] for k in members) / len(members)
        shares.append(len(members) / len(conf))
        gaps.append(abs(accuracy - confidence))
        signed.append(accuracy - confidence)
    return {
        "right": sum(s * g for s, g in zip(shares, gaps, strict=True)),
        "unweighted": sum(gaps) / len(gaps),
        "overall": abs(correct.mean() - conf.mean()),
        "signed": sum(s * g for s, g in zip(shares, signed, strict=True)),
        "maximum": max(gaps),
        "per_prediction": float(np.abs(correct - conf).mean()),
    }


def test_09_2_bins_are_unequal_so_that_the_weights_matter(ece_09_2):
    assert abs(ece_09_2["right"] - ece_09_2["unweighted"]) > 0.01


@pytest.mark.parametrize(
    ("answer", "status", "hint"),
    [
        ("right", CORRECT, "Σ share"),
        ("unweighted", INCORRECT, "plain mean"),
        ("overall", INCORRECT, "cancel"),
        ("signed", INCORRECT, "absolute value"),
        ("maximum", INCORRECT, "largest gap"),
        ("per_prediction", INCORRECT, "0 or 1"),
        (0.5, INCORRECT, "Per bin"),
        ("0.27", INCORRECT, "Expected a number"),
    ],
)
def test_09_2_ece(ece_09_2, answer, status, hint):
    if answer in ece_09_2:
        answer = ece_09_2[answer]
    expect("09.2", answer, status, hint)


def test_09_2_accepts_a_rounded_answer(ece_09_2):
    expect("09.2", round(ece_09_2["right"], 3), CORRECT)


# --------------------------------------------------------------------------- 09.3


def _nll(logits, labels, t):
    z = logits / t
    z = z - z.max(axis=1, keepdims=True)
    return np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(labels)), labels])


_FINE: dict[bytes, float] = {}


def fine_search(logits, labels):
    """The NLL's minimum over 3,000 temperatures (a second apiece), remembered per data set:
    the check hands every answer copies of the same two made-up sets, and five of the
    answers below call this search."""
    key = hashlib.sha256(logits.tobytes() + labels.tobytes()).digest()
    if key not in _FINE:
        grid = np.geomspace(0.05, 20, 3000)
        _FINE[key] = float(grid[np.argmin([_nll(logits, labels, t) for t in grid])])
    return _FINE[key]


def coarse_search(logits, labels):
    grid = np.arange(0.1, 5.0, 0.05)
    return float(grid[np.argmin([_nll(logits, labels, t) for t in grid])])


def helper_search(logits, labels):
    from helpers.calibration import fit_temperature

    return fit_temperature(logits, labels)


@pytest.mark.parametrize(
    ("fn", "status", "hint"),
    [
        (fine_search, CORRECT, "overconfident"),
        (coarse_search, CORRECT, ""),
        (helper_search, CORRECT, ""),
        (lambda z, y: 1 / fine_search(z, y), INCORRECT, "multiplied the logits"),
        (
            lambda z, y: max(1.0, fine_search(z, y)),
            INCORRECT,
            "T can be below 1",
        ),
        (lambda z, y: 1.0, INCORRECT, "Minimise the mean negative log-likelihood"),
        (lambda z, y: fine_search(z, y) * 1.5, INCORRECT, "mean NLL"),
        (lambda z, y: -1.0, INCORRECT, "positive number"),
        (lambda z, y: "T", INCORRECT, "Expected a number"),
        (3.0, INCORRECT, "Expected a function"),
    ],
)
def test_09_3_temperature(fn, status, hint):
    expect("09.3", fn, status, hint)


def test_09_3_made_up_models_are_miscalibrated_both_ways():
    over = fine_search(*nb09._made_up_logits(2.0, 1))
    under = fine_search(*nb09._made_up_logits(0.5, 2))
    assert 1.8 < over < 2.2 and 0.45 < under < 0.55, (over, under)


def test_09_2_the_notebook_shows_the_data_the_check_uses():
    nb = nbformat.read(ROOT / "notebooks" / "09_saliency_and_calibration.ipynb", as_version=4)
    cell = next(c.source for c in nb.cells if c.cell_type == "code" and "answer_09_2" in c.source)

    def values(name):
        found = re.search(rf"^{name} = (?:np\.array\()?\[([^\]]*)\]", cell, re.M)
        assert found, f"the exercise cell defines no {name}"
        return tuple(float(v) for v in found.group(1).split(","))

    assert values("confidences_09_2") == nb09.CONFIDENCES_09_2
    assert values("correct_09_2") == nb09.CORRECT_09_2
    assert values("edges_09_2") == nb09.EDGES_09_2
