"""What notebook 10's text says about its numbers (helpers.claims records them)."""

from helpers import models
from tools.claims import seeds_at_chance

ABLATIONS = {
    "without batch norm",
    "without dropout",
    "constant learning rate",
    "one conv per block",
    "half the epochs",
}
GAINERS = ["T-shirt/top", "Pullover", "Coat"]  # the upper-body garments but the shirt
#: The sizes the Fashion-MNIST README's two-convolution entries state (parameters).
README_TWO_CONV_SIZES = (100_000, 113_000, 500_000, 1_800_000)
BN_RATES = (0.001, 0.01, 0.1)  # the learning rates of notebook 07's sweep
WELL_KNOWN = ["Trouser", "Sandal", "Sneaker", "Bag", "Ankle boot"]
SHOES = ["Sandal", "Sneaker", "Ankle boot"]


def _search(c):
    """The claims on the shipped search (the same in every profile)."""
    one, short, two = c["one_conv"], c["two_convs_short"], c["two_convs"]
    recipe, budget = c["recipe"], c["TIME_BUDGET_S"]
    ends = c["ends"]
    one_conv_runs = ends[ends.index.str.startswith("one conv")]
    search = c["search"]
    c.claim(
        "each candidate of the search ran once, with one seed",
        search["seed"].nunique() == 1
        and not search.duplicated(["architecture", "augmentation", "policy", "epochs"]).any(),
        seeds=sorted(search["seed"].unique()),
    )
    c.claim(
        "the capstone has four convolutions, in two blocks of two, and more parameters than "
        "every two-convolution entry of the README that states its size except the one of "
        "about 1.8 million",
        recipe["convs_per_block"] == 2
        and len(str(recipe["widths"]).split()) == 2
        and sorted(README_TWO_CONV_SIZES)[-2] < recipe["parameters"] < max(README_TWO_CONV_SIZES),
        convs_per_block=recipe["convs_per_block"],
        widths=recipe["widths"],
        parameters=recipe["parameters"],
    )
    c.claim(
        "the one-convolution runs peak before their last epoch",
        len(one_conv_runs) > 0 and (one_conv_runs["best epoch"] < one_conv_runs["epochs"]).all(),
        ends=one_conv_runs[["best epoch", "epochs"]],
    )
    c.claim(
        "a second 3 x 3 convolution more than doubles the time per epoch",
        two["s_per_epoch"] > 2 * one["s_per_epoch"],
        two_convs=two["s_per_epoch"],
        one_conv=one["s_per_epoch"],
    )
    c.claim(
        "with far fewer epochs, in less training time, the two-convolution model is as "
        "accurate as the one-convolution model",
        short["training_s"] < one["training_s"]
        and short["epochs"] < one["epochs"]
        and abs(short["val_accuracy"] - one["val_accuracy"]) < 0.001,
        two_convs_s=short["training_s"],
        one_conv_s=one["training_s"],
        two_convs_accuracy=short["val_accuracy"],
        one_conv_accuracy=one["val_accuracy"],
    )
    curve = c["one_curve"]
    half = len(curve) // 2
    c.claim(
        "the one-convolution curve gains little (less than a point) over its second half",
        curve[-1] - curve[half - 1] < 0.01,
        after_half=curve[half - 1],
        last=curve[-1],
    )
    c.claim(
        "the deeper model's validation accuracy rose from 6 to 9 epochs, and again to the "
        "recipe's 18",
        short["val_accuracy"] < two["val_accuracy"] < recipe["val_accuracy"],
        six=short["val_accuracy"],
        nine=two["val_accuracy"],
        recipe=recipe["val_accuracy"],
    )
    c.claim(
        "9 epochs in float32 used less than half of the budget",
        two["policy"] == "float32" and two["training_s"] < budget / 2,
        training_s=two["training_s"],
        budget=budget,
    )
    c.claim(
        "the faster path makes each epoch of this model faster",
        recipe["policy"] != "float32" and recipe["s_per_epoch"] < two["s_per_epoch"],
        recipe=recipe["s_per_epoch"],
        float32=two["s_per_epoch"],
    )
    c.claim(
        "the recipe (18 epochs) is the most accurate run of the search, within the budget",
        recipe["epochs"] == 18
        and recipe["val_accuracy"] == c["search"]["val_accuracy"].max()
        and recipe["training_s"] < budget,
        recipe=recipe["val_accuracy"],
        best=c["search"]["val_accuracy"].max(),
        training_s=recipe["training_s"],
    )
    augmented = c["one_conv_augmented"]
    c.claim(
        "flips and 2-pixel shifts cost the one-convolution model accuracy",
        augmented["val_accuracy"] < one["val_accuracy"],
        augmented=augmented["val_accuracy"],
        plain=one["val_accuracy"],
    )
    flipped = c["two_convs_flipped"]
    c.claim(
        "flips alone barely changed the two-convolution model",
        abs(flipped["val_accuracy"] - two["val_accuracy"]) < 0.005,
        flipped=flipped["val_accuracy"],
        plain=two["val_accuracy"],
    )
    c.claim(
        "validation accuracy after the first epoch is low",
        c["first_epoch"].max() < 0.5,
        first_epoch=list(c["first_epoch"]),
    )


