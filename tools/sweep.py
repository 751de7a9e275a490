"""Run the course's seed sweeps, all seeds at once or a few at a time, and merge the parts.

    python -m tools.sweep                         # every experiment, every seed (make sweep)
    python -m tools.sweep pooling dropout         # some of them
    python -m tools.sweep pooling --seeds 0,1     # some seeds: a partial result (see below)
    python -m tools.sweep merge pooling           # the partial results into the shipped files

Each experiment of :data:`helpers.sweeps.EXPERIMENTS` is trained with the book's
settings for every seed of the experiment; the results go to
``helpers/results/sweep_<name>_runs.csv`` and ``..._curves.csv``. Offline, on 2 CPU
cores, all of them take about two and a half hours (notebook 10's ablation an hour
and a half of it); on the same machine a second run writes the same files.

With ``--seeds``, only those seeds run, and the files go to a partial folder,
``_build/sweeps/<name>/seeds-0-1/`` (the runs, the curves, and a record of the
experiment's settings, policy and versions). Partial folders made on several machines,
copied into ``_build/sweeps/<name>/``, are combined by ``merge`` into the shipped files,
byte for byte those that one run over every seed writes; ``merge`` refuses partials that
overlap, leave a seed out, or ran another experiment, other settings, another precision
or other versions.

The variants of an experiment are defined once. Where the experiment's notebook teaches
them, they are its cell tagged ``sweep-variants``: this tool reads
that cell and runs the statements that build ``VARIANTS`` (with the notebook's default
parameters and its imports), as the notebook does. Where the notebook does not write them
(03's single baseline, 10's ablation), :data:`helpers.sweeps.EXPERIMENTS` holds them.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path

import nbformat

from helpers import sweeps

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PARTIALS = ROOT / "_build" / "sweeps"
SHIPPED = ROOT / "helpers" / "results"

#: The tag of the notebook cell that defines an experiment's ``VARIANTS``.
TAG = sweeps.VARIANTS_TAG
NAME = "VARIANTS"
# Methods that change a dict in place: a statement calling one of them on VARIANTS
# defines part of it.
_MUTATORS = {"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__"}


# --------------------------------------------------------------------------- variants


def variants_cell(nb: nbformat.NotebookNode, notebook: Path) -> nbformat.NotebookNode:
    """The one code cell of ``nb`` (read from ``notebook``) tagged :data:`TAG`."""
    cells = [c for c in nb.cells if TAG in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1 or cells[0].cell_type != "code":
        raise ValueError(
            f"{notebook.name} has {len(cells)} cell(s) tagged {TAG!r}"
            + (f" (a {cells[0].cell_type} cell)" if len(cells) == 1 else "")
            + f"; expected exactly one code cell, the one that defines {NAME}: add the tag "
            "to its metadata (in JupyterLab: the property inspector, Cell Tags)"
        )
    return cells[0]


def _stores(node: ast.AST) -> set[str]:
    """Names a statement binds: assignment targets, loop targets, definitions, imports."""
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in sub.names)
    return names


def _free(node: ast.AST) -> set[str]:
    """Names a statement reads that it does not bind itself (lambda arguments,
    comprehension and loop variables are bound inside it)."""
    loads = {
        sub.id
        for sub in ast.walk(node)
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load)
    }
    inner = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.arg):
            inner.add(sub.arg)
        elif isinstance(sub, (ast.comprehension, ast.For)):
            inner |= {n.id for n in ast.walk(sub.target) if isinstance(n, ast.Name)}
    return loads - inner


def _defines_variants(node: ast.stmt) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id == NAME and isinstance(sub.ctx, ast.Store):
            return True
        if (
            isinstance(sub, ast.Subscript)
            and isinstance(sub.value, ast.Name)
            and sub.value.id == NAME
            and isinstance(sub.ctx, (ast.Store, ast.Del))
        ):
            return True
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and isinstance(sub.func.value, ast.Name)
            and sub.func.value.id == NAME
            and sub.func.attr in _MUTATORS
        ):
            return True
    return False


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:  # a cell with shell or magic lines cannot bind what VARIANTS needs
        return None


def notebook_variants(notebook: str | Path, folder: Path = NOTEBOOKS) -> dict[str, Callable]:
    """The ``VARIANTS`` that ``notebook``'s cell tagged :data:`TAG` defines.

    ``notebook`` is a notebook's name (``"05_pooling"``, in ``folder``) or its path. Runs,
    in a fresh namespace, only the statements of that cell that build ``VARIANTS`` and
    those they need (not the training that follows them in the cell), after the
    notebook's parameters cell (its defaults, the book's settings) and the imports of
    the cells above that bind a name they use.
    """
    path = Path(notebook)
    if path.suffix != ".ipynb":
        path = folder / f"{notebook}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = variants_cell(nb, path)
    where = f"{path.name}, cell tagged {TAG!r}"
    tree = _parse(cell.source)
    if tree is None:
        raise ValueError(f"{where}: not valid Python; expected the cell that defines {NAME}")
    body = tree.body
    defining = [i for i, node in enumerate(body) if _defines_variants(node)]
    if not defining:
        raise ValueError(f"{where}: no statement assigns {NAME}; expected `{NAME} = {{...}}`")
    # The statements that define VARIANTS, and, going back, those binding what they read.
    keep, needed = set(), set()
    for i in range(defining[-1], -1, -1):
        if i in defining or _stores(body[i]) & needed:
            keep.add(i)
            needed = (needed - _stores(body[i])) | _free(body[i])
    needed -= set(dir(builtins))
    namespace: dict = {"__name__": "__sweep_variants__"}
    parameters = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if parameters:
        exec(compile(parameters[0].source, f"{path.name}, parameters", "exec"), namespace)
    needed -= set(namespace)
    index = nb.cells.index(cell)
    for above in nb.cells[:index]:
        module = _parse(above.source) if above.cell_type == "code" else None
        for node in module.body if module else []:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and _stores(node) & needed:
                code = compile(ast.Module(body=[node], type_ignores=[]), path.name, "exec")
                exec(code, namespace)
                needed -= _stores(node)
    if needed:
        raise ValueError(
            f"{where}: {NAME} uses {sorted(needed)}, which neither that cell, the "
            "parameters cell nor an import above it defines; define them in that cell"
        )
    selected = ast.Module(body=[body[i] for i in sorted(keep)], type_ignores=[])
    exec(compile(selected, where, "exec"), namespace)
    variants = namespace.get(NAME)
    if (
        not isinstance(variants, dict)
        or not variants
        or not all(isinstance(k, str) and callable(v) for k, v in variants.items())
    ):
        raise ValueError(
            f"{where}: {NAME} is {variants!r}; expected a non-empty dict mapping a name to a "
            'function that builds a model, e.g. {"max": lambda: models.cnn(pooling="max")}'
        )
    return variants


def experiment(name: str, folder: Path = NOTEBOOKS) -> sweeps.Experiment:
    """The experiment ``name`` with its variants: from :data:`helpers.sweeps.EXPERIMENTS`,
    or, where it leaves them to the notebook, from the notebook's cell tagged :data:`TAG`."""
    found = sweeps.EXPERIMENTS[name]()
    if found.variants is not None:
        return found
    return dataclasses.replace(found, variants=notebook_variants(found.notebook, folder))


