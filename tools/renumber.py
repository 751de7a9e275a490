"""Renumber the notebooks after one is inserted into ``_toc.yml``.

    python -m tools.renumber --dry-run   # list what would be renamed and rewritten
    python -m tools.renumber             # do it (git mv for the files git tracks)

A notebook's number is its place in ``_toc.yml``: the tenth notebook listed is
``notebooks/10_<topic>.ipynb``. To insert a chapter, copy the template to a name without a
number (``notebooks/transfer.ipynb``), list it in ``_toc.yml`` where it belongs
(``- file: notebooks/transfer``) and run this. It gives the new notebook its number
(``10_transfer``, and its ``NN`` placeholders), and every notebook whose place changed
its new number (``10_capstone`` becomes ``11_capstone``):

- it renames their files: the notebook, its claims checks (``tools/claims/<name>.py``),
  its exercise checks (``helpers/exercises/nbNN.py``) and their tests
  (``tests/test_exercises_nbNN.py``; a file for a range, ``nb05_07``, gets the range's new
  ends);
- it rewrites, in every text file of the repository, each reference to their old
  numbers: the notebook's name (``10_capstone``), exercise ids (``"10.2"``, ``Exercise
  10.2``, ``answer_10_2``), module names (``nb10``), ``NB=10``, ``python -m
  tools.grading 10``, the titles (``# 10 · ...``), the README's table (``| 10 |``), a
  name in backticks followed by its notebook (the README's capstone_ablation (10)), and the
  prose's "notebook 10", "notebooks 05–08 and 10" and "10's".

Numbers inside other numbers (``3.10.0``, ``10.0``) and exercise ids that no notebook or
check defines are left alone, and the measured results (``*.csv``) keep their numbers but
not their notebook names. A range gets its new ends (``notebooks 05–08`` becomes
``05–09``), and the dry run lists each range that now holds the inserted notebook, to be
read again: is the new notebook one of them? A sentence that names a notebook's number in
another way ("the tenth notebook") is not found: read the diff before committing it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tools import course

ROOT = Path(__file__).resolve().parent.parent
NUMBERED = re.compile(r"(\d\d)_(\w+)")
# Files under these folders are neither renamed nor rewritten.
SKIPPED_DIRS = {".git", ".venv", "_build", "node_modules", "__pycache__", ".ipynb_checkpoints"}
# This tool's own examples and its tests' stay as they are.
SKIPPED_FILES = {Path("tools/renumber.py"), Path("tests/test_renumber.py")}
# Measured results: their notebook names are rewritten, their numbers are data.
DATA_SUFFIXES = {".csv"}


class RenumberError(ValueError):
    """A table of contents this tool cannot renumber: says what and what to do."""


@dataclass
class Plan:
    """What renumbering changes: notebook names, numbers, and the new notebooks' numbers."""

    names: dict[str, str] = field(default_factory=dict)  # old notebook name -> new
    numbers: dict[str, str] = field(default_factory=dict)  # old two-digit number -> new
    new: dict[str, str] = field(default_factory=dict)  # unnumbered new notebook -> its number
    renames: list[tuple[Path, Path]] = field(default_factory=list)  # relative paths
    edits: dict[Path, list[tuple[int, str, str]]] = field(default_factory=dict)  # for the eye
    texts: dict[Path, tuple[str, str]] = field(default_factory=dict)  # path: (old, new)
    review: list[str] = field(default_factory=list)  # "path:line" of ranges to read again

    @property
    def empty(self) -> bool:
        return not self.names


def toc_notebooks(root: Path) -> list[str]:
    """The notebooks of ``root``'s ``_toc.yml`` in book order, by name (``10_capstone``)."""
    return [Path(entry).name for entry in course.toc_notebooks(root / "_toc.yml")]