def _ablation(c):
    """The claims on the shipped ablation (the same in every profile)."""
    ablation = c.sweep("capstone_ablation")
    parts = [v for v in ablation.variants if v != "capstone"]
    c.claim("the five ablations are the ones the text lists", set(parts) == ABLATIONS, parts=parts)
    against = {v: ablation.compare(v, "capstone") for v in parts}
    c.claim(
        "each of the five ablations ends below the recipe on both seeds, and with two seeds "
        "the course's rule calls none of these differences clear",
        len(ablation.seeds) == 2
        and all(
            a["higher in"] == 0 and a["verdict"] == "no clear difference" for a in against.values()
        ),
        comparisons=against,
    )
    differences = {v: ablation.compare(v, "capstone")["mean difference"] for v in parts}
    c.claim(
        "one convolution per block costs the most of the five",
        min(differences, key=differences.get) == "one conv per block",
        differences=differences,
    )
    c.claim(
        "without dropout the network fits its training images perfectly",
        ablation.values("without dropout", "train_accuracy").min() > 0.999,
        train_accuracy=ablation.values("without dropout", "train_accuracy"),
    )
    c.claim(
        "without dropout the generalization gap is larger than the recipe's on every seed",
        ablation.compare("without dropout", "capstone", "gap")["higher in"] == len(ablation.seeds),
        comparison=ablation.compare("without dropout", "capstone", "gap"),
    )
    train = ablation.values("capstone", "train_accuracy").mean()
    val = ablation.values("capstone", "val_accuracy").mean()
    c.claim(
        "at 18 epochs the recipe's training accuracy is above its validation accuracy by a "
        "few points",
        0.01 < train - val < 0.06,
        train_accuracy=train,
        val_accuracy=val,
    )


def _batch_norm(c):
    """What the ingredients' table says notebook 07 measured (its shipped sweep)."""
    sweep = c.sweep("batch_norm")
    verdicts = {
        rate: sweep.compare(f"BN, lr {rate:g}", f"baseline, lr {rate:g}")["verdict"]
        for rate in BN_RATES
    }
    c.claim(
        "on notebook 07's network, over five seeds, batch normalization gave no better "
        "validation accuracy at any of its three learning rates",
        len(sweep.seeds) == 5 and all(v != "higher" for v in verdicts.values()),
        verdicts=verdicts,
    )
    collapsed = seeds_at_chance(sweep, BN_RATES[-1])
    c.claim(
        "at notebook 07's highest learning rate batch normalization collapsed to chance less "
        "often than the baseline, though in some seeds",
        collapsed["baseline"] > collapsed["BN"] >= 1,
        collapsed=collapsed,
    )