# --------------------------------------------------------------------------- command line


def _seed_list(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.replace(" ", ",").split(",") if s]
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of seeds; expected whole numbers from 0 separated by "
            "commas, e.g. --seeds 0,1"
        )
    return seeds


def partial_folder(name: str, seeds: list[int]) -> Path:
    """Where ``--seeds`` writes a partial result: ``_build/sweeps/<name>/seeds-0-1``."""
    return PARTIALS / name / ("seeds-" + "-".join(str(s) for s in seeds))


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.sweep", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "experiments",
        nargs="*",
        default=list(sweeps.EXPERIMENTS),
        help=f"which experiments to run (default: all of {list(sweeps.EXPERIMENTS)})",
    )
    parser.add_argument(
        "--seeds",
        type=_seed_list,
        help="run only these seeds, e.g. 0,1, into a partial folder for `merge` "
        "(default: every seed of the experiment, into the shipped results)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="folder for the files (default: the helpers' shipped results; with --seeds, "
        "_build/sweeps/<name>/seeds-<seeds>)",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.experiments if name not in sweeps.EXPERIMENTS]
    if unknown:
        parser.error(
            f"unknown experiment(s) {unknown}; expected some of {list(sweeps.EXPERIMENTS)}"
        )
    # Every request is checked, and every notebook's variants read, before anything trains.
    if args.seeds is not None:
        for name in args.experiments:
            try:
                sweeps.check_partial_seeds(name, args.seeds)
            except ValueError as error:
                parser.error(str(error))
    found = {name: experiment(name) for name in args.experiments}
    for name in args.experiments:
        start = time.perf_counter()
        variants = found[name].variants
        if args.seeds is None:
            sweep = sweeps.run(name, folder=args.out or SHIPPED, variants=variants)
        else:
            folder = args.out or partial_folder(name, args.seeds)
            sweep = sweeps.run_partial(name, args.seeds, folder, variants=variants)
        minutes = (time.perf_counter() - start) / 60
        print(f"\n{name}: {len(sweep.runs)} runs in {minutes:.1f} min", flush=True)
        print(sweep.summary().to_string(), flush=True)
        if args.seeds is not None:
            print(
                f"\nA partial result (seeds {args.seeds}) is in {folder}. When every seed "
                f"has run, copy the partial folders into {PARTIALS / name} and run\n"
                f"    make sweep-merge SWEEP={name}\n"
                f"(or python -m tools.sweep merge {name} <partial folders>)",
                flush=True,
            )
    return 0


def _merge(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.sweep merge",
        description="Combine partial results of one experiment into its shipped files.",
    )
    parser.add_argument("experiment", choices=list(sweeps.EXPERIMENTS))
    parser.add_argument(
        "partials",
        nargs="*",
        type=Path,
        help="partial folders (or files in them) written by --seeds "
        "(default: every folder in _build/sweeps/<experiment>/)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=SHIPPED,
        help="folder for the merged files (default: the helpers' shipped results)",
    )
    args = parser.parse_args(argv)
    partials = args.partials
    if not partials:
        here = PARTIALS / args.experiment
        partials = sorted(p for p in here.glob("*") if p.is_dir()) if here.is_dir() else []
        if not partials:
            parser.error(
                f"no partial folders in {here}; run `make sweep SWEEP={args.experiment} "
                "SEEDS=...` (on each machine), copy the folders there, or name them"
            )
    try:
        sweep = sweeps.merge(args.experiment, partials, folder=args.out)
    except (ValueError, FileNotFoundError) as error:
        print(f"merge: {error}", file=sys.stderr)
        return 2
    print(
        f"{args.experiment}: merged {len(partials)} partial result(s), seeds {sweep.seeds}, "
        f"into {args.out}"
    )
    print(sweep.summary().to_string(), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["merge"]:
        return _merge(argv[1:])
    return _run(argv)


if __name__ == "__main__":
    sys.exit(main())
