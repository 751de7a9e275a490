"""Train the capstone's variants for a number of epochs or of seconds (notebook 10's search and goals).

    python -m tools.budget search --seeds 0,1,2              # every variant, SEARCH_EPOCHS each
    python -m tools.budget search --seeds 0 --variants recipe
    python -m tools.budget goal --seconds 300,600 --seeds 0,1,2             # test accuracy too
    python -m tools.budget baseline --seconds 600 --seeds 0                 # notebook 03's curve

Each run is one :func:`helpers.budget.run` (or :func:`helpers.budget.baseline_curve`) in
this process, one after another: never run two at once on the same computer, since the
budget is wall-clock time. Rows are appended to ``helpers/results/capstone_budget_runs.csv``
(or ``capstone_budget_baseline.csv``), which ship with the helpers; a run already in the
file (same variant, seed and budget) is skipped, so an interrupted search resumes. The
search trains every variant for
:data:`helpers.budget.SEARCH_EPOCHS` epochs and judges it on the validation images; once
it has chosen the recipe and its evaluation (:data:`helpers.budget.CHOSEN`), ``goal``
trains the recipe for each time budget and measures its test accuracy once.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from helpers import budget


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def _append(row_or_rows, path) -> None:
    table = pd.DataFrame(row_or_rows)
    if path.exists():
        table = pd.concat([pd.read_csv(path), table], ignore_index=True)
    table.to_csv(path, index=False)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("search", "goal", "baseline"))
    parser.add_argument("--seconds", default="", help="budgets, comma-separated (not search)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--variants", default=",".join(budget.VARIANTS), help="search only")
    args = parser.parse_args(argv)
    seeds, budgets = _ints(args.seeds), _ints(args.seconds)
    if args.what == "baseline":
        path = budget.results_path("capstone_budget_baseline.csv")
        for seed in seeds:
            curve = budget.baseline_curve(seed, max(budgets))
            _append(curve, path)
            print(f"baseline seed {seed}: {len(curve)} epochs, last {curve.iloc[-1].to_dict()}")
        return
    path = budget.results_path("capstone_budget_runs.csv")
    done = pd.read_csv(path) if path.exists() else pd.DataFrame(columns=budget.RUN_COLUMNS)
    search = args.what == "search"
    variants = args.variants.split(",") if search else ["recipe"]
    for seconds in [None] if search else budgets:
        for seed in seeds:
            for variant in variants:
                same_length = done["budget_s"].isna() if search else done["budget_s"] == seconds
                if ((done["variant"] == variant) & (done["seed"] == seed) & same_length).any():
                    continue
                start = time.perf_counter()
                row = budget.run(
                    variant,
                    seed,
                    seconds,
                    epochs=budget.SEARCH_EPOCHS if search else None,
                    test=not search,
                    evaluate_as=budget.CHOSEN,
                )
                _append([row], path)
                shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
                print(f"{time.perf_counter() - start:.0f} s: {shown}", flush=True)


if __name__ == "__main__":
    main()
