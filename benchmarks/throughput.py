"""One training-throughput measurement, run in its own process by ``python -m benchmarks``.

    python -m benchmarks.throughput --variant course --policy mixed_bfloat16 \
        --batch-size 256 --learning-rate 8e-3 --schedule cosine --seed 0 --out result.json
    python -m benchmarks.throughput --peak --out peak.json

Variants:
  plain    the module's recipe: model.fit(x_train, y_train, epochs=5) on NumPy arrays,
           Keras' default batch size 32 and compile settings, float32; with
           KERAS_BACKEND=jax (and JAX installed) the same recipe on Keras' JAX backend;
  course   the notebooks' path: helpers.training.train (cached, shuffled, prefetched
           tf.data pipeline, helpers.models.compile_model) at --batch-size, with
           --learning-rate (constant, or with --schedule cosine the peak of
           helpers.precision's warm-up and cosine decay) and the dtype policy --policy.
Tuning switches (course path): --no-cache, --no-prefetch, --jit, --threads N,
--steps-per-execution N; TF_ENABLE_ONEDNN_OPTS=0 in the environment turns oneDNN off.
The first epoch is the warm-up; throughput is the median over the later epochs. Every
run ends with the model's test accuracy.

--peak measures TensorFlow's matrix multiply instead (4096 x 4096, float32 and
bfloat16, best of 10), the yardstick for the training runs' GFLOP/s.
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
#: Size of the square matrices of the matrix-multiply peak.
PEAK_SIZE = 4096


def matmul_peak(size: int = PEAK_SIZE, repeats: int = 10) -> dict:
    """GFLOP/s of TensorFlow's matrix multiply, float32 and bfloat16: best of ``repeats``."""
    import tensorflow as tf

    result = {"size": size}
    for dtype in ("float32", "bfloat16"):
        a = tf.random.stateless_normal((size, size), seed=(1, 2), dtype=tf.float32)
        a = tf.cast(a, dtype)
        tf.linalg.matmul(a, a).numpy()  # warm-up
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            tf.linalg.matmul(a, a).numpy()
            best = min(best, time.perf_counter() - start)
        result[f"{dtype}_gflops"] = 2 * size**3 / best / 1e9
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", choices=("plain", "course"))
    parser.add_argument("--peak", action="store_true", help="measure the matrix multiply")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--policy", default="float32", help="Keras dtype policy (course path)")
    parser.add_argument(
        "--schedule",
        choices=("constant", "cosine"),
        default="constant",
        help="cosine: --learning-rate is the peak of helpers.precision's warm-up and decay",
    )
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
    if args.peak:
        result = matmul_peak()
    else:
        if args.variant is None:
            parser.error("give --variant plain|course, or --peak")
        if args.epochs < 2:
            parser.error("--epochs must be at least 2: the first epoch is the warm-up")
        result = train_once(args)
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=2)
    print(json.dumps(result))
    return result


def train_once(args) -> dict:
    import keras

    from helpers import data, models, precision, training

    backend = keras.backend.backend()
    if backend != "tensorflow" and args.variant != "plain":
        raise SystemExit(f"the course path needs TensorFlow; Keras' backend is {backend!r}")
    if args.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    x = data.to_model_input(x_train)
    xt = data.to_model_input(x_test)
    if args.variant == "plain":  # Keras' defaults: float32, batch 32, Adam at 1e-3
        path = precision.REFERENCE
    else:
        path = precision.TrainingPath(
            args.policy, args.batch_size, args.learning_rate, args.schedule
        )
    precision.use(path)
    rate = path.rate(len(x), args.epochs)
    training.set_seed(args.seed)
    model = models.baseline_cnn(compile=False)
    if args.variant == "plain":  # the module's recipe compiles with Keras' defaults
        model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
    elif args.jit or args.steps_per_execution:
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=args.jit,
            steps_per_execution=args.steps_per_execution or models.STEPS_PER_EXECUTION,
        )
    else:
        models.compile_model(model, learning_rate=rate)
    timer = training.EpochTimer()
    start = time.perf_counter()
    if args.variant == "plain":
        model.fit(x, y_train, epochs=args.epochs, verbose=0, callbacks=[timer])
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
    total = time.perf_counter() - start
    per_epoch = np.array(timer.times[1:])
    images_per_s = float(np.median(len(x) / per_epoch))
    _, accuracy = model.evaluate(xt, y_test, batch_size=1024, verbose=0)
    return {
        "variant": args.variant,
        "backend": backend,
        "policy": path.policy,
        "batch_size": path.batch_size,
        "learning_rate": path.learning_rate,
        "schedule": path.schedule,
        "seed": args.seed,
        "epochs": args.epochs,
        "cache": not args.no_cache,
        "prefetch": not args.no_prefetch,
        "jit": args.jit,
        "threads": args.threads,
        "steps_per_execution": int(model.steps_per_execution or 1),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0",
        "epoch_seconds": [float(t) for t in timer.times],
        "images_per_s": images_per_s,
        "gflops": images_per_s * BASELINE_TRAIN_FLOP_PER_IMAGE / 1e9,
        "train_seconds": total,
        "test_accuracy": float(accuracy),
        "keras": keras.__version__,
    }


if __name__ == "__main__":
    main()