def check(c):
    # with any settings: the shipped search, ablation and budget runs, and the architecture
    _search(c)
    _ablation(c)
    _budget(c)
    _batch_norm(c)
    c.claim(
        "most of the capstone's parameters sit in the dense layer",
        c["dense_share"] > 0.5,
        dense_share=c["dense_share"],
    )
    if c.full:  # the book's settings: this run's numbers
        c.claim(
            "the capstone's learning rate ends at zero as the run's time runs out (below 1% of "
            "its start at the last step)",
            c["last_rate_share"] < 0.01,
            last_rate_share=c["last_rate_share"],
        )
        if c["policy"] == c["ablation_policy"]:  # not on a processor without bfloat16
            c.claim(
                "this run used the book's settings, which the shipped ablation measured",
                c["same_settings"],
            )
        c.claim(
            "the shipped ablation trained with this notebook's learning rate",
            c["ablation_learning_rate"] == c["LEARNING_RATE"],
            ablation=c["ablation_learning_rate"],
            notebook=c["LEARNING_RATE"],
        )
        capstone, baseline = c["capstone_test_accuracy"], c["baseline_test_accuracy"]
        c.claim(
            f"the capstone comes within a point of the goal of {models.CAPSTONE_GOAL:.0%} test "
            "accuracy",
            capstone >= models.CAPSTONE_GOAL - 0.01,
            capstone=capstone,
        )
        c.claim(
            f"the baseline of notebook 03 falls short of {models.CAPSTONE_GOAL:.0%}",
            baseline < models.CAPSTONE_GOAL,
            baseline=baseline,
        )
        per_class = c["per_class"]
        gain = per_class["gain"]
        c.claim(
            "most of the gain is on T-shirts, pullovers and coats",
            gain[GAINERS].sum() > gain.drop(GAINERS).sum(),
            gain=gain,
        )
        c.claim(
            "trousers, bags, sandals, sneakers and ankle boots are each above the baseline's "
            "average over the classes",
            (per_class.loc[WELL_KNOWN, "baseline"] > per_class["baseline"].mean()).all(),
            baseline=per_class["baseline"],
        )
        c.claim(
            "each of those classes changes by less than T-shirts, pullovers and coats gain on "
            "average",
            gain[WELL_KNOWN].abs().max() < gain[GAINERS].mean(),
            gain=gain,
        )
        c.claim(
            "the shirts' change, whatever its sign, is far smaller than the gain of each of the "
            "other three upper-body garments, a small number of shirts either way",
            abs(gain["Shirt"]) < gain[GAINERS].min() / 2 and abs(gain["Shirt"]) < 0.02,
            gain=gain,
        )
        c.claim(
            "both models get more shirts wrong than any other class",
            per_class["baseline"].idxmin() == per_class["capstone"].idxmin() == "Shirt",
            baseline=per_class["baseline"].idxmin(),
            capstone=per_class["capstone"].idxmin(),
        )
        right_heavy, flips = c["right_heavy"], c["flips"]
        c.claim(
            "nearly every shoe is heavier on the right",
            min(right_heavy.values()) > 0.9,
            right_heavy=right_heavy,
        )
        c.claim(
            "flipped footwear loses a large share of its accuracy",
            (flips.loc[SHOES, "change"] < -0.3).all(),
            change=flips.loc[SHOES, "change"],
        )
        c.claim(
            "flipped ankle boots are almost never recognized",
            flips.loc["Ankle boot", "flipped left to right"] < 0.1,
            flipped=flips.loc["Ankle boot", "flipped left to right"],
        )
        c.claim(
            "the other classes lose little when flipped",
            (flips.drop(index=SHOES)["change"] > -0.1).all(),
            change=flips.drop(index=SHOES)["change"],
        )


