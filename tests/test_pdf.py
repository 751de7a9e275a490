"""The book as a PDF (tools.pdf, `make pdf`), built here from the fast profile's
executed notebooks: every chapter of _toc.yml with its figures, formulas typeset and
every character printed, the exercise checks' symbols included.

The PDF needs TeX Live (XeLaTeX); `make pdf-deps` installs it on Debian (.ci/run does).
"""

from __future__ import annotations

import pytest

from conftest import course
from tools import pdf

pytestmark = pytest.mark.book

PROFILE = "fast"


@pytest.fixture(scope="module")
def built(fast_notebooks):
    """The fast PDF, built once from the executed fast notebooks."""
    try:
        fast_notebooks.all_executed()
        path = pdf.build_pdf(PROFILE)
    except (course.NotebookFailed, pdf.PdfFailed) as err:
        pytest.fail(str(err), pytrace=False)
    return path, pdf.chapters(course.BUILD / "stage" / PROFILE)


@pytest.fixture(scope="module")
def text(built):
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(built[0]).pages)


def test_the_pdf_has_every_chapter_and_its_figures(built):
    path, chapters = built
    assert path == pdf.pdf_path(PROFILE) and path.is_file()
    assert path.name != "projectnamenotset-fast.pdf", "the PDF is named in _config.yml"
    notebooks = [entry for entry, _, _ in chapters if entry.startswith("notebooks/")]
    assert notebooks == course.toc_notebooks(), "every notebook of _toc.yml is a chapter"
    assert all(figures for entry, _, figures in chapters if entry in notebooks), (
        f"each notebook draws figures: {chapters}"
    )
    assert pdf.problems(path, chapters) == []


def test_the_check_catches_a_missing_chapter_or_figure(built):
    """problems() is what fails `make pdf` and the test above: it must see real gaps."""
    path, chapters = built
    missing_chapter = [*chapters, ("notebooks/99_extra", "99 · A chapter not in the PDF", 0)]
    found = pdf.problems(path, missing_chapter)
    assert len(found) == 1 and "99 · A chapter not in the PDF" in found[0], found
    entry, title, figures = next(c for c in chapters if c[2])
    more_figures = [(e, t, f + 100 if e == entry else f) for e, t, f in chapters]
    found = pdf.problems(path, more_figures)
    assert len(found) == 1 and found[0].startswith(f"{entry}: ") and "images" in found[0], found


def test_formulas_are_typeset_not_printed_as_source(text):
    for source in ("\\frac", "\\begin{", "$$"):
        assert source not in text, f"LaTeX source {source!r} printed as text in the PDF"


def test_the_exercise_checks_symbols_print(built, text):
    """FreeMono has no ⏳: _config.yml maps it (and ✅ ❌) to Noto Emoji, and the text
    keeps the character itself."""
    assert "⏳ Not attempted yet" in text
    log = pdf.PDF_DIR / PROFILE / "_build" / "latex" / f"{pdf.target_name()}.log"
    assert pdf.lost_characters(log) == []


def test_a_lost_character_is_reported(tmp_path):
    log = tmp_path / "book.log"
    log.write_text(  # as XeTeX writes it, wrapped at 79 characters
        "Missing character: There is no ⏳ (U+23F3) in font [FreeMono.otf]/OT:script=latn\n"
        ";language=dflt;!\n"
        "Missing character: There is no ✅ (U+2705) in font FreeMono:mode=node;!\n"
    )
    assert pdf.lost_characters(log) == ["⏳ (U+23F3) in FreeMono.otf", "✅ (U+2705) in FreeMono"]
