"""Checks for the exercises of notebook 06 (dropout)."""

from __future__ import annotations

import numpy as np

from helpers.exercises import CORRECT, INCORRECT, exercise

#: Exercise 06.1: a Dropout layer's rate, and the value one of its inputs has at every step.
DROPOUT_RATE_06_1 = 0.2
INPUT_06_1 = 3.0


@exercise("06.1")
def dropout_statistics(answer):
    rate, x = DROPOUT_RATE_06_1, INPUT_06_1
    kept = x / (1 - rate)
    mean = (1 - rate) * kept
    std = float(np.sqrt((1 - rate) * kept**2 - mean**2))
    try:
        got_mean, got_std = (float(v) for v in answer)
    except (TypeError, ValueError):
        return INCORRECT, f"Expected a pair (mean, standard deviation), got {answer!r}."
    if abs(got_mean - mean) > 1e-3:
        if abs(got_mean - kept) < 1e-3:
            return INCORRECT, (
                f"{kept:g} is the value of a kept input; the mean also counts the steps where "
                "the input is dropped (output 0)."
            )
        if abs(got_mean - x * (1 - rate)) < 1e-3:
            return (
                INCORRECT,
                "The kept inputs are scaled up by 1 / (1 - rate), so the mean is kept.",
            )
        return (
            INCORRECT,
            "The mean: each step outputs 0 or x / (1 - rate); weigh both by their chance.",
        )
    if abs(got_std - std) > 1e-3:
        if abs(got_std) < 1e-9:
            return (
                INCORRECT,
                "The output changes from step to step (0 or the scaled value): its spread is not 0.",
            )
        if abs(got_std - std**2) < 1e-3:
            return INCORRECT, "That is the variance; the standard deviation is its square root."
        return INCORRECT, (
            "The standard deviation: sqrt(E[output²] − mean²), with E[output²] = (1 − rate) × "
            "(x / (1 − rate))²."
        )
    return CORRECT, (
        f"The mean stays {mean:g}, which is what the scaling is for, but each step's output is "
        f"{kept:g} or 0: a spread of {std:.3g} = x·sqrt(rate / (1 − rate)). That noise is what "
        "keeps the next layer from relying on any single input."
    )


@exercise("06.2")
def dropout_function(fn):
    if not callable(fn):
        return INCORRECT, f"Expected a function, got {type(fn).__name__}."
    x = np.full((200, 500), 3.0, dtype=np.float32)
    for rate in (0.2, 0.5):
        out = np.asarray(fn(x.copy(), rate, np.random.default_rng(0)), dtype=np.float64)
        if out.shape != x.shape:
            return INCORRECT, f"Your function changed the shape from {x.shape} to {out.shape}."
        dropped = float(np.mean(out == 0))
        kept = out[out != 0]
        if abs(dropped - (1 - rate)) < 0.02 and rate != 0.5:
            return INCORRECT, (
                f"With rate={rate} you zeroed {dropped:.0%} of the inputs: the rate is the share "
                "that is dropped, not the share that is kept."
            )
        if abs(dropped - rate) > 0.02:
            return INCORRECT, (
                f"With rate={rate} you zeroed {dropped:.1%} of the inputs; expected about "
                f"{rate:.0%}. Drop each input independently with probability rate."
            )
        if kept.size and np.allclose(kept, 3.0):
            return INCORRECT, (
                "The kept inputs are unchanged, so the layer's output is smaller on average in "
                "training than at inference. Divide them by (1 - rate)."
            )
        if kept.size and np.allclose(kept, 3.0 * (1 - rate)):
            return INCORRECT, "Divide the kept inputs by (1 - rate); you multiplied by it."
        if not np.allclose(kept, 3.0 / (1 - rate), rtol=1e-5):
            return INCORRECT, (
                f"The kept inputs should all be 3.0 / (1 - {rate}) = {3.0 / (1 - rate):.4g}; "
                f"yours range from {kept.min():.4g} to {kept.max():.4g}."
            )
    return CORRECT, (
        "This is 'inverted' dropout, as Keras implements it: the scaling happens in training, "
        "so inference needs no change at all."
    )


#: Exercise 06.3: a run's validation loss after each epoch, watched by early stopping.
VAL_LOSSES_06_3 = (0.50, 0.42, 0.40, 0.41, 0.39, 0.40, 0.41, 0.43, 0.38, 0.37)
PATIENCE_06_3 = 3


def early_stop(losses, patience):
    """(last epoch trained, epoch whose weights are kept), as EarlyStopping with
    restore_best_weights=True decides: stop once ``patience`` epochs in a row have not
    improved on the best validation loss so far (1-based epochs)."""
    best, best_epoch, waited = float("inf"), 0, 0
    for epoch, loss in enumerate(losses, start=1):
        if loss < best:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch, best_epoch
    return len(losses), best_epoch


@exercise("06.3")
def early_stopping_epochs(answer):
    stop, kept = early_stop(VAL_LOSSES_06_3, PATIENCE_06_3)
    try:
        got = tuple(int(v) for v in answer)
        if len(got) != 2:
            raise ValueError
    except (TypeError, ValueError):
        return INCORRECT, f"Expected a pair (last epoch trained, epoch kept), got {answer!r}."
    best_overall = int(np.argmin(VAL_LOSSES_06_3)) + 1
    if got == (stop, kept):
        return CORRECT, (
            f"After epoch {kept} the loss did not improve for {PATIENCE_06_3} epochs, so training "
            f"stopped after epoch {stop} and restore_best_weights put epoch {kept}'s weights back. "
            f"The better epoch {best_overall} was never reached: patience trades a little of the "
            "best possible result for not training long past it."
        )
    if got[0] == len(VAL_LOSSES_06_3):
        return (
            INCORRECT,
            "The run does not reach the last epoch: count the epochs without improvement.",
        )
    if got[1] == best_overall:
        return INCORRECT, (
            f"Epoch {best_overall} has the lowest loss of the list, but early stopping cannot "
            "see the future: did the run get that far?"
        )
    if got[0] == stop and got[1] == stop:
        return (
            INCORRECT,
            "With restore_best_weights=True the kept weights are the best epoch's, not the last.",
        )
    if got[0] == stop - 1:
        return (
            INCORRECT,
            f"Patience {PATIENCE_06_3} allows {PATIENCE_06_3} epochs without improvement; it stops after the last of them.",
        )
    return INCORRECT, "Walk through the list: track the best loss so far and count epochs since it."
