"""What notebook 01's text says about its numbers (helpers.claims records them)."""

import numpy as np


def check(c):
    # The data set as loaded: the same arrays with any settings.
    shapes = c["shapes"]
    c.claim(
        "Fashion-MNIST holds 60,000 training and 10,000 test images of 28 × 28 pixels",
        shapes["x_train"] == (60_000, 28, 28) and shapes["x_test"] == (10_000, 28, 28),
        shapes=shapes,
    )
    c.claim(
        "images are uint8, whole numbers from 0 to 255",
        c["image_dtype"] == "uint8" and list(c["pixel_range"]) == [0, 255],
        dtype=c["image_dtype"],
        pixel_range=c["pixel_range"],
    )
    c.claim(
        "labels are integers 0-9, one per class",
        np.array_equal(c["labels"], np.arange(10)),
        labels=c["labels"],
    )
    per_class = c["images_per_class"]
    c.claim(
        "the classes are perfectly balanced: 6,000 training and 1,000 test images per class",
        (np.asarray(per_class["train"]) == 6000).all()
        and (np.asarray(per_class["test"]) == 1000).all()
        and len(per_class["train"]) == len(per_class["test"]) == 10,
        train=per_class["train"],
        test=per_class["test"],
    )
    zeros = c["pixel_stats"]["share of zero pixels"]
    c.claim(
        "about half of all pixels are exactly 0",
        ((zeros > 0.4) & (zeros < 0.6)).all(),
        share_of_zeros=zeros,
    )

    # Scaling and the channel axis.
    c.claim(
        "to_model_input gives float32 pixels in [0, 1], the uint8 values divided by 255",
        c["scaled_dtype"] == "float32"
        and c["scaled_range"][0] >= 0
        and c["scaled_range"][1] <= 1
        and c["scaled_times_255_error"] < 1e-3,
        dtype=c["scaled_dtype"],
        scaled_range=c["scaled_range"],
        error_times_255=c["scaled_times_255_error"],
    )
    c.claim(
        "the helpers refuse images that were already scaled, with a ValueError",
        isinstance(c["refusal"], str) and c["refusal"] != "",
        refusal=c["refusal"],
    )
    c.claim(
        "to_model_input adds a channel axis of length 1: (60000, 28, 28, 1)",
        c["model_input_shape"] == (60_000, 28, 28, 1),
        shape=c["model_input_shape"],
    )

    # The validation split.
    split = c["split_counts"]
    per_class_train = split["training"] + split["validation"]
    shares = split["validation"] / per_class_train
    c.claim(
        "the stratified split takes the same fraction of every class for validation",
        (per_class_train == 6000).all() and shares.max() - shares.min() < 1e-9,
        validation=split["validation"],
        training=split["training"],
    )
    c.claim(
        "the test set, kept apart, has 1,000 images of every class",
        (split["test"] == 1000).all(),
        test=split["test"],
    )

    # The tf.data pipeline.
    spec = c["element_spec"]
    c.claim(
        "each element of the pipeline is a batch of float32 images (None, 28, 28, 1) and "
        "int32 labels (None,): None is the batch axis",
        spec["images"] == ([None, 28, 28, 1], "float32") and spec["labels"] == ([None], "int32"),
        element_spec=spec,
    )
    size, batch, batches = c["fit_size"], c["batch_size"], c["batches_per_epoch"]
    c.claim(
        "an epoch is the batches of BATCH_SIZE images, and the last batch holds what is left",
        batches == -(-size // batch) and 0 < size - (batches - 1) * batch <= batch,
        images=size,
        batch_size=batch,
        batches=batches,
    )
    c.claim(
        "a batch of images has the shape (BATCH_SIZE, 28, 28, 1)",
        c["first_batch_shape"] == (batch, 28, 28, 1),
        shape=c["first_batch_shape"],
    )
    first, second = c["first_batch_labels"]
    c.claim(
        "the two epochs begin with different labels: the shuffle draws a new order each epoch",
        not np.array_equal(first, second),
        first=first[:8].tolist(),
        second=second[:8].tolist(),
    )
    c.claim(
        "data.make_dataset gives the same images and labels as the pipeline written in the "
        "notebook, in both epochs",
        c["helper_same_batches"],
    )

    # Exercise 01.5's solution: the mean Shirt minus the mean T-shirt/top (classes 6 and 0).
    means = np.asarray(c["class_means"])
    difference = means[6] - means[0]
    rows, cols = np.indices(difference.shape)
    sides = (cols <= 7) | (cols >= 20)  # beside the body
    strongest_red = difference > 0.5 * difference.max()
    c.claim(
        "shirts have more ink than T-shirts on average in two long strips beside the body, "
        "from a little above the middle of the image to the bottom: the largest differences",
        (sides & (rows >= 10))[strongest_red].all() and difference.max() > -difference.min(),
        largest=difference.max(),
        most_negative=difference.min(),
        rows_of_largest=sorted(set(rows[strongest_red].tolist())),
    )
    strongest_blue = difference < 0.5 * difference.min()
    front = difference[3:26, 9:19]
    c.claim(
        "T-shirts have more ink along the top of the shoulders and around the short sleeves, "
        "at the hem and, more faintly, over the whole front of the body",
        ((rows <= 10) | (rows >= 25))[strongest_blue].all()
        and difference[(rows <= 10) & sides].mean() < 0
        and difference[26:28, 8:20].mean() < 0
        and (front < 0).mean() > 0.9
        and front.mean() > 0.5 * difference.min(),
        rows_of_most_negative=sorted(set(rows[strongest_blue].tolist())),
        shoulders=difference[(rows <= 10) & sides].mean(),
        hem=difference[26:28, 8:20].mean(),
        front=front.mean(),
        front_share_negative=(front < 0).mean(),
    )
    strips = (
        (rows >= 12) & (rows <= 25) & (((cols >= 3) & (cols <= 6)) | ((cols >= 21) & (cols <= 24)))
    )
    in_strips = {k: means[k][strips].mean() for k in (0, 2, 4, 6)}
    c.claim(
        "pullovers and coats have long sleeves too: their mean images have at least as much "
        "ink in the sleeve strips as the mean shirt",
        min(in_strips[2], in_strips[4]) >= in_strips[6] > in_strips[0],
        t_shirt=in_strips[0],
        pullover=in_strips[2],
        coat=in_strips[4],
        shirt=in_strips[6],
    )
