"""What notebook 07's text says about its numbers (helpers.claims records them)."""

import numpy as np

from helpers import comparisons
from tools.claims import CHANCE, seeds_at_chance

RATES = (0.001, 0.01, 0.1)  # the learning rates of the shipped sweep (the notebook's defaults)
BLOCKS = ("block 1", "block 2", "dense")


def check(c):
    # with any settings: what the text teaches as always true
    modes = c["modes"]
    c.claim(
        "with training=True each channel's output has, over the batch, mean β, so the average "
        "of the channel means is the mean of β, for the random batch and the trousers alike",
        np.allclose(modes["channel means, training=True"], c["beta_mean"], atol=1e-3),
        means=modes["channel means, training=True"],
        beta=c["beta_mean"],
    )

    # the shipped seed sweep: the same in every profile
    sweep = c.sweep("batch_norm")
    baseline, bn, momentum = (
        f"baseline, lr {RATES[0]:g}",
        f"BN, lr {RATES[0]:g}",
        f"BN momentum 0.9, lr {RATES[0]:g}",
    )
    for a, b in [(bn, baseline), (momentum, baseline), (momentum, bn)]:
        c.claim(
            f"at Adam's usual learning rate, {a} and {b} cannot be told apart over five seeds",
            sweep.compare(a, b)["verdict"] == "no clear difference",
            comparison=sweep.compare(a, b),
        )
    spread = sweep.summary()["highest"] - sweep.summary()["lowest"]
    c.claim(
        "at the usual learning rate batch normalization's range over the seeds is several "
        "times wider than the baseline's",
        spread[bn] > 3 * spread[baseline],
        bn=spread[bn],
        baseline=spread[baseline],
    )
    curves = sweep.curves
    accuracy = curves.pivot_table(index=["seed", "epoch"], columns="variant", values="accuracy")
    c.claim(
        "the five seeds confirm that training accuracy is higher with batch normalization at "
        "every epoch",
        (accuracy[bn] > accuracy[baseline]).all(),
        difference=(accuracy[bn] - accuracy[baseline]).min(),
    )
    first = curves[curves["epoch"] == 1].pivot(
        index="seed", columns="variant", values="val_accuracy"
    )
    c.claim(
        "after the first epoch batch normalization at the default momentum is below the "
        "baseline in every seed",
        first[bn].max() < first[baseline].min(),
        bn=first[bn],
        baseline=first[baseline],
    )
    c.claim(
        "after the first epoch the model with momentum 0.9 is above the default momentum in "
        "every seed",
        first[momentum].min() > first[bn].max(),
        momentum=first[momentum],
        bn=first[bn],
    )
    for rate in RATES[1:]:
        a, b = f"BN, lr {rate:g}", f"baseline, lr {rate:g}"
        c.claim(
            f"at the learning rate {rate:g} the baseline and batch normalization cannot be "
            "told apart",
            sweep.compare(a, b)["verdict"] == "no clear difference",
            comparison=sweep.compare(a, b),
        )
    collapsed = seeds_at_chance(sweep, RATES[-1])
    c.claim(
        "at a hundred times the usual rate both models collapsed to chance in some seeds, "
        "batch normalization less often",
        collapsed["baseline"] > collapsed["BN"] >= 1,
        collapsed=collapsed,
    )
    chosen = sweep.summary("val_accuracy")["mean"].idxmax()
    rivals = [f"{model}, lr {lr:g}" for model in ("baseline", "BN") for lr in RATES[:2]]
    c.claim(
        "the model with the best mean validation accuracy is not clearly better than the other "
        "models at the two lower learning rates",
        all(
            sweep.compare(chosen, r)["verdict"] == "no clear difference"
            for r in rivals
            if r != chosen
        ),
        chosen=chosen,
    )

    training_curves = curves.pivot_table(
        index=["seed", "epoch"], columns="variant", values="accuracy"
    )
    ahead = {
        rate: (training_curves[f"BN, lr {rate:g}"] > training_curves[f"baseline, lr {rate:g}"])
        .groupby(level="epoch")
        .sum()
        for rate in RATES[:2]
    }
    c.claim(
        "training accuracy is higher with batch normalization in every seed and every epoch at "
        "the usual rate, and lower after the first epoch in most seeds at ten times that rate",
        (ahead[RATES[0]] == len(sweep.seeds)).all()
        and ahead[RATES[1]].iloc[0] < len(sweep.seeds) / 2,
        ahead=ahead,
    )
    by_epoch = curves.pivot_table(index="seed", columns=["variant", "epoch"], values="val_accuracy")
    early = {
        e: comparisons.paired(by_epoch[momentum][e], by_epoch[baseline][e]).verdict
        for e in range(1, sweep.settings["epochs"] + 1)
    }
    c.claim(
        "with momentum 0.9 batch normalization is clearly above the baseline after the first and "
        "the second epoch, and not after the last",
        early[1] == early[2] == "higher"
        and early[sweep.settings["epochs"]] == "no clear difference",
        verdicts=early,
    )
    top = sweep.values(f"baseline, lr {RATES[-1]:g}"), sweep.values(f"BN, lr {RATES[-1]:g}")
    c.claim(
        "at the highest rate the seeds either collapsed or trained: each variant's mean lies "
        "at least 0.1 away from every one of its seeds",
        all(np.abs(v - v.mean()).min() >= 0.1 for v in top if (v < CHANCE).any()),
        values=top,
    )
    train_at_inference = sweep.runs.pivot(index="seed", columns="variant", values="train_accuracy")
    lower = sorted(
        int(s)
        for s in sweep.seeds
        if train_at_inference.loc[s, bn] < train_at_inference.loc[s, baseline]
    )
    c.claim(
        "only in seed 0 of the sweep did the model with batch normalization score lower than the "
        "baseline on its own training images at inference",
        lower == [0] and list(c["lower_in"]) == [0],
        lower=lower,
        recorded=c["lower_in"],
    )

    if c.full:  # the book's settings: this run's numbers
        c.claim(
            "this run used the book's settings, which the shipped runs measured", c["same_settings"]
        )
        table = c["table"]
        baseline_lr, bn_lr = c["usual"]
        faster = c["training_accuracy"]
        c.claim(
            "training accuracy is higher with batch normalization at every epoch",
            (faster[bn_lr] > faster[baseline_lr]).all(),
            bn=faster[bn_lr],
            baseline=faster[baseline_lr],
        )
        val = c["validation_accuracy"]
        c.claim(
            "with batch normalization validation accuracy starts far lower, and after the last "
            "epoch it is not better than the baseline's",
            val[bn_lr].iloc[0] < val[baseline_lr].iloc[0] - 0.1
            and val[bn_lr].iloc[-1] <= val[baseline_lr].iloc[-1],
            bn=val[bn_lr],
            baseline=val[baseline_lr],
        )
        baseline_top, bn_top = c["highest"]
        c.claim(
            "in this run, at the highest rate, the baseline collapsed to chance",
            table.loc[baseline_top, "validation accuracy"] < 0.2,
            baseline=table.loc[baseline_top, "validation accuracy"],
        )
        c.claim(
            "in this run, at the highest rate, the model with batch normalization still trained",
            table.loc[bn_top, "validation accuracy"] > 0.6,
            bn=table.loc[bn_top, "validation accuracy"],
        )
        dead, sizes = c["dead"], c["sizes"]
        c.claim(
            "the baseline at the highest rate lost every unit, in both blocks and the dense layer",
            dead[baseline_top] == sizes[baseline_top],
            dead=dead[baseline_top],
            sizes=sizes[baseline_top],
        )
        alive = {b: sizes[bn_top][b] - dead[bn_top][b] for b in BLOCKS}
        c.claim(
            "the model with batch normalization lost some of the first block's channels, nearly "
            "all of the second block's and most of the dense layer's, but kept some in each",
            all(n > 0 for n in alive.values())
            and dead[bn_top]["block 1"] > 0
            and alive["block 2"] < sizes[bn_top]["block 2"] / 4
            and alive["dense"] < sizes[bn_top]["dense"] / 2,
            alive=alive,
            sizes=sizes[bn_top],
        )
        measured = c["measured"]
        c.claim(
            "the moving means are close to the measured means",
            (measured["moving mean"] - measured["measured mean"]).abs().max() < 0.1,
            largest=(measured["moving mean"] - measured["measured mean"]).abs().max(),
        )
        modes = c["modes"]
        typical, trousers = modes.index
        c.claim(
            "the two modes differ more for the batch of trousers than for a typical batch",
            modes.loc[trousers, "mean |difference|"] > modes.loc[typical, "mean |difference|"],
            difference=modes["mean |difference|"],
        )
        bias = c["bias"]
        error = (bias["predicted moving variance"] - bias["recorded moving variance"]).abs()
        c.claim(
            "the formula predicts the recorded moving variance closely, epoch by epoch",
            (error / bias["recorded moving variance"] < 0.15).all(),
            relative_error=error / bias["recorded moving variance"],
        )
        ratio = bias["recorded / real"]
        c.claim(
            "after the first epoch the moving variance is tens of times the real one, and the "
            "ratio then shrinks towards 1",
            ratio.iloc[0] > 10 and ratio.is_monotonic_decreasing,
            ratio=ratio,
        )
        per_epoch = c["momentum_per_epoch"]
        _, bn_name, momentum_name = c["compared"]
        c.claim(
            "with momentum 0.9 practically nothing of the start is left after one epoch, and the "
            "first epoch's validation accuracy is higher than at the default momentum",
            per_epoch[momentum_name].iloc[0] > per_epoch[bn_name].iloc[0],
            momentum=per_epoch[momentum_name].iloc[0],
            default=per_epoch[bn_name].iloc[0],
        )
        recal = c["recalibration"]
        before, after = "BN, moving statistics from training", "BN, statistics recomputed"
        for images in ("training images", "validation images"):
            c.claim(
                f"with statistics recomputed the model with batch normalization gains accuracy "
                f"on the {images}",
                recal.loc[after, images] > recal.loc[before, images] + 0.02,
                before=recal.loc[before, images],
                after=recal.loc[after, images],
            )
        c.claim(
            "at inference, with the moving statistics, the model with batch normalization scores "
            "lower on its own training images than the baseline",
            recal.loc[before, "training images"] < recal.loc[baseline_lr, "training images"]
            and table.loc[bn_lr, "train accuracy"] < table.loc[baseline_lr, "train accuracy"],
            recalibration=recal["training images"],
            table=table["train accuracy"],
        )
        c.claim(
            "the momentum changes only the moving averages: the two models trained the same weights",
            c["same_weights"] < 1e-6,
            largest_difference=c["same_weights"],
        )
        fix = c["by_epoch_fix"]
        default, short, recomputed, ratio = fix.columns
        c.claim(
            "in the first epochs the default momentum costs tens of points at first, while "
            "momentum 0.9 scores about what the recomputed statistics score",
            fix[recomputed].iloc[0] - fix[default].iloc[0] > 0.2
            and (fix[short] - fix[recomputed]).iloc[:3].abs().max() < 0.01,
            fix=fix,
        )
        c.claim(
            "the ratio of moving to real variance falls towards 1, and is close to 1 at the last epoch",
            fix[ratio].is_monotonic_decreasing and fix[ratio].iloc[-1] < 1.3,
            ratio=fix[ratio],
        )
        c.claim(
            "at the last epoch both momenta score below the recomputed statistics",
            fix[default].iloc[-1] < fix[recomputed].iloc[-1] - 0.02
            and fix[short].iloc[-1] < fix[recomputed].iloc[-1] - 0.01,
            last=fix.iloc[-1],
        )
        val = fix[default]
        c.claim(
            "in this run the validation accuracy fell at the last epoch while the variance ratio "
            "kept shrinking; scored with recomputed statistics, the weights lost much less",
            val.iloc[-1] < val.iloc[-2]
            and fix[ratio].iloc[-1] < fix[ratio].iloc[-2]
            and fix[recomputed].iloc[-2] - fix[recomputed].iloc[-1]
            < 0.5 * (val.iloc[-2] - val.iloc[-1]),
            fix=fix,
        )
