"""The speed page's commentary, "What the numbers say", written from ``make bench``'s results.

Every number in the text is computed here from the results that ``python -m benchmarks``
records (``book/speed_results.json``), and every comparison is stated the way the
results support it: accuracies over seeds by the course's paired rule
(:func:`helpers.comparisons.paired`, seed ``k`` of every path shares its initial weights),
single timings against the run-to-run spread that the repeated runs measured.
"""

from __future__ import annotations

from helpers import comparisons

#: The rows of the side-by-side table the commentary reads, by their keys.
PLAIN, JAX = "plain", "jax"


def path_key(policy: str, batch_size: int) -> str:
    """The key of the notebooks' path with a dtype policy and a batch size."""
    return f"course-{policy}-{batch_size}"


def _per_seed(row: dict) -> dict[int, float]:
    """A path's test accuracies by seed (the runs share seed ``k``'s initial weights)."""
    runs = row.get("runs") or []
    if runs and all("seed" in r for r in runs):
        return {int(r["seed"]): float(r["test_accuracy"]) for r in runs}
    return dict(enumerate(row["accuracies"]))


def _compared(a: dict, b: dict, name_a: str, name_b: str) -> str:
    """How path ``a``'s test accuracy compares with ``b``'s, seed by seed, in words."""
    verdict = comparisons.paired(_per_seed(a), _per_seed(b)).verdict
    if verdict == "no clear difference":
        return f"{name_a} and {name_b} cannot be told apart by the course's paired rule over these seeds"
    return f"{name_a} is clearly {verdict} than {name_b} by the course's paired rule"


def run_to_run_spread(throughput: dict) -> float:
    """The largest relative spread (highest / lowest - 1) of images/s over one path's runs.

    The same path, run once per seed, measures how much the machine's speed varies
    between runs; a single timing is compared with this.
    """
    spreads = []
    for row in throughput["rows"].values():
        speeds = [r["images_per_s"] for r in row.get("runs") or []]
        if len(speeds) > 1:
            spreads.append(max(speeds) / min(speeds) - 1)
    return max(spreads) if spreads else 0.0


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _speed_words(ratio: float, spread: float) -> str:
    """A single timing's ratio against the default, judged against the run-to-run spread."""
    if 1 / (1 + spread) <= ratio <= 1 + spread:  # as far as two runs of one path differed
        return f"{ratio:.2f}× its reference's speed, within the run-to-run spread"
    return f"{ratio:.2f}× its reference's speed, {'faster' if ratio > 1 else 'slower'}"


def _faster_path(t: dict, rows: dict) -> list[str]:
    chosen, plain = rows[t["chosen"]], rows[PLAIN]
    reference = rows.get(path_key("float32", 32))
    lines = [
        f"**The course's faster path here** ({chosen['policy']}, batches of "
        f"{chosen['batch_size']}) ran at **{chosen['ratio']:.2f}×** the plain recipe's "
        f"throughput ({chosen['images_per_s']:,.0f} against {plain['images_per_s']:,.0f} "
        f"images per second). After the same {t['epochs']} epochs its test accuracy was "
        f"{_pct(chosen['accuracy_mean'])} on average over {t['seeds']} seeds"
    ]
    if reference is not None and reference is not chosen:
        lines[0] += (
            f", against {_pct(reference['accuracy_mean'])} for the notebooks' float32 path "
            f"at batch 32 and {_pct(plain['accuracy_mean'])} for the plain recipe: "
            + _compared(chosen, reference, "the faster path", "the float32 path")
            + "."
        )
    else:
        lines[0] += "."
    return lines


def _where_from(rows: dict, peak: dict) -> list[str]:
    plain = rows[PLAIN]
    items = []
    f32 = rows.get(path_key("float32", 32))
    if f32:
        items.append(
            f"- *The notebooks' pipeline* (`tf.data`, several training steps per call into "
            f"TensorFlow), at the plain recipe's batch and precision: {f32['ratio']:.2f}×. "
            f"Its accuracy ({_pct(f32['accuracy_mean'])} against "
            f"{_pct(plain['accuracy_mean'])}): "
            + _compared(f32, plain, "the pipeline", "the plain recipe")
            + "; the two shuffle the images differently."
        )
    bf32 = rows.get(path_key("mixed_bfloat16", 32))
    if bf32:
        items.append(
            f"- *bfloat16 alone*, at batch 32: {bf32['ratio']:.2f}×. A step of 32 images is "
            "small, so the arithmetic is only part of its time."
        )
    big = [r for k, r in rows.items() if k.startswith("course-float32-") and r["batch_size"] > 32]
    if big:
        r = big[0]
        items.append(f"- *Batch {r['batch_size']} alone*, in float32: {r['ratio']:.2f}×.")
    both = [
        r
        for k, r in rows.items()
        if k.startswith("course-mixed_bfloat16-") and r["batch_size"] > 32
    ]
    if both:
        r = both[0]
        items.append(
            f"- *Both together*: {r['ratio']:.2f}×, {r['gflops']:.0f} GFLOP/s, "
            f"{r['peak_share']:.0%} of what TensorFlow's own float32 matrix multiply reached "
            f"on these cores in the same run ({peak['float32_gflops']:.0f} GFLOP/s; "
            f"{peak['bfloat16_gflops']:.0f} in bfloat16)."
        )
    return ["**Where the speed comes from.** Each change on its own row:", "", *items]


