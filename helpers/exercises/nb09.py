"""Checks for the exercises of notebook 09 (saliency maps and calibration)."""

from __future__ import annotations

from functools import cache

import numpy as np

from helpers.exercises import CORRECT, INCORRECT, exercise, number

# ------------------------------------------------------------------ 09.1: the occlusion loop


@cache
def _linear_model():
    """A small classifier with fixed weights: Flatten -> Dense(10, softmax).

    Its weights come from a seeded NumPy generator, so building it draws nothing from
    Keras' random state and the notebook computes the same thing after a check.
    """
    import keras

    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax", kernel_initializer="zeros"),
        ]
    )
    rng = np.random.default_rng(9)
    weights = rng.normal(0.0, 0.15, size=(784, 10)).astype(np.float32)
    model.set_weights([weights, np.zeros(10, dtype=np.float32)])
    return model


def _images() -> list[np.ndarray]:
    """A random texture and a 'garment' on an empty background, both (28, 28, 1)."""
    rng = np.random.default_rng(19)
    texture = rng.random((28, 28, 1)).astype(np.float32)
    garment = np.zeros((28, 28, 1), dtype=np.float32)
    garment[4:26, 7:21] = rng.uniform(0.3, 1.0, size=(22, 14, 1))
    return [texture, garment]


def _probability(model, images: np.ndarray, label: int) -> np.ndarray:
    # Calling the model directly, rather than predict_on_batch, traces no tf.function, so
    # batches of any size never make TensorFlow warn about retracing.
    return np.asarray(model(images))[:, label]


def _occlusion_grid(model, image, label, patch, fill=0.0, transpose=False):
    """The reference: the drop of p(label) when each patch-by-patch square is filled."""
    n = image.shape[0] // patch
    occluded = []
    for i in range(n):
        for j in range(n):
            copy = image.copy()
            copy[i * patch : (i + 1) * patch, j * patch : (j + 1) * patch] = fill
            occluded.append(copy)
    original = _probability(model, image[np.newaxis], label)[0]
    drops = original - _probability(model, np.stack(occluded), label)
    grid = drops.reshape(n, n)
    return grid.T if transpose else grid


@exercise("09.1")
def occlusion_loop(fn):
    if not callable(fn):
        return INCORRECT, f"Expected a function, got {type(fn).__name__}."
    model = _linear_model()
    for image in _images():
        predicted = int(np.asarray(model(image[np.newaxis]))[0].argmax())
        label = (predicted + 3) % 10  # a class other than the predicted one
        for patch in (7, 4):
            given = image.copy()
            out = np.asarray(fn(model, given, label, patch), dtype=np.float64)
            n = 28 // patch
            if not np.array_equal(given, image):
                return INCORRECT, (
                    "Your function changed the image it was given, so every patch stayed "
                    "covered for the next ones: occlude a copy (image.copy()) each time."
                )
            if out.shape == (28 - patch + 1, 28 - patch + 1):
                return INCORRECT, (
                    f"With patch={patch} you returned {out.shape}: the patch moved one pixel at "
                    f"a time. Move it {patch} pixels at a time, for a {n} × {n} grid."
                )
            if out.shape != (n, n):
                return INCORRECT, (
                    f"With patch={patch} the result should be ({n}, {n}), one value per square "
                    f"of {patch} × {patch} pixels; you returned {out.shape}."
                )
            expected = _occlusion_grid(model, image, label, patch)
            if np.allclose(out, expected, atol=1e-5):
                continue
            original = _probability(model, image[np.newaxis], label)[0]
            if np.allclose(out, -expected, atol=1e-5):
                return INCORRECT, (
                    "The signs are the wrong way round: the drop is the probability of the "
                    "whole image minus that of the occluded one."
                )
            if np.allclose(out, original - expected, atol=1e-5):
                return INCORRECT, (
                    "You returned the probability of each occluded image; return how much it "
                    "dropped: the probability of the whole image minus that."
                )
            if np.allclose(
                out, _occlusion_grid(model, image, label, patch, transpose=True), atol=1e-5
            ):
                return INCORRECT, (
                    "Rows and columns are swapped: grid[i, j] is for the square in row i "
                    "(image[i * patch : (i + 1) * patch, ...]) and column j."
                )
            for fill in (1.0, 0.5, float(image.mean())):
                if np.allclose(out, _occlusion_grid(model, image, label, patch, fill), atol=1e-5):
                    return INCORRECT, (
                        f"You filled the square with {fill:.2f}; fill it with 0, the background "
                        "of every Fashion-MNIST image, so that the garment's part is removed."
                    )
            for other in range(10):
                if other != label and np.allclose(
                    out, _occlusion_grid(model, image, other, patch), atol=1e-5
                ):
                    return INCORRECT, (
                        f"These are the drops of class {other}; use the class `label` that "
                        "the function is given (it need not be the predicted one)."
                    )
            worst = np.unravel_index(np.abs(out - expected).argmax(), expected.shape)
            return INCORRECT, (
                f"With patch={patch}, grid{tuple(int(v) for v in worst)} should be "
                f"{expected[worst]:.5f} (the drop of p(label) when that square is set to 0); "
                f"you returned {out[worst]:.5f}."
            )
    return CORRECT, (
        "Each value is how much the class's probability drops when one square of the image "
        "is blanked out: large where the model needs that part of the image."
    )


