"""How fast is the course? ``make bench`` (``python -m benchmarks``) measures, side by side:

1. training throughput of the baseline the way the notebooks train it against the
   module's plain recipe (each run in its own process, warm-up epoch, median of
   ``--reps`` repetitions), with test accuracy and GFLOP/s;
2. tuning variants of the notebooks' path (batch size, cache, prefetch, threads,
   oneDNN, XLA), one run each;
3. whole-course execution: every notebook under the fast and the full profile, from
   a cold model cache, per notebook and in total, with each kernel's peak memory;
4. the accuracy of the course's saved models next to published benchmark rows.

It writes ``_build/bench/results.json`` and ``book/speed_results.md``, the measured
tables the book's appendix page "How fast is this course?" includes.
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

from tools import course

ROOT = Path(__file__).resolve().parent.parent

OUT = course.BUILD / "bench"
PAGE = ROOT / "book" / "speed_results.md"
NOTEBOOK_BATCH_SIZE = 32  # what notebook 03 trains the baseline with

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

# The speed goals of the course on a 2-core CPU: (what, met?) from the results.
GOALS_S = {"fast": 4 * 60, "full": 20 * 60}
GOAL_RATIO = 1.3
GOAL_ACCURACY_GAP = 0.005
GOAL_RSS_MB = 3 * 1024


def goals(results: dict) -> list[tuple[str, str, bool]]:
    """Each speed goal with what was measured and whether it is met; unmeasured ones left out."""
    rows = []
    t = results.get("throughput")
    if t:
        gain = t["helpers"]["test_accuracy"] - t["plain"]["test_accuracy"]
        rows.append(
            (
                f"training throughput of the notebooks' path ≥ {GOAL_RATIO}× the plain recipe",
                f"{t['ratio']:.2f}×",
                t["ratio"] >= GOAL_RATIO,
            )
        )
        rows.append(
            (
                "its test accuracy after 5 epochs within 0.5 points of the plain recipe's",
                f"{100 * gain:+.2f} points",
                gain >= -GOAL_ACCURACY_GAP,
            )
        )
    for profile, limit in GOALS_S.items():
        c = results.get("course", {}).get(profile)
        if c:
            rows.append(
                (
                    f"{profile} profile, all notebooks: at most {limit // 60} minutes",
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
            ("no notebook kernel above 3 GB", f"{max(peaks):,.0f} MB", max(peaks) <= GOAL_RSS_MB)
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


def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {
        "tensorflow": _version("tensorflow-cpu", "tensorflow"),
        "keras": _version("keras"),
        "numpy": _version("numpy"),
        "papermill": _version("papermill"),
        "jupyter-book": _version("jupyter-book"),
    }
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "versions": versions,
    }


def throughput_run(args: list[str], env_extra: dict | None = None) -> dict:
    out = OUT / "run.json"
    env = course.kernel_env("full")
    env.update(env_extra or {})
    cmd = [sys.executable, "-m", "benchmarks.throughput", "--out", str(out), *args]
    print("$", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def bench_throughput(reps: int, epochs: int) -> dict:
    runs: dict[str, list[dict]] = {"plain": [], "helpers": []}
    for _ in range(reps):  # interleaved, so drifts of the machine hit both alike
        runs["plain"].append(throughput_run(["--variant", "plain", "--epochs", str(epochs)]))
        runs["helpers"].append(
            throughput_run(
                [
                    "--variant",
                    "helpers",
                    "--epochs",
                    str(epochs),
                    "--batch-size",
                    str(NOTEBOOK_BATCH_SIZE),
                ]
            )
        )
    summary = {}
    for name, results in runs.items():
        summary[name] = {
            "images_per_s": statistics.median(r["images_per_s"] for r in results),
            "gflops": statistics.median(r["gflops"] for r in results),
            "test_accuracy": statistics.median(r["test_accuracy"] for r in results),
            "runs": results,
        }
    summary["ratio"] = summary["helpers"]["images_per_s"] / summary["plain"]["images_per_s"]
    return summary


def bench_tuning(epochs: int) -> list[dict]:
    rows = []
    for label, args, env in TUNING:
        result = throughput_run(["--variant", "helpers", "--epochs", str(epochs), *args], env)
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
        lines += [
            "### Training throughput of the baseline",
            "",
            "| path | batch | images/s | GFLOP/s | test accuracy after 5 epochs |",
            "|---|---|---|---|---|",
            f"| plain recipe: `model.fit(x_train, y_train, epochs=5)` | 32 | "
            f"{t['plain']['images_per_s']:,.0f} | {t['plain']['gflops']:.1f} | "
            f"{t['plain']['test_accuracy']:.4f} |",
            f"| the notebooks: `helpers.training.train` (tf.data) | {NOTEBOOK_BATCH_SIZE} | "
            f"{t['helpers']['images_per_s']:,.0f} | {t['helpers']['gflops']:.1f} | "
            f"{t['helpers']['test_accuracy']:.4f} |",
            "",
            f"Ratio: **{t['ratio']:.2f}×** (median of {len(t['plain']['runs'])} runs each, "
            "each run in its own process, first epoch excluded as warm-up).",
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
    parser.add_argument("--reps", type=int, default=3, help="repetitions per throughput variant")
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
        results["throughput"] = bench_throughput(args.reps, args.epochs)
    if "tuning" in args.only:
        results["tuning"] = bench_tuning(epochs=3)
    for profile in ("fast", "full"):
        if profile in args.only:
            results.setdefault("course", {})[profile] = bench_course(profile, args.recorded)
    if "accuracy" in args.only:
        results["accuracy"] = bench_accuracy()
    t = results.get("throughput", {})
    c = results.get("course", {})
    results.update(
        {
            "throughput_ratio": t.get("ratio"),
            "helpers_images_per_s": t.get("helpers", {}).get("images_per_s"),
            "plain_images_per_s": t.get("plain", {}).get("images_per_s"),
            "fast_profile_total_s": c.get("fast", {}).get("total_s"),
            "full_profile_total_s": c.get("full", {}).get("total_s"),
            "max_kernel_rss_mb": max(
                (r["peak_rss_mb"] for p in c.values() for r in p["notebooks"].values()),
                default=None,
            ),
        }
    )
    results_path.write_text(json.dumps(results, indent=2))
    PAGE.write_text(markdown(results))
    print(f"wrote {results_path} and {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
