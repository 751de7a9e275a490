"""Build the course book as one PDF, and check it.

    python -m tools.pdf                  # full profile: executes what changed, then the PDF
    python -m tools.pdf --profile fast   # the tests' profile (quick settings)
    python -m tools.pdf --no-execute     # the notebooks as last executed, running none

Jupyter Book 1's LaTeX builder (``jupyter-book build --builder pdflatex``: Sphinx writes
LaTeX, latexmk runs XeLaTeX) turns the staged book of ``course.stage`` (the book's
sources with the executed notebooks in place) into one PDF with the table of contents,
the figures and the formulas. The PDF is then checked (:func:`problems`): every chapter
of ``_toc.yml`` is in its outline and on its first page, each notebook's chapter holds
at least as many images as the notebook has figures, and no character went missing for
want of a glyph in the fonts.

The full profile's PDF is ``_build/pdf/<name>.pdf``, the fast profile's
``_build/pdf/<name>-fast.pdf``, where ``<name>`` is ``latex.latex_documents.targetname``
of ``_config.yml`` without ``.tex``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import yaml
from pypdf import PdfReader

from tools import course

PDF_DIR = course.BUILD / "pdf"
# What the LaTeX build needs, and the Debian package that has it (`make pdf` installs
# the packages that are missing). Commands are looked up on PATH, files with kpsewhich.
NEEDS = {
    "xelatex": "texlive-xetex",
    "latexmk": "latexmk",
    "xindy": "xindy",  # Sphinx's index under XeLaTeX
    "kpsewhich": "texlive-xetex",
    "fncychap.sty": "texlive-latex-extra",  # Sphinx's chapter headings
    "pzdr.tfm": "texlive-fonts-recommended",  # ZapfDingbats, which XeTeX's links load
    "bbm.sty": "texlive-fonts-extra",  # sphinx-jupyterbook-latex's blackboard bold
    "NotoEmoji-Regular.ttf": "texlive-fonts-extra",  # ✅ ❌ ⏳ (_config.yml)
    "FreeSerif.otf": "fonts-freefont-otf",  # Sphinx's fonts under XeLaTeX
}
# XeTeX's log line for a character that the current font has no glyph for; the
# character is then left out of the PDF without an error. (The log wraps long lines.)
MISSING_GLYPH = re.compile(r"Missing character: There is no (.+?) in font \[?([^\]/:!\n]+)")


class PdfFailed(RuntimeError):
    """The PDF could not be built, or it lacks a chapter, a figure or a character."""


def target_name(config: Path = course.ROOT / "_config.yml") -> str:
    """The PDF's file name without extension, from ``latex.latex_documents.targetname``."""
    settings = yaml.safe_load(config.read_text()) or {}
    target = (settings.get("latex") or {}).get("latex_documents", {}).get("targetname")
    if not isinstance(target, str) or not target.endswith(".tex"):
        raise PdfFailed(
            f"{config.name}: latex.latex_documents.targetname is {target!r}; expected a "
            "file name ending in .tex, e.g. 'fashion-mnist-cnns.tex' (the PDF takes its "
            "name from it)"
        )
    return target.removesuffix(".tex")


def pdf_path(profile: str) -> Path:
    """Where the PDF of a profile is written."""
    suffix = "" if profile == "full" else f"-{profile}"
    return PDF_DIR / f"{target_name()}{suffix}.pdf"


def missing_packages() -> list[str]:
    """The Debian packages to install before the PDF can be built (empty: none)."""
    kpsewhich = shutil.which("kpsewhich")
    missing = []
    for need, package in NEEDS.items():
        if "." not in need:
            found = shutil.which(need) is not None
        else:
            found = kpsewhich is not None and bool(
                subprocess.run([kpsewhich, need], capture_output=True, text=True).stdout.strip()
            )
        if not found and package not in missing:
            missing.append(package)
    return missing


def chapters(stage_dir: Path) -> list[tuple[str, str, int]]:
    """The book's chapters in order: ``(file, title, figures)``.

    ``file`` is the entry of ``_toc.yml``, ``title`` its first ``#`` heading, ``figures``
    the images a notebook's outputs hold (0 for a Markdown page).
    """
    files = course.toc_files(stage_dir / "_toc.yml")
    found = []
    for entry in files:
        notebook = stage_dir / f"{entry}.ipynb"
        if notebook.is_file():
            cells = json.loads(notebook.read_text())["cells"]
            markdown = "\n".join(_text(c["source"]) for c in cells if c["cell_type"] == "markdown")
            figures = sum(
                1
                for cell in cells
                for output in cell.get("outputs", [])
                if "image/png" in output.get("data", {})
            )
        else:
            markdown, figures = (stage_dir / f"{entry}.md").read_text(), 0
        heading = re.search(r"^# (.+)$", markdown, re.M)
        if heading is None:
            raise PdfFailed(
                f"{entry}: no '# Title' heading; every page of the book starts with one"
            )
        found.append((entry, heading.group(1).strip(), figures))
    return found


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else source


def _squash(text: str) -> str:
    """Text compared without case, spacing, hyphenation or typographic variants."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"[\s\-‐–—­]+", "", text)


def _outline(reader) -> list[tuple[str, int]]:
    """The PDF's bookmarks (its navigable table of contents), flattened: (title, page)."""
    flat = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                flat.append((str(item.title), reader.get_destination_page_number(item)))

    walk(reader.outline)
    return flat


