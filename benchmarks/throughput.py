"""One training-throughput measurement, run in its own process by ``python -m benchmarks``.

    python -m benchmarks.throughput --variant helpers --epochs 5 --out result.json

Variants:
  plain    the module's recipe: model.fit(x_train, y_train, epochs=5) on NumPy arrays,
           default batch size 32;
  helpers  the notebooks' path: helpers.training.train (cached, shuffled, prefetched
           tf.data pipeline) at --batch-size.
Tuning switches (helpers path): --no-cache, --no-prefetch, --jit, --threads N,
--steps-per-execution N;
TF_ENABLE_ONEDNN_OPTS=0 in the environment turns oneDNN off.
The first epoch is the warm-up; throughput is the median over the later epochs.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

#: Forward + backward cost of the baseline per training image (2 x 3 x MACs), in FLOP.
BASELINE_TRAIN_FLOP_PER_IMAGE = 8.1e6


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", choices=("plain", "helpers"), required=True)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--no-prefetch", action="store_true")
    parser.add_argument("--jit", action="store_true")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument(
        "--steps-per-execution", type=int, default=0, help="0: as helpers.models compiles"
    )
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is the warm-up")

    import keras
    import tensorflow as tf

    from helpers import data, models, training

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    x = data.to_model_input(x_train)
    xt = data.to_model_input(x_test)
    training.set_seed(args.seed)
    model = models.baseline_cnn()
    if args.variant == "plain":  # the module's recipe compiles with Keras' defaults
        model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
    elif args.jit or args.steps_per_execution:
        model.compile(
            optimizer=model.optimizer,
            loss=model.loss,
            metrics=["accuracy"],
            jit_compile=args.jit,
            steps_per_execution=args.steps_per_execution or models.STEPS_PER_EXECUTION,
        )
    timer = training.EpochTimer()
    start = time.perf_counter()
    if args.variant == "plain":
        model.fit(x, y_train, epochs=args.epochs, verbose=0, callbacks=[timer])
        batch_size = 32
    elif args.no_cache or args.no_prefetch or args.jit:
        ds = data.make_dataset(
            x,
            y_train,
            args.batch_size,
            shuffle=True,
            seed=args.seed,
            cache=not args.no_cache,
            prefetch=not args.no_prefetch,
        )
        model.fit(ds, epochs=args.epochs, verbose=0, callbacks=[timer], shuffle=False)
        batch_size = args.batch_size
    else:  # exactly what the notebooks call
        result = training.train(
            model,
            x,
            y_train,
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
            verbose=0,
        )
        timer.times = result.epoch_seconds
        batch_size = args.batch_size
    total = time.perf_counter() - start
    per_epoch = np.array(timer.times[1:])
    images_per_s = float(np.median(len(x) / per_epoch))
    _, accuracy = model.evaluate(xt, y_test, batch_size=1024, verbose=0)
    result = {
        "variant": args.variant,
        "batch_size": batch_size,
        "epochs": args.epochs,
        "cache": not args.no_cache,
        "prefetch": not args.no_prefetch,
        "jit": args.jit,
        "threads": args.threads,
        "steps_per_execution": model.steps_per_execution,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0",
        "epoch_seconds": [float(t) for t in timer.times],
        "images_per_s": images_per_s,
        "gflops": images_per_s * BASELINE_TRAIN_FLOP_PER_IMAGE / 1e9,
        "train_seconds": total,
        "test_accuracy": float(accuracy),
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
    }
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=2)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