# ------------------------------------------------------------------ 09.2: ECE for given bins

#: Exercise 09.2: twelve predictions, their confidences, whether each was right, and the bins.
CONFIDENCES_09_2 = (0.98, 0.96, 0.93, 0.91, 0.87, 0.84, 0.82, 0.76, 0.64, 0.58, 0.55, 0.52)
CORRECT_09_2 = (1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1)
EDGES_09_2 = (0.5, 0.8, 0.9, 1.0)


def _bins_09_2():
    """Per bin (low, high]: (share of the predictions, accuracy, mean confidence)."""
    conf, correct = np.array(CONFIDENCES_09_2), np.array(CORRECT_09_2, dtype=float)
    rows = []
    for low, high in zip(EDGES_09_2[:-1], EDGES_09_2[1:], strict=True):
        in_bin = (conf > low) & (conf <= high)
        rows.append((in_bin.mean(), correct[in_bin].mean(), conf[in_bin].mean()))
    return np.array(rows)


@exercise("09.2")
def ece_for_given_bins(answer):
    conf, correct = np.array(CONFIDENCES_09_2), np.array(CORRECT_09_2, dtype=float)
    bins = _bins_09_2()
    share, accuracy, confidence = bins.T
    gaps = np.abs(accuracy - confidence)
    expected = float((share * gaps).sum())
    return number(
        answer,
        expected,
        tolerance=5e-4,
        hints={
            float(gaps.mean()): "That is the plain mean of the three gaps; weight each bin's gap "
            "by the share of the predictions that fall into it.",
            float(abs(correct.mean() - conf.mean())): "That is |accuracy − mean confidence| over "
            "all predictions at once, where over- and underconfident bins cancel; take the gap "
            "in each bin first.",
            float((share * (accuracy - confidence)).sum()): "Take the absolute value of each "
            "bin's gap, so that gaps of both signs add up.",
            float(gaps.max()): "That is the largest gap (the maximum calibration error); the "
            "ECE is their weighted mean.",
            float(np.abs(correct - conf).mean()): "That compares each prediction's confidence "
            "with 0 or 1; compare the mean confidence of a bin with the bin's accuracy.",
            "default": "Per bin: share of the predictions × |accuracy − mean confidence|, "
            "summed over the bins.",
        },
        why="Σ share × |accuracy − confidence| = "
        + " + ".join(f"{s:.3f} × {g:.3f}" for s, g in zip(share, gaps, strict=True))
        + f" = {expected:.4f}.",
    )


# ------------------------------------------------------------------ 09.3: the temperature


def _made_up_logits(temperature: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits of a made-up model, and labels drawn as if softmax(logits / temperature) were true."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 3.0, size=(4000, 10))
    z = logits / temperature
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    labels = (p.cumsum(axis=1) > rng.random((len(p), 1))).argmax(axis=1)
    return logits, labels


def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """The mean negative log-likelihood of the labels under softmax(logits / temperature)."""
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(labels)), labels]))


@exercise("09.3")
def temperature_function(fn):
    from helpers.calibration import fit_temperature

    if not callable(fn):
        return INCORRECT, f"Expected a function, got {type(fn).__name__}."
    found = []
    for truth, seed, kind in ((2.0, 1, "overconfident"), (0.5, 2, "underconfident")):
        logits, labels = _made_up_logits(truth, seed)
        answer = fn(logits.copy(), labels.copy())
        try:
            t = float(answer)
        except (TypeError, ValueError):
            return INCORRECT, f"Expected a number T, got {type(answer).__name__} {answer!r}."
        if not np.isfinite(t) or t <= 0:
            return INCORRECT, f"You returned T = {t!r}; a temperature is a positive number."
        best = fit_temperature(logits, labels)
        if _nll(logits, labels, t) <= _nll(logits, labels, best) + 1e-3:
            found.append(f"{t:.2f} for the {kind} model")
            continue
        if abs(t * best - 1) < 0.05:
            return INCORRECT, (
                f"For a made-up {kind} model you returned {t:.3f}, about 1 / {best:.3f}: you "
                "multiplied the logits by T. Temperature scaling divides them: softmax(z / T)."
            )
        if kind == "underconfident" and t >= 0.99:
            return INCORRECT, (
                f"For a made-up {kind} model you returned {t:.3f}, but the NLL is lowest at "
                f"{best:.3f}: T can be below 1, which makes the probabilities sharper. Search "
                "below 1 too."
            )
        return INCORRECT, (
            f"For a made-up {kind} model you returned T = {t:.3f}, with a mean NLL of "
            f"{_nll(logits, labels, t):.4f}; at T = {best:.3f} it is "
            f"{_nll(logits, labels, best):.4f}. Minimise the mean negative log-likelihood of "
            "the true labels under softmax(logits / T)."
        )
    return CORRECT, (
        f"You found {' and '.join(found)}: above 1 softens overconfident probabilities, below 1 "
        "sharpens underconfident ones, and the predicted classes never change."
    )