def _images(page) -> int:
    """The image XObjects a page draws, including those inside its form XObjects."""
    seen: set[int] = set()

    def count(resources) -> int:
        resources = resources.get_object() if resources is not None else None
        if not resources or "/XObject" not in resources:
            return 0
        total = 0
        for ref in resources["/XObject"].get_object().values():
            key = getattr(ref, "idnum", None) or id(ref)
            if key in seen:
                continue
            seen.add(key)
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Image":
                total += 1
            elif xobject.get("/Subtype") == "/Form":
                total += count(xobject.get("/Resources"))
        return total

    return count(page.get("/Resources"))


def problems(pdf: Path, expected: list[tuple[str, str, int]]) -> list[str]:
    """What the PDF lacks of the chapters ``expected`` (see :func:`chapters`): a chapter
    missing from its outline or from its first page, or fewer images in a chapter than
    its notebook has figures. Empty when the PDF is complete.

    The first entry, the root of ``_toc.yml``, is no chapter in the PDF: Jupyter Book
    prints it after the table of contents, under the book's title; its title must be on
    the pages before the first chapter.
    """
    reader = PdfReader(pdf)
    outline = [(_squash(title), page) for title, page in _outline(reader)]
    wrong = []
    starts: dict[str, int] = {}
    for entry, title, _ in expected[1:]:
        page = next((p for t, p in outline if t == _squash(title)), None)
        if page is None:
            wrong.append(
                f"{entry}: chapter {title!r} is not in the PDF's table of contents; it has "
                f"{[t for t, _ in _outline(reader)]}"
            )
            continue
        if _squash(title) not in _squash(reader.pages[page].extract_text() or ""):
            wrong.append(f"{entry}: the title {title!r} is not on page {page + 1}, where it starts")
        starts[entry] = page
    order = sorted(starts.values())
    if expected:
        entry, title, _ = expected[0]
        opening = order[0] if order else len(reader.pages)
        before = "".join(reader.pages[p].extract_text() or "" for p in range(opening))
        if _squash(title) not in _squash(before):
            wrong.append(
                f"{entry}: the title {title!r} is not on pages 1-{opening}, which open the book"
            )
    for entry, _, figures in expected:
        if entry not in starts or not figures:
            continue
        first = starts[entry]
        last = next((p for p in order if p > first), len(reader.pages))
        images = sum(_images(reader.pages[p]) for p in range(first, last))
        if images < figures:
            wrong.append(
                f"{entry}: {images} images on pages {first + 1}-{last} of the PDF, but the "
                f"notebook has {figures} figures; expected at least {figures}"
            )
    return wrong


def lost_characters(log: Path) -> list[str]:
    """The characters XeLaTeX left out for want of a glyph, with the font, from its log."""
    text = log.read_text(errors="replace")
    return sorted(set(f"{char} in {font}" for char, font in MISSING_GLYPH.findall(text)))


def build_pdf(profile: str, execute: bool = True) -> Path:
    """Build and check the PDF of a profile; return its path.

    With ``execute``, the notebooks that changed are executed first
    (:func:`course.execute`); without, the PDF shows them as last executed.
    """
    need = missing_packages()
    if need:
        raise PdfFailed(
            "The PDF is built with XeLaTeX, which needs the Debian packages "
            f"{' '.join(need)}; they are not installed. Run `make pdf` (it installs them), "
            f"or: apt-get install {' '.join(need)}"
        )
    if execute:
        course.execute(profile)
    stage_dir = course.stage(profile)
    missing = [
        name
        for name in (Path(entry).name for entry in course.toc_notebooks())
        if not (stage_dir / "notebooks" / f"{name}.ipynb").is_file()
    ]
    if missing:
        raise PdfFailed(
            f"No executed notebook for {', '.join(missing)} under the {profile} profile in "
            f"{course.BUILD / 'executed' / profile}; run without --no-execute"
        )
    name = target_name(stage_dir / "_config.yml")
    work = PDF_DIR / profile
    latex = work / "_build" / "latex"
    built = latex / f"{name}.pdf"
    built.unlink(missing_ok=True)  # Jupyter Book reports success even when LaTeX fails
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(stage_dir),
        "--builder",
        "pdflatex",
        "--path-output",
        str(work),
    ]
    print("$", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=course.ROOT)
    if result.returncode or not built.is_file():
        raise PdfFailed(
            f"The PDF build failed (exit {result.returncode}, {built.name} "
            f"{'written' if built.is_file() else 'not written'}); see the messages above "
            f"and the LaTeX log {latex / (name + '.log')}"
        )
    lost = lost_characters(latex / f"{name}.log")
    if lost:
        raise PdfFailed(
            "XeLaTeX left characters out of the PDF, having no glyph for them: "
            f"{'; '.join(lost)}. Expected every character to print: map each one to a font "
            "that has it in latex_elements.preamble of _config.yml (see the emoji there)"
        )
    wrong = problems(built, chapters(stage_dir))
    if wrong:
        raise PdfFailed("The PDF is incomplete:\n  " + "\n  ".join(wrong))
    final = pdf_path(profile)
    shutil.copyfile(built, final)
    return final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--profile", choices=sorted(course.PATH_OUTPUT), default="full")
    parser.add_argument(
        "--no-execute",
        action="store_true",
        help="build from the notebooks as last executed, even where they are out of date",
    )
    parser.add_argument(
        "--missing-packages",
        action="store_true",
        help="only print the Debian packages the PDF build needs and lacks, one a line",
    )
    args = parser.parse_args(argv)
    if args.missing_packages:
        print("\n".join(missing_packages()))
        return 0
    start = time.perf_counter()
    try:
        pdf = build_pdf(args.profile, execute=not args.no_execute)
    except (course.NotebookFailed, PdfFailed) as err:
        print(err, file=sys.stderr)
        return 1
    pages = len(PdfReader(pdf).pages)
    print(f"The PDF is at {pdf} ({pages} pages, {time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
