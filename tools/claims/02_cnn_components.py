"""What notebook 02's text says about its numbers (helpers.claims records them)."""

import numpy as np

DEFAULT_IMAGE = 1  # the parameters cell's IMAGE_INDEX: the test image the prose describes


def _edge_sides(response):
    """For each row of ``response`` with a strong value: whether its first strong value is
    positive and whether its last one is negative (a quarter of the largest size is strong)."""
    strong = np.abs(response) > 0.25 * np.abs(response).max()
    rows = [(r[s][0] > 0, r[s][-1] < 0) for r, s in zip(response, strong, strict=True) if s.any()]
    return np.array(rows, dtype=bool).reshape(-1, 2)


def check(c):
    c.claim(
        "test image 7, the image the text suggests trying, is a shirt",
        c["test_image_7"] == "Shirt",
        test_image_7=c["test_image_7"],
    )

    # The arithmetic of the layers: the same with any settings.
    tiny = c["tiny_output"]
    c.claim(
        "the edge kernel's output on the 5 × 5 step is 3 × 3, non-zero exactly where the "
        "patch straddles the step from 0 to 1",
        tiny.shape == (3, 3) and (tiny[:, :2] != 0).all() and (tiny[:, 2] == 0).all(),
        output=tiny.tolist(),
    )
    differences = c["conv_differences"]
    c.claim(
        "our conv2d and keras.layers.Conv2D agree to about 1e-7, with stride 1 and stride 2",
        sorted(differences) == [1, 2] and max(differences.values()) < 1e-6,
        differences=differences,
    )
    sizes = c["sizes"]
    c.claim(
        "the formula, Keras and our conv2d agree on the output size in every case",
        (sizes["formula"] == sizes["Keras"]).all()
        and (sizes["formula"] == sizes["our conv2d"]).all(),
        sizes=sizes[["n", "k", "p", "s", "formula", "Keras", "our conv2d"]].to_dict("records"),
    )
    by_case = sizes.set_index(["n", "k", "p", "s"])
    c.claim(
        "the worked examples give 26 (n = 28, k = 3), 28 (with p = 1) and 13 (with s = 2), "
        "and the baseline's convolutions take 28 to 26 and 13 to 11",
        [
            by_case.loc[case, "formula"]
            for case in [(28, 3, 0, 1), (28, 3, 1, 1), (28, 3, 0, 2), (13, 3, 0, 1)]
        ]
        == [26, 28, 13, 11],
        formula=by_case["formula"].tolist(),
    )
    never = {key: list(value) for key, value in by_case["pixels never read"].items()}
    c.claim(
        "with stride 1 every pixel is read; with a 3 × 3 kernel, stride 2 and no padding the "
        "last pixel of each row and column is never read",
        all(not v for (n, k, p, s), v in never.items() if s == 1) and never[(28, 3, 0, 2)] == [28],
        pixels_never_read=never,
    )
    remainders = {(n, k, p, s): (n + 2 * p - k) % s for (n, k, p, s) in never}
    c.claim(
        "the rounding down leaves the remainder's positions at the far end of the padded input "
        "uncovered: image pixels only where they are not padding (no row has a stride larger "
        "than its kernel)",
        all(s <= k for (n, k, p, s) in never)
        and all(
            v == list(range(n - max(remainders[(n, k, p, s)] - p, 0) + 1, n + 1))
            for (n, k, p, s), v in never.items()
        ),
        remainders=remainders,
        pixels_never_read=never,
    )
    c.claim(
        "in the third row (3 × 3, stride 2, no padding) and in the fourth (5 × 5, stride 2, "
        "padding 2) the remainder is 1; in the fourth it falls on a padding zero, so every "
        "pixel is read",
        remainders[(28, 3, 0, 2)] == remainders[(28, 5, 2, 2)] == 1 and never[(28, 5, 2, 2)] == [],
        remainders=remainders,
        fourth_row=never[(28, 5, 2, 2)],
    )
    same = c["same_padding"]
    fits = same["zeros (before, after) that fit"]
    c.claim(
        "padding='same' gives ⌈n / s⌉ output pixels",
        (same["output"] == same["⌈n / s⌉"]).all(),
        output=same["output"].tolist(),
        ceil=same["⌈n / s⌉"].tolist(),
    )
    c.claim(
        "exactly one way of placing the zeros fits each case: half before the image, the "
        "rest after it, so that an odd extra zero goes at the bottom and on the right",
        all(
            [tuple(f) for f in fit] == [(total // 2, total - total // 2)]
            for fit, total in zip(fits, same["zeros in all"], strict=True)
        )
        and (same["zeros in all"] % 2 == 1).any(),
        fits=fits.tolist(),
        zeros=same["zeros in all"].tolist(),
    )
    negatives = c["negatives"]
    c.claim(
        "ReLU sets the negative values of the vertical-edge response to 0",
        negatives["before ReLU"] > 0 and negatives["after ReLU"] == 0,
        negatives=negatives,
    )
    c.claim(
        "in the 4 × 4 example each output of max pooling is the largest of its block: 5, 7, 13, 15",
        c["tiny_pooled"].tolist() == [[5, 7], [13, 15]],
        pooled=c["tiny_pooled"].tolist(),
    )
    pooling = c["pooling"]
    c.claim(
        "our max_pool and MaxPooling2D agree exactly on the 26 × 26 map and on an 11 × 11 "
        "one, where both drop the last row and column",
        [(p["input"], p["output"]) for p in pooling] == [((26, 26), (13, 13)), ((11, 11), (5, 5))]
        and all(p["identical"] for p in pooling),
        pooling=pooling,
    )
    channels = c["channels"]
    c.claim(
        "a convolution over 3 channels with 4 filters, written with our conv2d, agrees with "
        "Keras' Conv2D, which has 3 × 3 × 3 × 4 + 4 parameters",
        channels["shapes"][0] == channels["shapes"][1]
        and channels["difference"] < 1e-4
        and channels["parameters"] == 3 * 3 * 3 * 4 + 4,
        channels=channels,
    )
    c.claim(
        "a 1 × 1 convolution is a matrix product at every position",
        c["pointwise_difference"] < 1e-5,
        difference=c["pointwise_difference"],
    )
    c.claim(
        "Flatten lays the pooled map out row by row, and the dense layer from it to ten "
        "outputs computes flat @ W + b",
        c["flatten_identical"] and c["dense_difference"] < 1e-4,
        difference=c["dense_difference"],
    )
    c.claim(
        "the dense layer from the 13 × 13 pooled map to ten outputs has 169 × 10 + 10 parameters",
        c["dense_parameters"] == 169 * 10 + 10,
        parameters=c["dense_parameters"],
    )
    flattened = c["flattened"]
    c.claim(
        "with several channels, Flatten interleaves them: the vector starts with the three "
        "channels of the first position",
        flattened.astype(int).tolist() == [100 * ch + pos for pos in range(4) for ch in (1, 2, 3)],
        flattened=flattened.astype(int).tolist(),
    )
    scores, probabilities = c["scores"], c["probabilities"]
    c.claim(
        "softmax gives positive probabilities that sum to 1, the same as "
        "keras.activations.softmax, and keeps the order of the scores",
        (probabilities > 0).all()
        and abs(probabilities.sum() - 1) < 1e-5
        and c["softmax_difference"] < 1e-5
        and np.array_equal(np.argsort(scores), np.argsort(probabilities)),
        total=probabilities.sum(),
        difference=c["softmax_difference"],
    )
    c.claim(
        "models.baseline_cnn() builds the model written in the notebook: same layers, "
        "parameters and initial weights",
        c["helper_same_model"],
    )

    # The baseline's shapes and parameter counts.
    table = c["layer_table"]
    expected = {
        "conv1": ((26, 26, 32), 3 * 3 * 1 * 32 + 32),
        "pool1": ((13, 13, 32), 0),
        "conv2": ((11, 11, 32), 3 * 3 * 32 * 32 + 32),
        "pool2": ((5, 5, 32), 0),
        "flatten": ((800,), 0),
        "dense": ((128,), 800 * 128 + 128),
        "probabilities": ((10,), 128 * 10 + 10),
    }
    found = {
        name: (tuple(row["output shape (Keras)"]), row["parameters (Keras)"])
        for name, row in table.iterrows()
    }
    c.claim(
        "every output shape and parameter count of the baseline follows from the formulas, "
        "as in the table of the text",
        (table["output shape (by hand)"] == table["output shape (Keras)"]).all()
        and (table["parameters (by hand)"] == table["parameters (Keras)"]).all()
        and found == expected,
        keras=found,
    )
    total = c["total"]
    c.claim(
        "the parameters counted by hand add up to the model's count",
        total == c["model_parameters"],
        by_hand=total,
        keras=c["model_parameters"],
    )
    params = table["parameters (Keras)"]
    convolutions = params["conv1"] + params["conv2"]
    c.claim(
        "the two convolutions hold only a small share of the parameters, the dense layer most "
        "of the model",
        convolutions / total < 0.2 and params["dense"] / total > 0.5,
        convolutions=convolutions / total,
        dense=params["dense"] / total,
    )
    c.claim(
        "without the second pooling layer the flattened vector would be several times longer",
        c["flat_without_pool2"] >= 3 * 800,
        without_pool2=c["flat_without_pool2"],
    )

    # What the text says about the default image, a pullover (not about other images).
    if c["image_index"] == DEFAULT_IMAGE:
        c.claim(
            "the default image is a pullover",
            c["image_class"] == "Pullover",
            image_class=c["image_class"],
        )
        responses = c["responses"]
        vertical = _edge_sides(responses["vertical edges"])
        c.claim(
            "with the default image, the vertical-edge response is red along the left side of "
            "the garment and blue along the right (first and last strong value in each row)",
            vertical.mean(axis=0).min() > 0.9,
            rows=len(vertical),
            red_first=vertical[:, 0].mean(),
            blue_last=vertical[:, 1].mean(),
        )
        horizontal = _edge_sides(responses["horizontal edges"].T)
        c.claim(
            "with the default image, the horizontal-edge response is red at the shoulders and "
            "blue along the hem (first and last strong value in most columns)",
            horizontal[:, 0].mean() > 0.9 and horizontal[:, 1].mean() > 0.5,
            columns=len(horizontal),
            red_top=horizontal[:, 0].mean(),
            blue_bottom=horizontal[:, 1].mean(),
        )

    if c.full:  # this run's random weights (the book's settings)
        c.claim(
            "one or two classes take most of the probability",
            np.sort(probabilities)[-2:].sum() > 0.5,
            probabilities=probabilities,
        )
