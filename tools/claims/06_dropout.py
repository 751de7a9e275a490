"""What notebook 06's text says about its numbers (helpers.claims records them)."""

PLACEMENTS = ["no dropout", "dense 0.5", "conv 0.5", "conv+dense 0.5"]


def check(c):
    # with any settings: the notebook's early stopping is the one the shipped runs used
    from helpers import sweeps

    (shipped,) = sweeps.early_stopping()
    ours = c["early_stopping"]
    c.claim(
        "early stopping watches the validation loss, stops when it has not improved for 3 "
        "epochs and restores the best epoch's weights, as in the shipped runs",
        ours == {"monitor": "val_loss", "patience": 3, "restore_best_weights": True}
        and (shipped.monitor, shipped.patience, shipped.restore_best_weights)
        == (ours["monitor"], ours["patience"], ours["restore_best_weights"]),
        ours=ours,
        shipped=(shipped.monitor, shipped.patience, shipped.restore_best_weights),
    )

    # the shipped sweep (the same in every profile)
    sweep = c.sweep("dropout")

    def compare(a, b, metric):
        return sweep.compare(a, b, metric)

    others = [v for v in sweep.variants if v != "no dropout"]
    train = sweep.values("no dropout", "train_accuracy")
    c.claim(
        "without dropout the model nearly memorizes its training images (above 95% training "
        "accuracy in every seed)",
        train.min() > 0.95,
        train_accuracy=train,
    )
    gaps = sweep.runs.pivot(index="seed", columns="variant", values="gap")
    c.claim(
        "without dropout the gap between training and validation accuracy is the largest, in every seed",
        (gaps.idxmax(axis=1) == "no dropout").all(),
        largest=gaps.idxmax(axis=1).to_dict(),
    )
    curves = sweep.curves[sweep.curves["variant"] == "no dropout"].groupby("seed")["val_loss"]
    c.claim(
        "without dropout the validation loss rises again after its minimum (by over 0.1), in every seed",
        (curves.last() > curves.min() + 0.1).all(),
        last=curves.last(),
        lowest=curves.min(),
    )
    baseline_curves = sweep.curves[sweep.curves["variant"] == "no dropout"]
    by_seed = baseline_curves.set_index("epoch").groupby("seed")
    lowest_loss = by_seed["val_loss"].idxmin()
    best_accuracy = by_seed["val_accuracy"].idxmax()
    c.claim(
        "without dropout the validation accuracy peaks several epochs (3 or more) after the "
        "lowest validation loss, in most seeds",
        (best_accuracy - lowest_loss >= 3).sum() > len(sweep.seeds) / 2,
        lowest_loss=lowest_loss.to_dict(),
        best_accuracy=best_accuracy.to_dict(),
    )
    at_lowest = by_seed.apply(lambda run: run["val_accuracy"][run["val_loss"].idxmin()])
    last = by_seed["val_accuracy"].last()
    c.claim(
        "without dropout the validation accuracy after the last epoch is within a point of "
        "its value at the lowest validation loss, in every seed",
        ((last - at_lowest).abs() < 0.01).all(),
        last=last.to_dict(),
        at_lowest_loss=at_lowest.to_dict(),
    )
    above = sweep.curves.assign(above=sweep.curves["val_accuracy"] > sweep.curves["accuracy"])
    baseline_above = above[above["variant"] == "no dropout"]
    c.claim(
        "without dropout too, validation accuracy is above training accuracy in the first "
        "epoch, and training accuracy overtakes within a few epochs, in every seed",
        baseline_above[baseline_above["epoch"] == 1]["above"].all()
        and baseline_above[baseline_above["epoch"] > 5]["above"].sum() == 0,
        last_epoch_above=baseline_above[baseline_above["above"]].groupby("seed")["epoch"].max(),
    )
    heavy = above[above["variant"] == "conv+dense 0.5"]
    c.claim(
        "with dropout in all three places at 0.5, validation accuracy stays above training "
        "accuracy at every epoch, in every seed",
        heavy["above"].all(),
        epochs_below=int((~heavy["above"]).sum()),
    )
    narrower = {v: compare(v, "no dropout", "gap")["verdict"] for v in others}
    c.claim(
        "every method narrows the gap clearly: its widest gap is below the narrowest without dropout",
        all(verdict == "lower" for verdict in narrower.values()),
        verdicts=narrower,
    )
    comparison = compare("conv 0.5", "dense 0.5", "gap")
    c.claim(
        "at the rate 0.5, dropout after the convolutional blocks narrows the gap clearly more "
        "than after the dense layer",
        comparison["verdict"] == "lower",
        comparison=comparison,
    )
    comparison = compare("conv+dense 0.5", "conv 0.5", "gap")
    c.claim(
        "at the rate 0.5, dropout in all three places narrows the gap clearly more than after "
        "the blocks only",
        comparison["verdict"] == "lower",
        comparison=comparison,
    )
    alone = PLACEMENTS[:3]  # no dropout, and one place at 0.5
    apart = {
        f"{a} vs {b}": compare(a, b, "val_accuracy")["verdict"]
        for i, a in enumerate(alone)
        for b in alone[i + 1 :]
    }
    c.claim(
        "in validation accuracy, dropout after the dense layer only, after the blocks only, "
        "and no dropout are not told apart",
        all(verdict == "no clear difference" for verdict in apart.values()),
        verdicts=apart,
    )
    behind = {v: compare("conv+dense 0.5", v, "val_accuracy") for v in alone}
    overlap = {v: sweep.values("conv+dense 0.5").max() >= sweep.values(v).min() for v in alone}
    c.claim(
        "dropout in all three places at 0.5 is clearly lower in validation accuracy than each "
        "of them, in every seed, though their ranges overlap",
        all(b["verdict"] == "lower" and b["higher in"] == 0 for b in behind.values())
        and all(overlap.values()),
        comparisons=behind,
        overlap=overlap,
    )
    comparison = compare("conv+dense 0.2", "conv+dense 0.5", "val_accuracy")
    c.claim(
        "in all three places, the rate 0.2 beats 0.5 clearly",
        comparison["verdict"] == "higher",
        comparison=comparison,
    )
    beat = [v for v in others if compare(v, "no dropout", "val_accuracy")["verdict"] == "higher"]
    comparison = compare("conv+dense 0.2", "no dropout", "val_accuracy")
    c.claim(
        "conv+dense 0.2 is the only setting that beats no dropout clearly, by about a point",
        beat == ["conv+dense 0.2"] and 0.005 <= comparison["mean difference"] <= 0.02,
        beat_no_dropout=beat,
        comparison=comparison,
    )
    comparison = compare("conv+dense 0.5", "conv+dense 0.2", "gap")
    mean_gap = sweep.summary("gap")["mean"]
    c.claim(
        "at 0.5 in all three places the model has the smallest gap, clearly smaller than at 0.2",
        comparison["verdict"] == "lower" and mean_gap.idxmin() == "conv+dense 0.5",
        comparison=comparison,
        mean_gap=mean_gap,
    )
    train_mean = sweep.summary("train_accuracy")["mean"]
    c.claim(
        "at 0.5 in all three places the model underfits, with the lowest training accuracy of all",
        train_mean.idxmin() == "conv+dense 0.5",
        train_accuracy=train_mean,
    )
    for method in ("weight decay 1e-3", "early stopping"):
        comparison = compare(method, "no dropout", "val_accuracy")
        c.claim(
            f"{method} does not change validation accuracy clearly",
            comparison["verdict"] == "no clear difference",
            comparison=comparison,
        )
    trained = sweep.runs.loc[sweep.runs["variant"] == "early stopping", "epochs_trained"]
    c.claim(
        "early stopping ends after fewer than the sweep's epochs in every seed",
        (trained < sweep.settings["epochs"]).all(),
        epochs_trained=trained.to_list(),
        epochs=sweep.settings["epochs"],
    )
    best = sweep.summary("val_accuracy")["mean"].idxmax()
    c.claim(
        "the setting with the best mean validation accuracy over the seeds is conv+dense 0.2, "
        "and the notebook tests it",
        best == "conv+dense 0.2" and c["chosen"] == "conv+dense 0.2",
        best=best,
        chosen=c["chosen"],
    )

    if c.full:  # the book's settings: this run's numbers
        c.claim(
            "this run used the book's settings, which the shipped runs measured", c["same_settings"]
        )
        t = c["table"]
        gap = t["gap (train − validation)"]
        c.claim(
            "in this run the baseline without dropout overfits: the largest gap of all settings",
            gap.idxmax() == "no dropout",
            gap=gap,
        )
        loss = c["val_loss"]["no dropout"].dropna()
        c.claim(
            "in this run the baseline's validation loss reaches a minimum and then rises",
            loss.idxmin() < loss.index[-1] and loss.iloc[-1] > loss.min(),
            val_loss=loss.to_list(),
        )
        stopped, baseline = c["val_loss"]["early stopping"].dropna(), c["val_loss"]["no dropout"]
        c.claim(
            "the early-stopped run is the baseline with the same seed, up to where it stopped",
            (stopped == baseline.loc[stopped.index]).all(),
            early_stopping=stopped.to_list(),
            baseline=baseline.to_list(),
        )
        c.claim(
            "the early-stopped run stopped after its lowest validation loss, which is the "
            "baseline's",
            stopped.idxmin() == loss.idxmin() < stopped.index[-1],
            early_stopping=stopped.idxmin(),
            baseline=loss.idxmin(),
        )
        accuracy = t["validation accuracy"]
        c.claim(
            "after all the epochs the baseline gets about as many validation images wrong as at "
            "its lowest validation loss (validation accuracies within a point)",
            abs(accuracy["no dropout"] - accuracy["early stopping"]) < 0.01,
            after_all_epochs=accuracy["no dropout"],
            at_lowest_loss=accuracy["early stopping"],
        )
        mistakes = c["mistakes"]
        early, late = mistakes["at its lowest validation loss"], mistakes["after all epochs"]
        c.claim(
            "after all the epochs the baseline is surer of its wrong answers than at its lowest "
            "validation loss",
            late["confidence"] > early["confidence"],
            mistakes=mistakes,
        )