def numbering(notebooks: list[str]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(names, numbers, new) for notebooks listed in this order: each notebook's number
    becomes its place, counting from 01."""
    names: dict[str, str] = {}
    numbers: dict[str, str] = {}
    new: dict[str, str] = {}
    owners: dict[str, list[str]] = {}
    for name in notebooks:
        match = NUMBERED.fullmatch(name)
        if match:
            owners.setdefault(match[1], []).append(name)
    shared = {number: names for number, names in owners.items() if len(names) > 1}
    if shared:
        number, both = sorted(shared.items())[0]
        raise RenumberError(
            f"_toc.yml lists {', '.join(both)}, which share the number {number}; expected "
            "each number once. Give the new notebook a name without a number (such as "
            f"notebooks/{NUMBERED.fullmatch(both[-1])[2]}.ipynb), list that in _toc.yml, "
            "and run this again: it numbers it"
        )
    for place, name in enumerate(notebooks, start=1):
        number = f"{place:02d}"
        match = NUMBERED.fullmatch(name)
        if match is None:
            if not re.fullmatch(r"[a-z]\w*", name):
                raise RenumberError(
                    f"_toc.yml lists notebooks/{name}; expected a name of lower-case letters, "
                    "digits and underscores, such as notebooks/transfer (no number: this "
                    "tool gives it one) or notebooks/03_training"
                )
            names[name] = f"{number}_{name}"
            new[name] = number
        elif match[1] != number:
            names[name] = f"{number}_{match[2]}"
            numbers[match[1]] = number
    return names, numbers, new


def files(root: Path) -> list[Path]:
    """The repository's files, relative to ``root``: what git tracks or would track (not
    what it ignores), or, outside a git repository, every file but :data:`SKIPPED_DIRS`."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if listed.returncode == 0 and (root / ".git").exists():
        paths = [Path(p) for p in listed.stdout.split("\0") if p]
    else:
        paths = [p.relative_to(root) for p in root.rglob("*") if p.is_file()]
    return sorted(
        p
        for p in paths
        if not SKIPPED_DIRS.intersection(p.parts)
        and p not in SKIPPED_FILES
        and (root / p).is_file()
    )


def _exercise_ids(texts: dict[Path, str], numbers: set[str]) -> set[str]:
    """The exercise ids of the notebooks numbered ``numbers``, as the notebooks and the
    checks define them (``**Exercise 10.2``, ``@exercise("10.2")``)."""
    defined = re.compile(r"""\*\*Exercise (\d\d\.\d+)|@exercise\(\s*["'](\d\d\.\d+)["']""")
    ids = set()
    for text in texts.values():
        for match in defined.finditer(text.replace('\\"', '"')):
            found = match[1] or match[2]
            if found[:2] in numbers:
                ids.add(found)
    return ids


