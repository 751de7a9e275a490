"""What notebook 04's text says about its numbers (helpers.claims records them)."""

import numpy as np

EDGE_KINDS = ("vertical edge", "horizontal edge", "diagonal edge")


def check(c):
    # The layers and the feature extractor: the same with any settings.
    c.claim(
        "the convolution and pooling layers of the baseline are conv1, pool1, conv2 and pool2",
        c["feature_layer_names"] == ["conv1", "pool1", "conv2", "pool2"],
        layers=c["feature_layer_names"],
    )
    c.claim(
        "conv1 has 32 filters, each a single 3 × 3 kernel: shape (3, 3, 1, 32)",
        c["conv1_kernels_shape"] == (3, 3, 1, 32),
        shape=c["conv1_kernels_shape"],
    )
    c.claim(
        "each of conv2's 32 filters has one 3 × 3 kernel per input channel, 32 in all",
        c["conv2_kernels_shape"] == (3, 3, 32, 32),
        shape=c["conv2_kernels_shape"],
    )
    c.claim("the extractor uses the model's own layers", c["own_layers"])
    maps = c["map_table"]
    shapes = [tuple(s) for s in maps["output shape"]]
    c.claim(
        "the maps' height and width shrink at every layer, while the number of channels stays "
        "the number of filters (32)",
        shapes == [(26, 26, 32), (13, 13, 32), (11, 11, 32), (5, 5, 32)]
        and maps["values"].tolist() == [int(np.prod(s)) for s in shapes],
        shapes=shapes,
    )
    c.claim(
        "models.feature_extractor and models.layer_outputs give the maps of the extractor "
        "written in the notebook, for every layer",
        c["helpers_same_maps"],
    )
    selectivity = c["selectivity"]
    c.claim(
        "the filter followed is the most selective one: the largest mean peak on the class "
        "minus the mean peak on the other classes",
        c["filter_index"] == int(selectivity["selectivity"].idxmax()),
        filter_index=c["filter_index"],
        most_selective=int(selectivity["selectivity"].idxmax()),
    )

    if c.full:  # the trained baseline of the book's settings
        kinds = c["kinds"]
        counts = kinds["kind"].value_counts()
        edge_kinds = [k for k in counts.index if k.startswith(EDGE_KINDS)]
        patches = [k for k in counts.index if k.endswith(("(background)", "(garment)"))]
        c.claim(
            "conv1 learned edge detectors in different orientations, mixed patterns, and mostly "
            "negative or positive kernels that detect background or garment",
            len({k.split(",")[0] for k in edge_kinds}) >= 2
            and "mixed pattern" in counts.index
            and len(patches) >= 1,
            kinds=counts,
        )
        c.claim(
            "the kernel printed as the closest to an ideal edge matches one (similarity of at "
            "least 0.7)",
            kinds.loc[c["clearest"], "kind"].startswith(EDGE_KINDS),
            clearest=c["clearest"],
            kind=kinds.loc[c["clearest"], "kind"],
        )
        mixed = kinds.loc[kinds["kind"] == "mixed pattern", "balance"]
        c.claim(
            "the most common kind, the first row of the table, is the mixed pattern, whose "
            "median balance is near 0: most of them have a balance near 0, like edge kernels",
            counts.index[0] == "mixed pattern"
            and counts.iloc[0] > counts.iloc[1]
            and abs(mixed.median()) < 0.1
            and (mixed.abs() < 0.2).mean() > 0.5,
            kinds=counts,
            median_balance=mixed.median(),
            share_within_0_2=(mixed.abs() < 0.2).mean(),
        )
        negative = kinds.index[kinds["kind"] == "mostly negative (background)"].tolist()
        kernels = np.asarray(c["conv1_kernels"])[:, :, 0, :]
        strong = [f for f in range(kernels.shape[-1]) if (kernels[:, :, f] <= -0.5).sum() >= 2]
        c.claim(
            "the grid shows a few kernels with a strong dark-blue stripe or block (two weights "
            "of -0.5 or less): they are the mostly negative kernels",
            1 <= len(negative) <= 8 and strong == negative,
            mostly_negative=negative,
            with_two_weights_of_minus_half_or_less=strong,
        )
        biases = np.asarray(c["conv1_biases"])[negative]
        c.claim(
            "the mostly negative kernels have a positive bias: background detectors",
            len(negative) > 0 and (biases > 0).all(),
            biases=biases,
        )
        sizes = c["mean_absolute_weight"]
        c.claim(
            "the kernels' weights grew in training",
            sizes["after"] > sizes["before"] and kinds["growth"].median() > 1,
            mean_absolute_weight=sizes,
            median_growth=kinds["growth"].median(),
        )
        by_kind = kinds.groupby("kind")[["similarity to start", "growth"]].median()
        c.claim(
            "the kind of kernel that grew most is the one that changed its pattern most",
            by_kind["growth"].idxmax() == by_kind["similarity to start"].idxmin(),
            medians=by_kind.to_dict("index"),
        )
        growth = by_kind["growth"].sort_values()
        c.claim(
            "with the default settings the kind that grew most is the mostly negative kernels, "
            "the background detectors, which grew far more (at least twice as much) than any "
            "other kind",
            growth.index[-1] == "mostly negative (background)"
            and growth.iloc[-1] >= 2 * growth.iloc[-2],
            median_growth=growth,
        )
        kept = (kinds["similarity to start"] >= 0.8).mean()
        c.claim(
            "training mostly strengthened the pattern of each random starting kernel: most "
            "kernels keep a similarity of at least 0.8 to their start",
            kept > 0.5,
            share_kept=kept,
        )
        zeros = maps["share of zeros"]
        c.claim(
            "a large share of the feature maps' values is exactly zero, in every layer",
            (zeros > 0.25).all(),
            share_of_zeros=zeros.tolist(),
        )
        chosen = selectivity.loc[c["filter_index"]]
        others = chosen["mean peak on the other classes"]
        peaks = c["class_peaks"]
        c.claim(
            "the chosen filter responds more strongly to every one of the three test images "
            "of the class than it does, on average, to the other classes",
            chosen["selectivity"] > 0 and (peaks > others).all(),
            peaks=peaks.tolist(),
            mean_on_other_classes=others,
        )
        strongest = c["strongest_channels"]
        c.claim(
            "by the second layer the two garments' strongest channels differ",
            any(strongest[name][0] != strongest[name][1] for name in ("conv2", "pool2")),
            strongest_channels=strongest,
        )
