"""How fast is the course? ``make bench`` (``python -m benchmarks``) measures, side by side:

1. training paths side by side: the module's plain recipe, the notebooks' path in
   float32 and bfloat16 at batch 32 and at the faster path's batch, and Keras on JAX;
   each once per seed (``--seeds``), in its own process, with a warm-up epoch, with
   images/s, GFLOP/s as a share of the measured matrix-multiply peak, and test accuracy;
2. tuning variants of the notebooks' path (batch size, cache, prefetch, threads,
   oneDNN, XLA), one run each;
3. whole-course execution: every notebook under the fast and the full profile, from
   a cold model cache, per notebook and in total, with each kernel's peak memory;
4. the accuracy of the course's saved models next to published benchmark rows.

It writes ``_build/bench/results.json``, and for the book's appendix page "How fast is
this course?" the measured tables (``book/speed_results.md``), the commentary written
from them (``book/speed_commentary.md``, :mod:`benchmarks.commentary`) and the results
both were written from (``book/speed_results.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.commentary import commentary
from benchmarks.commentary import path_key as _key
from benchmarks.throughput import BASELINE_TRAIN_FLOP_PER_IMAGE, PEAK_SIZE
from helpers import models, precision
from tools import course

ROOT = Path(__file__).resolve().parent.parent

OUT = course.BUILD / "bench"
PAGE = ROOT / "book" / "speed_results.md"
#: The commentary, written from the results, and the results it was written from.
COMMENTARY = ROOT / "book" / "speed_commentary.md"
RESULTS = ROOT / "book" / "speed_results.json"

# Rows of the Fashion-MNIST benchmark table (github.com/zalandoresearch/fashion-mnist)
# for models comparable to the course's.
PUBLISHED = [
    ("2 Conv+pooling", "None", 0.876),
    ("2 Conv+pooling (TensorFlow's tutorial)", "None", 0.916),
    ("2 Conv ~113K parameters", "Normalization", 0.922),
    ("2 Conv <100K parameters", "None", 0.925),
    ("2 Conv+pooling+BN", "None", 0.934),
    ("2 Conv+3 FC ~500K parameters", "Augmentation, batch normalization", 0.934),
    ("2 Conv+2 FC", "Random horizontal flips", 0.939),
    ("3 Conv+pooling+2 FC+dropout", "None", 0.926),
    ("Human performance", "Crowd-sourced, 1000 images", 0.835),
]

# The speed goals of the course on a 2-core CPU, checked against the results.
GOALS_S = {"fast": 4 * 60, "full": 25 * 60}
#: Throughput of the course's path over the plain recipe's, with and without native bfloat16.
GOAL_RATIO = {True: 2.0, False: 1.5}
#: How far the course's path may fall below float32 at batch 32, after equal epochs (mean).
GOAL_ACCURACY_GAP = 0.003
GOAL_RSS_MB = 2 * 1024
GOAL_CAPSTONE = models.CAPSTONE_GOAL  # the capstone's one goal (notebook 10, the rubric)


#: The row the faster path's accuracy is compared with: the notebooks' path in the
#: module's recipe (float32, batch 32).
REFERENCE_KEY = _key(precision.REFERENCE.policy, precision.REFERENCE.batch_size)


def paths() -> list[tuple[str, str, str, list[str]]]:
    """The training paths compared side by side: (key, label, backend, arguments of
    benchmarks.throughput). ``course-*`` rows are the notebooks' path with a Keras dtype
    policy and a batch size; the course's faster path is one of them (precision.choose()).
    """
    fast = precision.choose(flags=(), gpus=[])  # the faster path's batch and schedule
    rows = [("plain", "plain recipe: `model.fit(x_train, y_train, epochs=5)`", "tensorflow", [])]
    for policy, path in (
        ("float32", precision.REFERENCE),
        ("mixed_bfloat16", precision.REFERENCE),
        ("float32", fast),
        ("mixed_bfloat16", fast),
    ):
        rows.append(
            (
                _key(policy, path.batch_size),
                "the notebooks: `helpers.training.train` (tf.data)",
                "tensorflow",
                [
                    *("--policy", policy, "--batch-size", str(path.batch_size)),
                    *("--learning-rate", f"{path.learning_rate:g}", "--schedule", path.schedule),
                ],
            )
        )
    rows.append(("jax", "plain recipe on Keras' JAX backend", "jax", []))
    return rows


def chosen_key(features: dict) -> str:
    """The row of :func:`paths` that ``precision.choose`` picks on the measured machine."""
    path = precision.choose(flags=features["flags"], gpus=[])
    return _key(path.policy, path.batch_size)


def goals(results: dict) -> list[tuple[str, str, bool]]:
    """Each speed goal with what was measured and whether it is met; unmeasured ones left out."""
    rows = []
    t = results.get("throughput")
    if t:
        native = results["machine"]["features"]["native_bfloat16"]
        chosen = t["rows"][t["chosen"]]
        reference = t["rows"][REFERENCE_KEY]
        target = GOAL_RATIO[native]
        which = "with" if native else "without"
        rows.append(
            (
                f"the course's path ({chosen['policy']}, batch {chosen['batch_size']}) "
                f"≥ {target}× the plain recipe's throughput (processor {which} native bfloat16)",
                f"{chosen['ratio']:.2f}×",
                chosen["ratio"] >= target,
            )
        )
        gap = chosen["accuracy_mean"] - reference["accuracy_mean"]
        rows.append(
            (
                "its test accuracy after 5 epochs at most 0.3 points below float32 at batch 32 "
                f"(mean of {len(chosen['accuracies'])} seeds)",
                f"{100 * gap:+.2f} points",
                gap >= -GOAL_ACCURACY_GAP,
            )
        )
    capstone = [r for r in results.get("accuracy", []) if r["notebook"] == "10_capstone"]
    if capstone:
        acc = capstone[0]["test_accuracy"]
        rows.append(
            (
                f"the capstone: ≥ {GOAL_CAPSTONE:.1%} test accuracy",
                f"{acc:.2%}",
                acc >= GOAL_CAPSTONE,
            )
        )
    for profile, limit in GOALS_S.items():
        c = results.get("course", {}).get(profile)
        if c:
            what = "the whole book (full profile)" if profile == "full" else "fast profile"
            rows.append(
                (
                    f"{what}, all notebooks: at most {limit // 60} minutes",
                    f"{c['total_s'] / 60:.1f} min",
                    c["total_s"] <= limit and all(r["ok"] for r in c["notebooks"].values()),
                )
            )
    peaks = [
        r["peak_rss_mb"]
        for c in results.get("course", {}).values()
        for r in c["notebooks"].values()
    ]
    if peaks:
        rows.append(
            ("no notebook kernel above 2 GB", f"{max(peaks):,.0f} MB", max(peaks) <= GOAL_RSS_MB)
        )
    return rows


TUNING = [
    ("batch 32 (the notebooks)", ["--batch-size", "32"], {}),
    ("batch 64", ["--batch-size", "64"], {}),
    ("batch 128", ["--batch-size", "128"], {}),
    ("batch 32, no cache", ["--batch-size", "32", "--no-cache"], {}),
    ("batch 32, no prefetch", ["--batch-size", "32", "--no-prefetch"], {}),
    ("batch 32, 1 thread", ["--batch-size", "32", "--threads", "1"], {}),
    ("batch 32, oneDNN off", ["--batch-size", "32"], {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    (
        "batch 32, 1 step per execution (Keras' default)",
        ["--batch-size", "32", "--steps-per-execution", "1"],
        {},
    ),
    ("batch 128, XLA (jit_compile)", ["--batch-size", "128", "--jit"], {}),
]


def _version(*names: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    for name in names:
        try:
            return version(name)
        except PackageNotFoundError:
            pass
    return "not installed"


#: CPU flags that matter for training speed, reported with the machine.
RELEVANT_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", *precision.BFLOAT16_FLAGS)


def machine() -> dict:
    cpu = precision.processor()
    versions = {
        "tensorflow": _version("tensorflow-cpu", "tensorflow"),
        "keras": _version("keras"),
        "numpy": _version("numpy"),
        "papermill": _version("papermill"),
        "jupyter-book": _version("jupyter-book"),
    }
    flags = precision.cpu_flags()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "versions": versions,
        "features": {
            "flags": sorted(f for f in RELEVANT_FLAGS if f in flags),
            "native_bfloat16": precision.native_bfloat16(flags),
        },
    }


JAX_VENV = OUT / "jax-venv"
JAX_REQUIREMENTS = ROOT / "benchmarks" / "jax-requirements.txt"


def jax_python() -> Path:
    """Python of an environment with Keras on JAX (created on first use, outside .venv)."""
    python = JAX_VENV / "bin" / "python"
    ready = JAX_VENV / ".ready"
    if ready.is_file() and ready.read_text() == JAX_REQUIREMENTS.read_text():
        return python
    shutil.rmtree(JAX_VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(JAX_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(JAX_REQUIREMENTS)], check=True
    )
    ready.write_text(JAX_REQUIREMENTS.read_text())
    return python


def throughput_run(
    args: list[str], env_extra: dict | None = None, backend: str = "tensorflow"
) -> dict:
    out = OUT / "run.json"
    env = course.kernel_env("full")
    env.update(env_extra or {})
    python = sys.executable
    if backend == "jax":
        python = str(jax_python())
        env["KERAS_BACKEND"] = "jax"
    cmd = [python, "-m", "benchmarks.throughput", "--out", str(out), *args]
    print("$", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def bench_peak() -> dict:
    return throughput_run(["--peak"])


def bench_throughput(seeds: int, epochs: int, features: dict) -> dict:
    """Every path of :func:`paths` once per seed, interleaved; summaries per path."""
    table = paths()
    runs: dict[str, list[dict]] = {key: [] for key, *_ in table}
    skipped: dict[str, str] = {}
    peaks = [bench_peak()]
    for seed in range(seeds):  # interleaved, so drifts of the machine hit every path alike
        for key, _, backend, args in table:
            if key in skipped:
                continue
            cmd = ["--variant", "plain" if key in ("plain", "jax") else "course"]
            cmd += ["--epochs", str(epochs), "--seed", str(seed), *args]
            try:
                runs[key].append(throughput_run(cmd, backend=backend))
            except subprocess.CalledProcessError as error:
                if backend == "tensorflow":
                    raise
                skipped[key] = f"could not run ({error})"
    peaks.append(bench_peak())
    peak = {k: max(p[k] for p in peaks) for k in ("float32_gflops", "bfloat16_gflops")}
    rows = {}
    for (key, label, backend, _), results in zip(table, runs.values(), strict=True):
        if not results:
            continue
        accuracies = [r["test_accuracy"] for r in results]
        rows[key] = {
            "label": label,
            "backend": backend,
            "policy": results[0]["policy"],
            "batch_size": results[0]["batch_size"],
            "learning_rate": results[0]["learning_rate"],
            "schedule": results[0]["schedule"],
            "images_per_s": statistics.median(r["images_per_s"] for r in results),
            "gflops": statistics.median(r["gflops"] for r in results),
            "accuracies": accuracies,
            "accuracy_mean": statistics.mean(accuracies),
            "accuracy_sd": statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0,
            "runs": results,
        }
    for row in rows.values():
        row["ratio"] = row["images_per_s"] / rows["plain"]["images_per_s"]
        row["peak_share"] = row["gflops"] / peak["float32_gflops"]
    return {
        "rows": rows,
        "skipped": skipped,
        "peak": peak,
        "chosen": chosen_key(features),
        "epochs": epochs,
        "seeds": seeds,
    }


def bench_tuning(epochs: int) -> list[dict]:
    rows = []
    for label, args, env in TUNING:
        result = throughput_run(["--variant", "course", "--epochs", str(epochs), *args], env)
        result["label"] = label
        rows.append(result)
    return rows


def bench_course(profile: str, recorded: bool) -> dict:
    """Time every notebook under a profile, with its kernel's peak memory.

    Executes them all (tools/course.py, forced) from an empty model cache, or, with
    ``recorded``, reads the timings of their last execution (``make test``/``make book``).
    """
    if not recorded:
        shutil.rmtree(Path(course.kernel_env(profile)["COURSE_MODELS_DIR"]), ignore_errors=True)
        course.execute(profile, force=True)
    path = course.BUILD / "executed" / profile / "timings.json"
    timings = json.loads(path.read_text()) if path.is_file() else {}
    names = [Path(entry).name for entry in course.toc_notebooks()]
    missing = [n for n in names if n not in timings]
    if missing:
        raise SystemExit(f"No recorded {profile} timings for {missing}; run without --recorded.")
    results = {n: {**timings[n], "ok": True} for n in names}
    return {
        "notebooks": results,
        "total_s": sum(r["seconds"] for r in results.values()),
        "recorded": recorded,
    }


def bench_accuracy() -> list[dict]:
    """Evaluate the models the full profile saved, on the test set."""
    for key in ("TF_CPP_MIN_LOG_LEVEL", "FASHION_MNIST_DIR"):  # as the notebooks see them
        if key in course.kernel_env("full"):
            os.environ.setdefault(key, course.kernel_env("full")[key])
    import keras

    from helpers import data

    (_, _), (x_test, y_test) = data.load_fashion_mnist()
    x = data.to_model_input(x_test)
    rows = []
    for notebook, filename in (
        ("03_training", "baseline.keras"),
        ("10_capstone", "capstone.keras"),
    ):
        path = Path(course.kernel_env("full")["COURSE_MODELS_DIR"]) / filename
        if not path.is_file():
            continue
        model = keras.models.load_model(path)
        _, accuracy = model.evaluate(x, y_test, batch_size=1024, verbose=0)
        rows.append(
            {
                "notebook": notebook,
                "model": filename,
                "parameters": model.count_params(),
                "test_accuracy": float(accuracy),
            }
        )
    return rows


def markdown(results: dict) -> str:
    m = results["machine"]
    v = m["versions"]
    lines = [
        "<!-- Written by `make bench` (python -m benchmarks); do not edit by hand. -->",
        "",
        f"Measured on {results['date']} on **{m['cpu']}, {m['cores']} cores**, {m['system']}, "
        f"Python {m['python']}, TensorFlow {v['tensorflow']}, Keras {v['keras']}.",
        "",
    ]
    measured_goals = goals(results)
    if measured_goals:
        lines += ["### Goals", "", "| goal | measured | |", "|---|---|---|"]
        for goal, value, met in measured_goals:
            lines.append(f"| {goal} | {value} | {'met' if met else '**missed**'} |")
        lines.append("")
    t = results.get("throughput")
    if t:
        peak = t["peak"]
        features = m.get("features", {})
        lines += [
            "### Training paths, side by side",
            "",
            f"Processor features: {', '.join(features.get('flags', [])) or 'none reported'}; "
            f"native bfloat16: **{'yes' if features.get('native_bfloat16') else 'no'}**. "
            f"TensorFlow's matrix multiply ({PEAK_SIZE}×{PEAK_SIZE}) peaks at "
            f"**{peak['float32_gflops']:.0f} GFLOP/s** in float32 and "
            f"{peak['bfloat16_gflops']:.0f} GFLOP/s in bfloat16 on this machine, in this run.",
            "",
            "| path | policy | batch | learning rate | images/s | vs plain | GFLOP/s "
            "| share of float32 peak | test accuracy after "
            f"{t['epochs']} epochs (mean ± sd of {t['seeds']} seeds) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for key, row in t["rows"].items():
            label = row["label"] + (
                " **(the course's faster path here)**" if key == t["chosen"] else ""
            )
            rate = f"{row['learning_rate']:g}"
            if row.get("schedule") == "cosine":
                rate += ", warm-up and cosine decay"
            lines.append(
                f"| {label} | {row['policy']} | {row['batch_size']} | {rate} | "
                f"{row['images_per_s']:,.0f} | {row['ratio']:.2f}× | {row['gflops']:.0f} | "
                f"{row['peak_share']:.0%} | {row['accuracy_mean']:.4f} ± {row['accuracy_sd']:.4f} |"
            )
        for key, why in t.get("skipped", {}).items():
            lines.append(f"| {key}: {why} | | | | | | | | |")
        lines += [
            "",
            f"Every path ran once per seed ({t['seeds']} seeds), interleaved, each run in its own "
            f"process on all 60,000 training images; images/s is the median over the runs of "
            "each run's median epoch after the first (a warm-up); accuracy is on the 10,000 "
            "test images. GFLOP/s counts the baseline's "
            f"{BASELINE_TRAIN_FLOP_PER_IMAGE / 1e6:.1f} million floating-point operations per "
            "training image (forward and backward).",
            "",
        ]
    if results.get("tuning"):
        lines += [
            "### What helped and what did not",
            "",
            "| variant of the notebooks' path | images/s | test accuracy |",
            "|---|---|---|",
        ]
        for row in results["tuning"]:
            lines.append(
                f"| {row['label']} | {row['images_per_s']:,.0f} | {row['test_accuracy']:.4f} |"
            )
        lines.append("")
    for profile in ("fast", "full"):
        c = results.get("course", {}).get(profile)
        if not c:
            continue
        how = (
            "the last execution by `make test`/`make book`"
            if c.get("recorded")
            else "a forced execution from an empty model cache"
        )
        lines += [
            f"### Whole course, {profile} profile",
            "",
            f"Timed during {how}.",
            "",
            "| notebook | seconds | peak kernel memory (MB) |",
            "|---|---|---|",
        ]
        for name, r in c["notebooks"].items():
            status = "" if r["ok"] else " (failed)"
            lines.append(f"| {name}{status} | {r['seconds']:.0f} | {r['peak_rss_mb']:.0f} |")
        lines += [f"| **total** | **{c['total_s']:.0f}** | |", ""]
    if results.get("accuracy"):
        lines += [
            "### Accuracy next to published results",
            "",
            "| model | parameters | test accuracy |",
            "|---|---|---|",
        ]
        for row in results["accuracy"]:
            lines.append(
                f"| this course, {row['notebook']} | {row['parameters']:,} | "
                f"{row['test_accuracy']:.4f} |"
            )
        for name, prep, acc in PUBLISHED:
            lines.append(f"| published: {name} ({prep}) | | {acc:.3f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds (runs) per training path")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per throughput run")
    parser.add_argument(
        "--only",
        nargs="*",
        default=["throughput", "tuning", "fast", "full", "accuracy"],
        choices=["throughput", "tuning", "fast", "full", "accuracy"],
    )
    parser.add_argument(
        "--recorded",
        action="store_true",
        help="report the notebooks' last recorded execution instead of re-executing",
    )
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    results_path = OUT / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    results["machine"] = machine()
    results["date"] = time.strftime("%Y-%m-%d")
    if "throughput" in args.only:
        results["throughput"] = bench_throughput(
            args.seeds, args.epochs, results["machine"]["features"]
        )
    if "tuning" in args.only:
        results["tuning"] = bench_tuning(epochs=3)
    for profile in ("fast", "full"):
        if profile in args.only:
            results.setdefault("course", {})[profile] = bench_course(profile, args.recorded)
    if "accuracy" in args.only:
        results["accuracy"] = bench_accuracy()
    t = results.get("throughput", {})
    c = results.get("course", {})
    chosen = t.get("rows", {}).get(t.get("chosen"), {})
    results.update(
        {
            "chosen_path": t.get("chosen"),
            "throughput_ratio": chosen.get("ratio"),
            "fast_profile_total_s": c.get("fast", {}).get("total_s"),
            "full_profile_total_s": c.get("full", {}).get("total_s"),
            "max_kernel_rss_mb": max(
                (r["peak_rss_mb"] for p in c.values() for r in p["notebooks"].values()),
                default=None,
            ),
        }
    )
    results_path.write_text(json.dumps(results, indent=2))
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    PAGE.write_text(markdown(results))
    COMMENTARY.write_text(commentary(results))
    print(f"wrote {results_path}, {RESULTS}, {PAGE} and {COMMENTARY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