def _tuning(tuning: list[dict], spread: float) -> list[str]:
    by_label = {row["label"]: row for row in tuning}
    default = next((row for row in tuning if row["label"].startswith("batch 32 (")), None)
    if default is None:
        return []
    lines = [
        "**One change at a time** (the tuning table: one run each, 3 epochs, learning rate "
        "0.001 at every batch size). Each row against the default, batch 32; a single run is "
        f"judged against the largest run-to-run spread of the side-by-side table "
        f"({spread:.0%}):",
        "",
    ]
    for row in tuning:
        if row is default:
            continue
        reference = default
        if "XLA" in row["label"] and "batch 128" in by_label:
            reference = by_label["batch 128"]
        ratio = row["images_per_s"] / reference["images_per_s"]
        against = "" if reference is default else f" against {reference['label']} without it"
        speed = _speed_words(ratio, spread)
        accuracy = row["test_accuracy"] - reference["test_accuracy"]
        lines.append(
            f"- {row['label']}: {speed}{against}; test accuracy {row['test_accuracy']:.4f} "
            f"({100 * accuracy:+.2f} points, one run)."
        )
    lines += [
        "",
        "The batch sizes in this table keep the learning rate of batch 32: with the same "
        "rate, a larger batch takes fewer steps per epoch, and its accuracy after 3 epochs "
        "says so. The faster path instead raises the learning rate with the batch (the "
        "*linear scaling rule*, found for SGD by Goyal et al., 2017; for Adam a square-root "
        "rule is often argued), warms it up over half an epoch and decays it along a cosine: "
        "the side-by-side table measures that recipe over 5 epochs and 3 seeds, and the "
        "two tables should not be compared row by row.",
    ]
    return lines


def _jax(rows: dict) -> list[str]:
    if JAX not in rows:
        return []
    jax, plain = rows[JAX], rows[PLAIN]
    faster = "slower" if jax["ratio"] < 1 else "faster"
    return [
        f"**Keras on JAX** ran the same plain recipe at {jax['ratio']:.2f}× TensorFlow's "
        f"({jax['images_per_s']:,.0f} images per second): {faster} on these cores. Its "
        f"accuracy ({_pct(jax['accuracy_mean'])} against {_pct(plain['accuracy_mean'])}): "
        + _compared(jax, plain, "the JAX backend", "TensorFlow")
        + "."
    ]


def _course(course: dict) -> list[str]:
    lines = []
    for profile, what in (("fast", "the tests' quick settings"), ("full", "the book's settings")):
        c = course.get(profile)
        if not c:
            continue
        notebooks = c["notebooks"]
        largest = max(notebooks, key=lambda n: notebooks[n]["peak_rss_mb"])
        slowest = max(notebooks, key=lambda n: notebooks[n]["seconds"])
        lines.append(
            f"- **{profile.capitalize()} profile** ({what}): all {len(notebooks)} notebooks in "
            f"{c['total_s'] / 60:.1f} minutes; the slowest is {slowest} "
            f"({notebooks[slowest]['seconds']:.0f} s), the largest kernel {largest} "
            f"({notebooks[largest]['peak_rss_mb']:,.0f} MB)."
        )
    if not lines:
        return []
    return ["**The whole course.**", "", *lines]


def commentary(results: dict) -> str:
    """The section "What the numbers say" of the speed page, from ``make bench``'s results."""
    m = results["machine"]
    lines = [
        "<!-- Written by `make bench` (python -m benchmarks) from book/speed_results.json; "
        "do not edit by hand. -->",
        "",
    ]
    t = results.get("throughput")
    if t:
        rows = t["rows"]
        spread = run_to_run_spread(t)
        plain_speeds = [r["images_per_s"] for r in rows[PLAIN].get("runs") or []]
        noise = (
            f"the plain recipe's {len(plain_speeds)} runs ran at {min(plain_speeds):,.0f} to "
            f"{max(plain_speeds):,.0f} images per second, and the largest spread of one "
            f"path's runs was {spread:.0%}"
            if plain_speeds
            else "no path ran more than once"
        )
        lines += [
            f"All of it measured on {m['cpu']} ({m['cores']} cores; native bfloat16: "
            f"{'yes' if m['features']['native_bfloat16'] else 'no'}). Speeds vary from run "
            f"to run on a shared machine: {noise}. Ratios are taken within one run of "
            "`make bench`, where the paths take turns.",
            "",
            *_faster_path(t, rows),
            "",
            *_where_from(rows, t["peak"]),
            "",
            *_jax(rows),
            "",
        ]
        if results.get("tuning"):
            lines += [*_tuning(results["tuning"], spread), ""]
    lines += [*_course(results.get("course", {})), ""]
    accuracy = {r["notebook"]: r for r in results.get("accuracy", [])}
    if "10_capstone" in accuracy:
        cap = accuracy["10_capstone"]
        lines += [
            f"**The capstone's saved model**, loaded and evaluated on its own on the test "
            f"set: {_pct(cap['test_accuracy'])}, with {cap['parameters']:,} parameters.",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"