def _budget(c):
    """The claims on the shipped budget runs (the same in every profile)."""
    search, effects = c["search_runs"], c["effects"]
    seeds = search.groupby("variant")["seed"].apply(frozenset)
    c.claim(
        "the search ran the recipe and label smoothing with the same three seeds",
        len(set(seeds)) == 1 and len(next(iter(seeds))) == 3,
        seeds={k: sorted(v) for k, v in seeds.items()},
    )
    smoothing = effects.loc["label smoothing 0.1"]
    c.claim(
        "label smoothing ended below the recipe on every seed, by less than half a point, "
        "and the rule calls no clear difference",
        smoothing["higher in"] == 0
        and smoothing["lowest difference"] > -0.005
        and smoothing["verdict"] == "no clear difference",
        smoothing=smoothing,
    )
    recipe_seconds = search.loc[search["variant"] == "recipe", "seconds"]
    c.claim(
        "the same epochs of the recipe took several percent longer in one run than in another",
        recipe_seconds.max() > 1.05 * recipe_seconds.min(),
        seconds=list(recipe_seconds),
    )
    average = effects.loc["weight average (EMA)"]
    c.claim(
        "the averaged weights were higher on every seed, by less than a tenth of a point, "
        "too little for the rule to state",
        average["higher in"] == average["seeds"]
        and average["highest difference"] < 0.001
        and average["verdict"] == "no clear difference",
        average=average,
    )
    shifts = effects.loc["test-time shifts"]
    c.claim(
        "the test-time shifts were higher on one seed and lower on the others: no clear difference",
        shifts["higher in"] == 1 and shifts["verdict"] == "no clear difference",
        shifts=shifts,
    )
    mirror = effects.loc["mirror images too"]
    c.claim(
        "mirror images cost three to five points on every seed; the rule calls them lower",
        -0.05 < mirror["lowest difference"]
        and mirror["highest difference"] < -0.03
        and mirror["verdict"] == "lower",
        mirror=mirror,
    )
    goals, means = c["goal_runs"], c["goal_means"]
    c.claim(
        "the clock ended every goal run, at a learning rate below 1% of its start",
        goals["stopped_by_budget"].all() and (goals["last_rate_share"] < 0.01).all(),
        last_rate_share=list(goals["last_rate_share"]),
    )
    c.claim(
        "three seeds for each of the two budgets, five and ten minutes",
        means["count"].to_dict() == {300.0: 3, 600.0: 3},
        counts=means["count"].to_dict(),
    )
    c.claim(
        "every goal run has at most the rubric's number of parameters",
        (goals["parameters"] <= models.CAPSTONE_MAX_PARAMETERS).all(),
        parameters=sorted(set(goals["parameters"])),
    )
    c.claim(
        "ten minutes held far fewer epochs (under two thirds) than the search's 18",
        goals.loc[goals["budget_s"] == 600.0, "epochs"].max() < 18 * 2 / 3,
        epochs=list(goals["epochs"]),
    )
    c.claim(
        "ten minutes gave a higher mean test accuracy than five",
        means.loc[600.0, "mean"] > means.loc[300.0, "mean"],
        means=means["mean"].to_dict(),
    )
    c.claim(
        f"on the computer that ran them, the mean test accuracy over three seeds is below the "
        f"goal of {models.CAPSTONE_GOAL:.0%} for both budgets",
        bool((means["mean"] < models.CAPSTONE_GOAL).all()),
        means=means["mean"].to_dict(),
    )
    at = c["at_budgets"]
    gap = (at["recipe (mean of the seeds)"] - at["baseline"]).dropna()
    c.claim(
        "the recipe is above the baseline recipe at every budget both trained for, by more "
        "than a point",
        len(gap) > 0 and bool((gap > 0.01).all()),
        gap=gap,
    )
    recipe = at["recipe (mean of the seeds)"]
    c.claim(
        "with ten minutes the recipe's validation accuracy rises further than with five",
        recipe[600.0] > recipe[300.0],
        recipe=recipe,
    )
