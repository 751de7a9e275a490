"""Run the course's seed sweeps and write them into the helpers' shipped results.

    python tools/sweep.py                 # every experiment (make sweep)
    python tools/sweep.py pooling dropout # some of them

Each experiment of :data:`helpers.sweeps.EXPERIMENTS` is trained with the book's
settings for every seed of the experiment; the results go to
``helpers/results/sweep_<name>_runs.csv`` and ``..._curves.csv``. Offline, on 2 CPU
cores, all of them take about two and a half hours (notebook 10's ablation an hour
and a half of it); on
the same machine a second run writes the same files.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from helpers import sweeps

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "experiments",
        nargs="*",
        default=list(sweeps.EXPERIMENTS),
        help=f"which experiments to run (default: all of {list(sweeps.EXPERIMENTS)})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "helpers" / "results",
        help="folder for the CSV files (default: the helpers' shipped results)",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.experiments if name not in sweeps.EXPERIMENTS]
    if unknown:
        parser.error(
            f"unknown experiment(s) {unknown}; expected some of {list(sweeps.EXPERIMENTS)}"
        )
    for name in args.experiments:
        start = time.perf_counter()
        sweep = sweeps.run(name, folder=args.out)
        minutes = (time.perf_counter() - start) / 60
        print(f"\n{name}: {len(sweep.runs)} runs in {minutes:.1f} min", flush=True)
        print(sweep.summary().to_string(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
