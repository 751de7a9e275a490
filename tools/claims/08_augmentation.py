"""What notebook 08's text says about its numbers (helpers.claims records them)."""

SHIFT = 4  # the largest shift the models train with and the shipped sweep measures
FAR = f"val_accuracy_shift_{SHIFT}"


def check(c):
    # with any settings (the tests' fast profile too): what the text teaches as always true
    for name, seen in c["random_layers"].items():
        c.claim(
            f"the {name} layer changes nothing at prediction time, changes the images in "
            "training, and has no weights",
            seen["unchanged"] and seen["changed"] and seen["weights"] == 0,
            **seen,
        )
    counts, square = c["erased_counts"], c["square"]
    c.claim(
        "a square wholly inside the image erases size × size positions, one over a border "
        "fewer, and every image loses some",
        counts.max() == square and counts.min() > 0,
        lowest=counts.min(),
        highest=counts.max(),
        square=square,
    )
    c.claim(
        "the helpers' Cutout erases the same squares as the notebook's Cutout", c["same_cutout"]
    )
    c.claim(
        "shifted by 4 pixels, a multiple of the total stride, the last feature maps before the "
        "average-pooling head move by one position, unchanged away from the border",
        c["stride_shift"],
    )

    # the shipped seed sweep: the same in every profile
    sweep = c.sweep("augmentation")

    def verdict(a, b, metric):
        return sweep.compare(a, b, metric)["verdict"]

    for text, (a, b, metric), expected in [
        (
            "on shifted images, shifts are clearly more accurate than none",
            ("shifts", "none", FAR),
            "higher",
        ),
        (
            "at 1 pixel, the baseline is not yet clearly behind shifts",
            ("shifts", "none", "val_accuracy_shift_1"),
            "no clear difference",
        ),
        (
            "on the images as they are, shifts are clearly less accurate than no augmentation",
            ("shifts", "none", "val_accuracy"),
            "lower",
        ),
        (
            "on the images as they are, shifts with erasing are not clearly less accurate than "
            "shifts by the course's rule",
            ("shifts + erasing", "shifts", "val_accuracy"),
            "no clear difference",
        ),
        (
            "on mirrored footwear, flips are clearly more accurate than the baseline",
            ("flips", "none", "val_flipped_footwear_accuracy"),
            "higher",
        ),
        (
            "on the images as they are, flips are clearly less accurate than no augmentation",
            ("flips", "none", "val_accuracy"),
            "lower",
        ),
        (
            "on shifted images, flips and no augmentation are not told apart",
            ("flips", "none", FAR),
            "no clear difference",
        ),
        (
            "the average-pooling head is clearly less accurate than the baseline on the images "
            "as they are",
            ("GAP head", "none", "val_accuracy"),
            "lower",
        ),
        (
            "the average-pooling head is clearly more accurate than the baseline on shifted images",
            ("GAP head", "none", FAR),
            "higher",
        ),
        (
            "the average-pooling head is clearly below the models trained with shifts on shifted "
            "images",
            ("GAP head", "shifts", FAR),
            "lower",
        ),
    ]:
        c.claim(
            f"over five seeds, {text}",
            verdict(a, b, metric) == expected,
            comparison=sweep.compare(a, b, metric),
        )
    erasing = sweep.compare("shifts + erasing", "shifts")
    c.claim(
        "over five seeds, on the images as they are, shifts with erasing are below shifts "
        "alone in every seed, by a tenth of a point to under 3 points",
        erasing["higher in"] == 0
        and -0.03 < erasing["lowest difference"]
        and erasing["highest difference"] <= -0.001,
        comparison=erasing,
    )
    flips = sweep.compare("flips", "none")
    c.claim(
        "over five seeds, flips cost under half a point on the images as they are, lower in "
        "all seeds but one",
        -0.005 < flips["mean difference"] < 0 and flips["higher in"] <= 1,
        comparison=flips,
    )
    drop = {v: sweep.values(v, "val_accuracy") - sweep.values(v, FAR) for v in sweep.variants}
    c.claim(
        "the average-pooling head loses less to a shift than the baseline, in every seed, but "
        "much more than the models trained with shifts",
        drop["shifts"].max() < drop["GAP head"].min() < drop["GAP head"].max() < drop["none"].min()
        and drop["shifts + erasing"].max() < drop["GAP head"].min(),
        drop={v: d.mean() for v, d in drop.items()},
    )
    c.claim(
        "the baseline is not overfitting yet after five epochs (a gap under 2 points in every seed)",
        (sweep.values("none", "gap") < 0.02).all(),
        gap=sweep.values("none", "gap"),
    )
    means = sweep.summary("val_accuracy")["mean"]
    c.claim(
        "the variant with the best mean validation accuracy is the one without augmentation",
        means.idxmax() == "none",
        means=means,
    )
    cost = means["none"] - means["shifts"]
    c.claim(
        "training with shifts cost a few points of accuracy on unchanged images",
        0.01 < cost < 0.06,
        cost=cost,
    )
    gap_cost = means["none"] - means["GAP head"]
    c.claim(
        "the average-pooling head cost about ten points on unchanged images",
        0.07 < gap_cost < 0.13,
        cost=gap_cost,
    )

    if c.full:  # the book's settings: this run's numbers
        c.claim(
            "this run used the book's settings, which the shipped runs measured", c["same_settings"]
        )
        table = c["table"]
        for augmented in ("shifts", "shifts + erasing"):
            for column in ("validation accuracy", "train accuracy"):
                c.claim(
                    f"the model trained with {augmented} has a lower {column} than the baseline",
                    table.loc[augmented, column] < table.loc["none", column],
                    augmented=table.loc[augmented, column],
                    none=table.loc["none", column],
                )
        c.claim(
            "the baseline's gap between training and validation accuracy is small",
            table.loc["none", "gap (train − validation)"] < 0.02,
            gap=table.loc["none", "gap (train − validation)"],
        )
        flips, none = (
            table.loc["flips", "validation accuracy"],
            table.loc["none", "validation accuracy"],
        )
        c.claim(
            "flips changed little on the images as they are",
            abs(flips - none) < 0.01,
            flips=flips,
            none=none,
        )
        c.claim(
            "the average-pooling head is far behind on the images as they are",
            table.loc["GAP head", "validation accuracy"] < none - 0.05,
            gap_head=table.loc["GAP head", "validation accuracy"],
            none=none,
        )
        shifts = c["shift_table"]
        lost = shifts.loc[0] - shifts.loc[c["max_shift"]]
        c.claim(
            "the two models trained with shifts lose little accuracy up to the largest shift",
            lost["shifts"] < 0.06 and lost["shifts + erasing"] < 0.06,
            lost=lost,
        )
        c.claim(
            "the baseline and the model trained with flips lose a large share",
            lost["none"] > 0.3 and lost["flips"] > 0.3,
            lost=lost,
        )
        c.claim(
            "the average-pooling head starts far lower and loses less than the baseline, but "
            "more than the models trained with shifts",
            lost["shifts"] < lost["GAP head"] < lost["none"]
            and shifts.loc[0, "GAP head"] < shifts.loc[0, "none"] - 0.05,
            lost=lost,
            unshifted=shifts.loc[0],
        )
        right_heavy = c["right_heavy"]
        c.claim(
            "the footwear is photographed facing the same way (over 90% more ink on one half)",
            min(right_heavy.values()) > 0.9,
            right_heavy=right_heavy,
        )
        c.claim(
            "nearly all sneakers and ankle boots are heavier on the right (over 98%), and most "
            "sandals, a smaller share than either (not always)",
            min(right_heavy["Sneaker"], right_heavy["Ankle boot"]) > 0.98
            and 0.5 < right_heavy["Sandal"] < min(right_heavy["Sneaker"], right_heavy["Ankle boot"])
            and right_heavy["Sandal"] < 1,
            right_heavy=right_heavy,
        )
        footwear = c["footwear"]
        none, flips = footwear.loc["none"], footwear.loc["flips"]
        c.claim(
            "mirrored, the baseline's shoes lose most of their accuracy",
            (none["mirrored"] < none["as photographed"] - 0.3).all(),
            none=none,
        )
        c.claim(
            "mirrored, the baseline's ankle boots lose nearly all of it",
            none.loc["Ankle boot", "mirrored"] < 0.1,
            ankle_boots=none.loc["Ankle boot", "mirrored"],
        )
        c.claim(
            "the model trained with flips recognizes mirrored shoes about as well as shoes "
            "facing left",
            ((flips["mirrored"] - flips["as photographed"]).abs() < 0.1).all(),
            flips=flips,
        )
        c.claim(
            "the model trained with flips is about as accurate as the baseline on the shoes as "
            "photographed",
            ((flips["as photographed"] - none["as photographed"]).abs() < 0.05).all(),
            flips=flips["as photographed"],
            none=none["as photographed"],
        )
        c.claim("the chosen variant is the one without augmentation", c["chosen"] == "none")
        test_accuracy = c["test_accuracy"]
        c.claim(
            "the chosen model's test accuracy is at least 87%",
            test_accuracy >= 0.87,
            test_accuracy=test_accuracy,
        )
        lost_on_test = test_accuracy - c["test_shifted"]
        c.claim(
            "on shifted test images the chosen model loses as much as on shifted validation "
            "images over the seeds",
            abs(lost_on_test - drop["none"].mean()) < 0.05,
            test=lost_on_test,
            validation=drop["none"].mean(),
        )