def _rewriter(names: dict[str, str], numbers: dict[str, str], ids: set[str]):
    """A function (text, is_data) -> text that applies every rewrite at once, so that
    nothing it writes is rewritten again (09 -> 10 and 10 -> 11 together)."""
    number = "|".join(sorted(numbers)) or "(?!)"
    num = rf"(?:{number})"
    sep = r"(?:, and |, | and | or | to |-|–)"
    id_alt = "|".join(re.escape(i) for i in sorted(ids)) or "(?!)"
    id_underscore = "|".join(re.escape(i.replace(".", "_")) for i in sorted(ids)) or "(?!)"
    numbered = [n for n in names if NUMBERED.fullmatch(n)]
    unnumbered = [n for n in names if not NUMBERED.fullmatch(n)]
    name_alt = "|".join(re.escape(n) for n in sorted(numbered, key=len, reverse=True))
    new_alt = "|".join(re.escape(n) for n in sorted(unnumbered, key=len, reverse=True))
    parts = {
        # 10_capstone (a notebook's name, in a path, a key or a string)
        "name": rf"(?<![A-Za-z0-9])(?:{name_alt or '(?!)'})(?![A-Za-z0-9_])",
        # notebooks/transfer, transfer.ipynb: a new notebook's name only where it is a file
        "new": rf"(?<=notebooks/)(?:{new_alt or '(?!)'})(?![\w-])"
        rf"|(?<![\w/-])(?:{new_alt or '(?!)'})(?=\.ipynb\b)",
        # nb10, nb05_07 (the exercise checks' modules and their tests)
        "module": r"(?<![A-Za-z0-9])nb\d\d(?:_\d\d)?(?![0-9])",
        # 10.2, answer_10_2
        "id": rf"(?<![\w.])(?:{id_alt})(?!\w|\.\d)",
        "id_": rf"(?<=[A-Za-z0-9]_)(?:{id_underscore})(?![0-9])",
        # notebook 10, notebooks 03, 05-08 and 10, NB=10, tools.grading 10
        "prose": rf"(?:\b[Nn]otebooks? |\bNB=|\btools\.grading )\d\d(?:{sep}\d\d)*(?!\w|\.\d)",
        # 10's ablation; # 10 · Title; | 10 | `notebooks/10_...` (the README's table);
        # `capstone_ablation` (10), a name in backticks followed by its notebook's number
        "own": rf"(?<![\w.]){num}(?='s\b)|(?<=# ){num}(?= ·)|(?<=\| ){num}(?= \| `notebooks/)"
        rf"|(?<=` \(){num}(?=\))",
    }
    data_parts = {"name", "new"}
    pattern = re.compile("|".join(f"(?P<{k}>{v})" for k, v in parts.items()))
    data_pattern = re.compile("|".join(f"(?P<{k}>{parts[k]})" for k in data_parts))

    def two_digits(text: str) -> str:
        return re.sub(r"(?<!\d)\d\d(?!\d)", lambda m: numbers.get(m[0], m[0]), text)

    def replace(match: re.Match) -> str:
        kind, text = match.lastgroup, match[0]
        if kind in ("name", "new"):
            return names[text]
        if kind == "module":
            return two_digits(text)
        if kind in ("id", "id_"):
            return numbers[text[:2]] + text[2:]
        if kind == "prose":
            head = re.match(r"\D*", text)[0]
            return head + two_digits(text[len(head) :])
        return numbers[text]  # own

    def rewrite(text: str, is_data: bool) -> str:
        return (data_pattern if is_data else pattern).sub(replace, text)

    return rewrite


RANGE = re.compile(r"(?<!\d)(\d\d)(?:-|–| to |_)(\d\d)(?!\d)")


def _spans(line: str, inserted: set[str]) -> bool:
    """Whether a range on the line (05–08, nb05_08) now holds an inserted notebook."""
    return any(
        int(low) <= int(number) <= int(high)
        for low, high in RANGE.findall(line)
        for number in inserted
    )


def _placeholders(text: str, number: str) -> str:
    """A new notebook's ``NN`` placeholders (the template's) with its number."""
    return re.sub(r"(?<![A-Za-z0-9])NN(?=[._]\d| ·)", number, text)


