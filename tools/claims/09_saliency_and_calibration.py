"""What notebook 09's text says about its numbers (helpers.claims records them)."""

import numpy as np

UPPER_BODY = {"T-shirt/top", "Pullover", "Coat"}


def check(c):
    # With any settings (the tests' fast profile too): what the text teaches as always true.
    c.claim(
        "the softmax of the scores gives the model's probabilities",
        c["softmax_difference"] < 1e-5,
        difference=c["softmax_difference"],
    )
    smallest = c["smallest_value"]
    c.claim(
        "gradient and Grad-CAM maps are 0 or more",
        smallest["gradient"] >= 0 and smallest["Grad-CAM"] >= 0,
        smallest=smallest,
    )
    centres = np.asarray(c["centres"])
    c.claim(
        "Grad-CAM's cells are placed at the centres of their receptive fields: for the "
        "baseline's conv2, cell q covers pixels 2q to 2q + 7",
        np.allclose(centres, 2 * np.arange(len(centres)) + 3.5),
        centres=centres,
    )
    cascade, stages = c["cascade"], c["random_by_stage"]
    expected = {"trained": []} | {
        f"random from {layer}": sorted(cascade[: n + 1]) for n, layer in enumerate(cascade)
    }
    c.claim(
        "the cascade randomises one more layer at each stage, from the top layer down, "
        "until every weight is random",
        stages == expected,
        random_layers=stages,
    )
    c.claim(
        "every map of the sanity check has a ranking to compare (no rank correlation is missing)",
        c["sanity_missing"] == 0,
        missing=c["sanity_missing"],
        of=c["sanity_correlations"],
    )
    c.claim(
        "at T = 1 the mean NLL is the model's validation loss, as training.evaluate gives it",
        np.isclose(c["nll_at_1"], c["evaluated_loss"], atol=1e-4),
        nll_at_1=c["nll_at_1"],
        evaluated_loss=c["evaluated_loss"],
    )
    c.claim(
        "calibration.fit_temperature finds the temperature the notebook's grid search finds",
        c["helper_temperature"] == c["temperature"],
        helper=c["helper_temperature"],
        notebook=c["temperature"],
    )
    nll = np.asarray(c["val_nll"])
    lowest = int(nll.argmin())
    c.claim(
        "the validation NLL curve has a single lowest point, at the fitted temperature",
        (np.diff(nll[: lowest + 1]) < 0).all() and (np.diff(nll[lowest:]) > 0).all(),
        lowest_at=lowest,
    )

    if not c.full:
        return
    # The book's settings (make book): what the text says about this run.
    c.claim(
        "the gradient of a 99.9%-sure image's score is far larger than that of its probability",
        c["score_gradient_ratio"] > 10,
        ratio=c["score_gradient_ratio"],
    )

    share, agreement = c["background_share"], c["agreement"]
    uniform = c["uniform_share"]
    c.claim(
        "the background is about half of these images' pixels; Grad-CAM puts clearly more of its "
        "weight there than an even map would, the gradient a little more, occlusion far less",
        0.4 < uniform < 0.6
        and share["Grad-CAM"] > uniform + 0.1
        and uniform < share["gradient"] < share["Grad-CAM"]
        and share["occlusion"] < uniform - 0.2,
        shares=share,
        uniform=uniform,
    )
    c.claim(
        "no two methods agree closely on any of the images",
        agreement.to_numpy().max() < 0.6,
        largest=agreement.to_numpy().max(),
    )
    negative = int((agreement["Grad-CAM vs occlusion"] < 0).sum())
    c.claim(
        "Grad-CAM and occlusion are negatively correlated on at least half of the images",
        negative >= len(agreement) // 2,
        negative=negative,
        images=len(agreement),
    )

    table = c["sanity_table"]
    as_is = table["maps as they are"]
    c.claim(
        "compared with their signs, every method's map has next to nothing in common with the "
        "trained model's once a layer is random",
        (as_is.abs() < 0.2).all().all(),
        as_is=as_is,
    )
    verdicts = c["verdicts"]
    c.claim(
        "with every weight random, the signed maps of all three methods change; by absolute "
        "values the gradient's and occlusion's survive and Grad-CAM's changes",
        (verdicts["maps as they are"] == "changes").all()
        and verdicts["absolute values"].to_dict()
        == {"gradient": "survives", "Grad-CAM": "changes", "occlusion": "survives"},
        verdicts=verdicts,
    )
    follows = c["follows_image"]
    gradient_trained, gradient_random = follows.loc["gradient"]
    c.claim(
        "the fully random model's absolute gradient follows the image much more closely than the "
        "trained model's",
        gradient_random > gradient_trained + 0.2,
        trained=gradient_trained,
        random=gradient_random,
    )
    occlusion_trained, occlusion_random = follows.loc["occlusion"]
    c.claim(
        "occlusion's absolute values follow the image about as closely for the fully random "
        "model as for the trained one",
        abs(occlusion_trained - occlusion_random) < 0.1,
        trained=occlusion_trained,
        random=occlusion_random,
    )
    cam_trained, cam_random = follows.loc["Grad-CAM"]
    c.claim(
        "the fully random model's Grad-CAM follows the image, while the trained model's is "
        "negatively correlated with it",
        cam_random > 0.2 and cam_trained < 0,
        trained=cam_trained,
        random=cam_random,
    )

    c.claim(
        "most predictions fall in the top bin of confidence",
        c["top_share"] > 0.5,
        top_share=c["top_share"],
    )
    temperature, nll_t, ece_t = c["temperature"], nll, np.asarray(c["val_ece_by_t"])
    c.claim(
        "far from the fitted temperature, on either side, both the NLL and the ECE grow",
        min(nll_t[0], nll_t[-1]) > nll_t[lowest] + 0.05
        and min(ece_t[0], ece_t[-1]) > 3 * ece_t[lowest],
        nll_ends=[nll_t[0], nll_t[-1]],
        nll_lowest=nll_t[lowest],
        ece_ends=[ece_t[0], ece_t[-1]],
        ece_at_fitted=ece_t[lowest],
    )
    c.claim(
        "the baseline is already well calibrated: its ECE, on the validation and on the test "
        "set, is below two percentage points",
        c["val_ece"] < 0.02 and c["test_ece_before"] < 0.02,
        validation=c["val_ece"],
        test=c["test_ece_before"],
    )
    c.claim(
        "the fitted temperature is close to 1",
        abs(temperature - 1) < 0.05,
        temperature=temperature,
    )
    c.claim(
        "temperature scaling did not measurably change the test ECE (the change lies inside "
        "the bootstrap's range)",
        c["verdict"] == "did not measurably change",
        bootstrap_range=c["bootstrap_range"],
        change=c["test_ece_after"] - c["test_ece_before"],
    )

    per_class = c["per_class"]
    c.claim(
        "Shirt has the lowest precision of all classes",
        per_class["precision"].idxmin() == "Shirt",
        precision=per_class["precision"],
    )
    c.claim(
        "Shirt is the class the model predicts most often, more often than there are shirts",
        per_class["predicted"].idxmax() == "Shirt"
        and per_class.loc["Shirt", "predicted"] > per_class.loc["Shirt", "true"],
        predicted=per_class["predicted"],
        shirts=per_class.loc["Shirt", "true"],
    )
    c.claim(
        "the images wrongly called Shirt are mostly T-shirts/tops, pullovers and coats",
        set(c["false_shirts"].index[:3]) == UPPER_BODY,
        false_shirts=c["false_shirts"],
    )
    c.claim(
        "shirts, when missed, are taken for T-shirts/tops, pullovers and coats",
        set(c["missed_shirts"].index[:3]) == UPPER_BODY,
        missed_shirts=c["missed_shirts"],
    )
    c.claim(
        "Shirt's recall is among the three lowest",
        per_class["recall"].rank().loc["Shirt"] <= 3,
        recall=per_class["recall"],
    )
    gaps = per_class["mean confidence when predicted"] - per_class["precision"]
    c.claim(
        "when the model says Shirt, its mean confidence exceeds its precision by more than for "
        "any other class",
        gaps["Shirt"] > 0.05 and gaps["Shirt"] > gaps.drop("Shirt").max(),
        gaps=gaps,
    )
