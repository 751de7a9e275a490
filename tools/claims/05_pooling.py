"""What notebook 05's text says about its numbers (helpers.claims records them)."""

import pandas as pd


def _shifts(sweep):
    """The shifts (in pixels) the sweep measured the validation accuracy at."""
    prefix = "val_accuracy_shift_"
    return sorted(int(c[len(prefix) :]) for c in sweep.runs.columns if c.startswith(prefix))


def _drop(sweep, shift):
    """Per seed and variant: the validation accuracy a shift of `shift` pixels costs."""
    return pd.DataFrame(
        {
            v: sweep.values(v, "val_accuracy") - sweep.values(v, f"val_accuracy_shift_{shift}")
            for v in sweep.variants
        }
    )


def _seconds(table):
    """The table's seconds per epoch ("23.4 s") as numbers, per variant."""
    return table["s/epoch"].map(lambda text: float(str(text).split()[0]))


def check(c):
    # with any settings: pooling by hand, the models' sizes
    c.claim("Keras' MaxPooling2D computes the same thing as the loop", c["keras_max_is_ours"])
    c.claim(
        "Keras' AveragePooling2D computes the same thing as the loop", c["keras_average_is_ours"]
    )
    c.claim("max and average pooling start from exactly the same weights", c["same_start"])
    a = c["architecture"]
    params = a["total parameters"]
    c.claim(
        "without down-sampling the model has many times (over ten times) the baseline's parameters",
        params["none"] > 10 * params["max"],
        none=params["none"],
        max=params["max"],
    )
    dense = a["Dense parameters"]
    c.claim(
        "without down-sampling the Dense layer has over twenty times the baseline's parameters",
        dense["none"] > 20 * dense["max"],
        none=dense["none"],
        max=dense["max"],
    )
    c.claim(
        "max and average pooling have exactly the same parameters",
        params["max"] == params["average"],
        max=params["max"],
        average=params["average"],
    )
    c.claim(
        "the strided variant reaches Flatten with slightly larger maps than the baseline, "
        "so its Dense layer is somewhat larger",
        a.loc["strided", "Flatten length"] > a.loc["max", "Flatten length"]
        and a.loc["strided", "Dense parameters"] > a.loc["max", "Dense parameters"]
        and a.loc["strided", "total parameters"] < 2 * a.loc["max", "total parameters"],
        strided=a.loc["strided"].to_dict(),
        max=a.loc["max"].to_dict(),
    )
    positions = c["positions"]
    c.claim(
        "without pooling, the second convolution is computed at several times as many "
        "positions as with it",
        positions["none"] >= 3 * positions["max"],
        positions=positions,
    )

    # the shipped sweep (the same in every profile)
    from helpers import comparisons

    c.claim(
        "the course's rule needs at least three seeds and a mean difference of at least "
        "0.2 points, 12 of the 6,000 validation images",
        comparisons.MIN_SEEDS == 3
        and comparisons.SMALLEST_DIFFERENCE == 0.002
        and round(comparisons.SMALLEST_DIFFERENCE * 6000) == 12,
        min_seeds=comparisons.MIN_SEEDS,
        smallest=comparisons.SMALLEST_DIFFERENCE,
    )
    sweep = c.sweep("pooling")
    for other in ("max", "average", "strided"):
        comparison = sweep.compare("none", other)
        c.claim(
            f"over five seeds, no down-sampling is clearly more accurate than {other}, "
            "and higher in every seed",
            comparison["verdict"] == "higher" and comparison["higher in"] == comparison["seeds"],
            comparison=comparison,
        )
    comparison = sweep.compare("average", "max")
    c.claim(
        "over five seeds, average pooling is clearly below max pooling in every seed: by 1.2 "
        "points on average, from 0.4 to 1.6 points seed by seed",
        comparison["verdict"] == "lower"
        and comparison["higher in"] == 0
        and round(-100 * comparison["mean difference"], 1) == 1.2
        and round(-100 * comparison["highest difference"], 1) == 0.4
        and round(-100 * comparison["lowest difference"], 1) == 1.6,
        comparison=comparison,
    )
    comparison = sweep.compare("strided", "max")
    c.claim(
        "over five seeds, the strided convolution and max pooling are not told apart: the "
        "strided one is higher in some seeds and lower in others",
        comparison["verdict"] == "no clear difference"
        and 0 < comparison["higher in"] < comparison["seeds"],
        comparison=comparison,
    )
    gaps = sweep.runs.pivot(index="seed", columns="variant", values="gap")
    c.claim(
        "no down-sampling has the largest gap between training and validation accuracy in every seed",
        (gaps.idxmax(axis=1) == "none").all(),
        largest=gaps.idxmax(axis=1).to_dict(),
    )
    curves = sweep.curves[sweep.curves["variant"] == "none"].sort_values(["seed", "epoch"])
    falling = curves.groupby("seed")["val_loss"].apply(
        lambda loss: bool((loss.diff().dropna() < 0).all())
    )
    c.claim(
        "without down-sampling the validation loss falls in every epoch of every seed",
        len(falling) == len(sweep.seeds) and falling.all(),
        falling=falling.to_dict(),
    )
    shifts = _shifts(sweep)
    one, far = _drop(sweep, 1), _drop(sweep, shifts[-1])
    c.claim(
        "a shift of one pixel costs every variant some accuracy, in every seed",
        (one.min() > 0).all(),
        smallest=one.min(),
    )
    c.claim(
        f"a shift of {shifts[-1]} pixels costs every variant a large share (over 25 points) "
        "of its accuracy, in every seed",
        (far.min() > 0.25).all(),
        smallest=far.min(),
    )
    c.claim(
        f"at {shifts[-1]} pixels max pooling loses the least on average",
        far.mean().idxmin() == "max",
        mean=far.mean(),
    )

    def max_against(shift, other):
        drops = _drop(sweep, shift)
        return comparisons.paired(drops["max"], drops[other]).verdict

    others = ("average", "strided", "none")
    later = {(s, o): max_against(s, o) for s in shifts if s >= 2 for o in others}
    c.claim(
        "from 2 pixels on, max pooling loses clearly less than every other variant, seed by seed",
        len(later) > 0 and all(v == "lower" for v in later.values()),
        verdicts=later,
    )
    first = {o: max_against(1, o) for o in others}
    c.claim(
        "at 1 pixel max pooling loses clearly less than the strided convolution only, and is "
        "not told apart from average pooling or from no down-sampling",
        first
        == {"average": "no clear difference", "strided": "lower", "none": "no clear difference"},
        verdicts=first,
    )
    best = sweep.summary("val_accuracy")["mean"].idxmax()
    c.claim(
        "the variant the sweep ranks first by its mean validation accuracy is the one "
        "without down-sampling, and the notebook tests it",
        best == "none" and c["chosen"] == "none",
        ranked_first=best,
        chosen=c["chosen"],
    )

    if c.full:  # the book's settings: this run's numbers
        c.claim(
            "this run used the book's settings, which the shipped runs measured", c["same_settings"]
        )
        t = c["table"]
        c.claim(
            "in this run no down-sampling has the most parameters, the highest validation "
            "accuracy and the largest gap",
            t["parameters"].idxmax() == "none"
            and t["validation accuracy"].idxmax() == "none"
            and t["gap (train − validation)"].idxmax() == "none",
            table=t[["parameters", "validation accuracy", "gap (train − validation)"]],
        )
        c.claim(
            "in this run max pooling has a higher validation accuracy than average pooling",
            t.loc["max", "validation accuracy"] > t.loc["average", "validation accuracy"],
            max=t.loc["max", "validation accuracy"],
            average=t.loc["average", "validation accuracy"],
        )
        seconds = _seconds(t)
        c.claim(
            "in this run no down-sampling has the longest epochs, clearly longer (over 1.5 "
            "times) than max pooling's, and the strided convolution the shortest",
            seconds.idxmax() == "none"
            and seconds["none"] > 1.5 * seconds["max"]
            and seconds.idxmin() == "strided",
            seconds=seconds,
        )
        val_loss = c["val_loss"]["none"].dropna()
        c.claim(
            "in this run the validation loss without down-sampling falls in every epoch",
            bool((val_loss.diff().dropna() < 0).all()),
            val_loss=val_loss.to_list(),
        )
        peaks = c["peaks"]
        c.claim(
            "max pooling keeps the boot's highest value, and each round of average pooling "
            "lowers it",
            peaks["max pooled 14 × 14"] == peaks["max pooled 7 × 7"] == peaks["original 28 × 28"]
            and peaks["original 28 × 28"]
            > peaks["average pooled 14 × 14"]
            > peaks["average pooled 7 × 7"],
            peaks=peaks,
        )
        s = c["shift_table"]
        lost = s.iloc[0] - s
        c.claim(
            "in this run a shift of one pixel already costs every variant some accuracy, and "
            "a shift of MAX_SHIFT pixels a large share (over 25 points) of it",
            (lost.iloc[1] > 0).all() and (lost.iloc[-1] > 0.25).all(),
            one_pixel=lost.iloc[1],
            max_shift=lost.iloc[-1],
        )
        c.claim(
            "the strip a shift of MAX_SHIFT pixels pushes out of the frame holds only a small "
            "share (under 10%) of the garments' ink (the sum of their pixel values)",
            c["ink_lost"] < 0.1,
            ink_lost=c["ink_lost"],
        )
        causes = c["causes"]
        c.claim(
            "most of the drop on shifted images comes from the move (lack of invariance), "
            "not from the content cut off, for every variant",
            (causes["lack of invariance"] > causes["lost content"]).all(),
            lack_of_invariance=causes["lack of invariance"],
            lost_content=causes["lost content"],
        )
        c.claim(
            "the chosen variant's test accuracy, measured once, is at least 85%",
            c["test_accuracy"] >= 0.85,
            test_accuracy=c["test_accuracy"],
        )