def plan(root: Path = ROOT) -> Plan:
    """What renumbering the notebooks of ``root``'s ``_toc.yml`` changes (nothing yet)."""
    notebooks = toc_notebooks(root)
    missing = [n for n in notebooks if not (root / "notebooks" / f"{n}.ipynb").is_file()]
    if missing:
        raise RenumberError(
            f"_toc.yml lists {', '.join(f'notebooks/{n}' for n in missing)}, but there is "
            f"no such .ipynb under {root / 'notebooks'}; create it (copy "
            "notebooks/_template.ipynb) or correct _toc.yml"
        )
    names, numbers, new = numbering(notebooks)
    result = Plan(names=names, numbers=numbers, new=new)
    if result.empty:
        return result
    paths = files(root)
    texts: dict[Path, str] = {}
    for path in paths:
        try:
            texts[path] = (root / path).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # images and other binary files name no notebook
    rewrite = _rewriter(names, numbers, _exercise_ids(texts, set(numbers)))
    # The new notebooks' own files, whose NN placeholders take their number.
    own = {Path("notebooks") / f"{name}.ipynb": number for name, number in new.items()}
    for path, text in texts.items():
        changed = rewrite(text, path.suffix in DATA_SUFFIXES)
        if path in own:
            changed = _placeholders(changed, own[path])
        if changed != text:
            before, after = text.splitlines(), changed.splitlines()
            if len(before) != len(after):  # the rewrites never add or remove a line
                raise AssertionError(f"{path}: renumbering changed the number of lines")
            result.edits[path] = [
                (i + 1, old, new_line)
                for i, (old, new_line) in enumerate(zip(before, after, strict=True))
                if old != new_line
            ]
            result.texts[path] = (text, changed)
            result.review += [
                f"{path}:{number}"
                for number, _, line in result.edits[path]
                if _spans(line, set(new.values()))
            ]
        target = path.with_name(rewrite(path.name, False))
        if path.parent == Path("tools", "claims") and path.stem in new:
            target = path.with_name(f"{names[path.stem]}{path.suffix}")
        if target != path:
            result.renames.append((path, target))
            if _spans(target.name, set(new.values())):
                result.review.append(str(target))
    sources = {old for old, _ in result.renames}
    existing = set(paths)
    taken = [to for _, to in result.renames if to in existing and to not in sources]
    if taken:
        raise RenumberError(
            f"renumbering would rename a file onto {taken[0]}, which exists; expected the "
            "new names to be free. Move that file away, or correct _toc.yml"
        )
    return result


def _tracked(root: Path, path: Path) -> bool:
    return (
        subprocess.run(
            ["git", "ls-files", "--error-unmatch", str(path)],
            cwd=root,
            capture_output=True,
        ).returncode
        == 0
    )


def apply(result: Plan, root: Path = ROOT) -> None:
    """Rewrite the files, then rename them (``git mv`` for what git tracks)."""
    for path, (old, new) in result.texts.items():
        file = root / path
        if file.read_text(encoding="utf-8") != old:
            raise RenumberError(f"{path} changed since the plan was made; run this again")
        file.write_text(new, encoding="utf-8")
    git = (root / ".git").exists()
    # Through temporary names first, so that 09 -> 10 and 10 -> 11 do not collide.
    moves = []
    for index, (old, new) in enumerate(result.renames):
        temporary = old.with_name(f".renumber-{index}-{old.name}")
        moves.append((old, temporary, new))
    for step in ((0, 1), (1, 2)):
        for paths in moves:
            source, target = paths[step[0]], paths[step[1]]
            if git and _tracked(root, source):
                subprocess.run(["git", "mv", str(source), str(target)], cwd=root, check=True)
            else:
                shutil.move(root / source, root / target)


def describe(result: Plan) -> str:
    """The plan as the dry run prints it."""
    if result.empty:
        return "Every notebook already has the number of its place in _toc.yml: nothing to do."
    lines = ["Notebooks:"]
    lines += [f"  {old} -> {new}" for old, new in result.names.items()]
    lines.append("Files renamed:")
    lines += [f"  {old} -> {new}" for old, new in result.renames]
    count = sum(len(v) for v in result.edits.values())
    if result.review:
        lines.append("Ranges that now hold the inserted notebook (is it one of them? read each):")
        lines += [f"  {where}" for where in result.review]
    lines.append(f"Lines rewritten: {count} in {len(result.edits)} files")
    for path, edits in result.edits.items():
        for number, old, new in edits:
            lines.append(f"  {path}:{number}")
            lines.append(f"    - {old.strip()[:150]}")
            lines.append(f"    + {new.strip()[:150]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list the renames and rewrites; change nothing"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        result = plan(args.root)
    except RenumberError as err:
        print(f"renumber: {err}", file=sys.stderr)
        return 2
    print(describe(result))
    if not args.dry_run and not result.empty:
        apply(result, args.root)
        print(
            "Done. Now run `python -m tools.notebook_header` (the Colab badges name the "
            "files), read `git diff`, and run the tests."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
