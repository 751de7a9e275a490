"""What notebook 03's text says about its numbers (helpers.claims records them)."""

import math

UPPER_BODY = {"T-shirt/top", "Pullover", "Coat", "Shirt"}


def check(c):
    # with any settings: what the text teaches as always true
    c.claim(
        "training.evaluate gives the accuracy of the model.evaluate call",
        c["helper_accuracy"] == c["test_accuracy"],
        helper=c["helper_accuracy"],
        evaluate=c["test_accuracy"],
    )
    c.claim("fast_path.rate builds the schedule the notebook writes out", c["same_schedule"])
    c.claim("the reloaded model predicts exactly what the trained one does", c["same_predictions"])
    c.claim(
        "asking for a model trained for one more epoch, or with a smaller dense layer, gives None",
        c["longer_is_none"] and c["other_is_none"],
        longer_is_none=c["longer_is_none"],
        other_is_none=c["other_is_none"],
    )
    c.claim(
        "the untrained model's validation loss is near ln 10 and its accuracy near chance",
        abs(c["untrained_loss"] - math.log(10)) < 0.1 and c["untrained_accuracy"] < 0.2,
        loss=c["untrained_loss"],
        accuracy=c["untrained_accuracy"],
    )
    answers = c["untrained_answers"]
    c.claim(
        "the untrained model gives the same one or two answers to most validation images",
        sum(sorted(answers)[-2:]) > 0.5 * sum(answers),
        answers=list(answers),
    )
    if c.full:  # the book's settings: this run's numbers
        c.claim(
            "this run used the book's settings, which the shipped runs measured",
            c["same_settings"],
        )
        answers = c["untrained_answers"]
        c.claim(
            "the untrained model's most frequent answer is given to a smaller share of that "
            "class's validation images than of all of them, and its accuracy is below 10%",
            c["untrained_favourite_hits"] < max(answers) / sum(answers)
            and c["untrained_accuracy"] < 0.1,
            favourite_hits=c["untrained_favourite_hits"],
            favourite_share=max(answers) / sum(answers),
            accuracy=c["untrained_accuracy"],
        )
        h = c["history"]
        c.claim(
            "the training loss drops below the validation loss in the last epoch",
            h["loss"][-1] < h["val_loss"][-1],
            loss=h["loss"][-1],
            val_loss=h["val_loss"][-1],
        )
        c.claim(
            "the validation loss is still falling at epoch 5",
            h["val_loss"][-1] < h["val_loss"][-2],
            val_loss=h["val_loss"],
        )
        accuracies = [c["untrained_accuracy"], *h["val_accuracy"]]
        gains = [accuracies[i + 1] - accuracies[i] for i in range(len(accuracies) - 1)]
        c.claim(
            "the first epoch brings by far the largest gain in validation accuracy; each "
            "later one adds a point or two at most",
            gains[0] > 5 * max(gains[1:]) and max(gains[1:]) <= 0.02,
            gains=gains,
        )
        c.claim(
            "the validation accuracy passes 90%",
            h["val_accuracy"][-1] > 0.90,
            val_accuracy=h["val_accuracy"][-1],
        )
        test = c["test_accuracy"]
        c.claim(
            "this run classifies more than 90% of the test images correctly",
            test >= 0.90,
            test_accuracy=test,
        )
        seeds = c.sweep("baseline").values("baseline", "test_accuracy")
        c.claim(
            "this run's test accuracy lies in the range of the shipped seeds",
            seeds.min() - 0.005 <= test <= seeds.max() + 0.005,
            test_accuracy=test,
            lowest=seeds.min(),
            highest=seeds.max(),
        )
        per_class = c["per_class"]
        lowest_four = set(sorted(per_class, key=per_class.get)[:4])
        c.claim(
            "Shirt, T-shirt/top, Pullover and Coat are the four classes with the lowest accuracy",
            lowest_four == UPPER_BODY,
            per_class=per_class,
        )
        c.claim(
            "on the validation set, Shirt is among the three least accurate classes",
            "Shirt" in sorted(per_class, key=per_class.get)[:3],
            per_class=per_class,
        )
        matrix = c["matrix"]
        wrong_answers = matrix.sum(axis=0) - matrix.diagonal()  # predicted as, wrongly
        names = list(per_class)
        c.claim(
            "Shirt is the most frequent wrong answer",
            names[int(wrong_answers.argmax())] == "Shirt",
            wrong_answers=dict(zip(names, wrong_answers.tolist(), strict=True)),
        )
        c.claim(
            "Trouser and Bag are almost always right",
            per_class["Trouser"] >= 0.95 and per_class["Bag"] >= 0.95,
            trouser=per_class["Trouser"],
            bag=per_class["Bag"],
        )
        c.claim(
            "the faster path's final validation accuracy differs from the reference's by far "
            "less (under a quarter) than the seed-to-seed range of the baseline",
            abs(c["gap"]) < 0.25 * c["spread"],
            gap=c["gap"],
            spread=c["spread"],
        )
        c.claim(
            "in this run the faster path trained in less time than the reference and ended "
            "within 0.1 points of its validation accuracy",
            c["fast_seconds"] < c["reference_seconds"] and abs(c["gap"]) < 0.001,
            fast_seconds=c["fast_seconds"],
            reference_seconds=c["reference_seconds"],
            gap=c["gap"],
        )
