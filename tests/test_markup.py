"""The notebooks read right everywhere a student opens them, not only in the book.

JupyterLab, Colab and GitHub render a notebook's Markdown as plain Markdown: a MyST
role such as {term}`Dropout`, a ``:::{dropdown}`` or a ```` ```{note} ```` fence shows
there as raw text, and a solution inside it stands in the open. So the notebooks use
plain Markdown links and HTML ``<details>`` blocks, which all three render (see
CONTRIBUTING.md). These tests render every notebook as a plain Markdown renderer
does (nbconvert's HTML exporter) and read what a student sees before opening any
``<details>``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nbformat
import pytest

from conftest import ROOT, course

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]

# What MyST markup looks like once a plain renderer has shown it as text.
RAW_MARKUP = {
    "role": re.compile(r"(?<![\\\w])\{[a-z][a-z-]*\}`"),
    "colon fence": re.compile(r"^:::", re.M),
    "directive fence": re.compile(r"```\s*\{"),
    "label": re.compile(r"^\([\w-]+\)=\s*$", re.M),
}


class _Visible(HTMLParser):
    """The text of an HTML page that shows before any <details> is opened."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # inside how many <details>
        self.in_summary = False
        self.skip = 0  # inside <style> or <script>
        self.visible: list[str] = []
        self.hidden: list[str] = []
        self.summaries: list[str] = []
        self.fence_classes: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "details":
            self.depth += 1
        elif tag == "summary":
            self.in_summary = True
        elif tag in ("style", "script"):
            self.skip += 1
        classes = dict(attrs).get("class") or ""
        self.fence_classes += [c for c in classes.split() if c.startswith("language-")]

    def handle_endtag(self, tag):
        if tag == "details":
            self.depth -= 1
        elif tag == "summary":
            self.in_summary = False
        elif tag in ("style", "script"):
            self.skip -= 1

    def handle_data(self, data):
        if self.skip:
            return
        if self.in_summary:
            self.summaries.append(data)
        elif self.depth:
            self.hidden.append(data)
        else:
            self.visible.append(data)


def rendered(nb) -> _Visible:
    """The notebook's Markdown cells as nbconvert's HTML exporter renders them (as
    plain Markdown, as JupyterLab, Colab and GitHub do), split into visible and hidden
    text. Code cells are left out: :func:`audit` counts them itself."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_output=True)
    html, _ = exporter.from_notebook_node(nb)
    parser = _Visible()
    parser.feed(html)
    return parser


def audit(nb) -> dict[str, int]:
    """Count what a student sees that they should not: MyST markup shown as raw text,
    and solutions open on the page (solution code cells, and "Solution" text outside
    a closed <details>). JupyterLab shows what a plain renderer shows, except that it
    collapses a code cell whose source is marked hidden."""
    view = rendered(nb)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    markup = sum(len(p.findall(s)) for s in markdown for p in RAW_MARKUP.values())
    markup += sum(1 for c in view.fence_classes if c.startswith("language-{"))
    open_text = len(re.findall(r"\bSolution\b", "".join(view.visible)))
    solution_cells = [
        c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# Solution")
    ]
    shown_in_lab = [
        c for c in solution_cells if not c.metadata.get("jupyter", {}).get("source_hidden")
    ]
    return {
        "raw markup": markup,
        "open solutions (plain Markdown)": len(solution_cells) + open_text,
        "open solutions (JupyterLab)": len(shown_in_lab) + open_text,
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_markup_shows_raw_and_no_solution_shows(path):
    nb = nbformat.read(path, as_version=4)
    assert audit(nb) == {
        "raw markup": 0,
        "open solutions (plain Markdown)": 0,
        "open solutions (JupyterLab)": 0,
    }, f"{path.name}: {audit(nb)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_exercise_has_a_hidden_solution(path):
    """Each exercise is followed, before the next one, by a closed <details> whose
    summary says Solution; a checked exercise's solution holds its code."""
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    starts = [m.start() for m in re.finditer(r"\*\*Exercise (\w\w\.\d+)", text)]
    assert len(starts) >= 3, f"{path.name}: {len(starts)} exercises, expected at least 3"
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        part = text[start:end]
        exercise = re.match(r"\*\*Exercise (\w\w\.\d+)", part).group(1)
        assert re.search(r"<details>\s*<summary>Solution", part), (
            f"{path.name}: exercise {exercise} has no <details> block with its solution"
        )
        if f'check("{exercise}"' in part:
            solved = [e for e, _ in course.SOLUTION.findall(part)]
            assert solved == [exercise], (
                f"{path.name}: checked exercise {exercise} needs its solution code in a "
                f"<details> block ('Solution to exercise {exercise}' and a python fence); "
                f"found {solved}"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_solutions_are_hidden_in_the_rendered_page(path):
    """What the solution blocks hold is inside <details> once rendered, and the
    student's notebook runs no solution code (the executed book inserts it)."""
    nb = nbformat.read(path, as_version=4)
    view = rendered(nb)
    hidden = "".join(view.hidden)
    for exercise, code in course.SOLUTION.findall("\n".join(c.source for c in nb.cells)):
        first = next(line for line in code.splitlines() if line.strip())
        assert first.strip() in hidden, f"{path.name}: solution {exercise} is not hidden"
    code_cells = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "Solution to exercise" not in code_cells, f"{path.name}: a solution is a code cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_links_work_outside_the_book(path):
    """Relative links point at files that exist (JupyterLab and GitHub open them), and
    links into the glossary at one of its headings."""
    nb = nbformat.read(path, as_version=4)
    glossary = (ROOT / "book" / "glossary.md").read_text()
    anchors = {_slug(h) for h in re.findall(r"^## (.+)$", glossary, re.M)}
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for target in re.findall(r"\]\(([^)\s]+)\)", markdown):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        file, _, anchor = target.partition("#")
        assert (path.parent / file).is_file(), f"{path.name}: link to missing {target}"
        if file.endswith("glossary.md") and anchor:
            assert anchor in anchors, f"{path.name}: the glossary has no heading for #{anchor}"


def _slug(heading: str) -> str:
    """The anchor that the book (MyST) and GitHub give a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_execution_runs_every_solution():
    """course.with_solutions inserts each solution's code after its block, and
    course.check_solutions refuses a solution whose check does not say Correct."""
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(
                "**Exercise 01.1.** How many?\n\n<details>\n<summary>Solution to exercise 01.1"
                '</summary>\n\n```python\ncheck("01.1", 784)\n```\n\n</details>'
            )
        ]
    )
    prepared = course.with_solutions(nb)
    assert [c.cell_type for c in prepared.cells] == ["markdown", "code"]
    assert prepared.cells[1].source == 'check("01.1", 784)'
    assert "remove-cell" in prepared.cells[1].metadata["tags"]
    good = {"output_type": "execute_result", "data": {"text/plain": "Exercise 01.1: ✅ Correct."}}
    bad = {"output_type": "execute_result", "data": {"text/plain": "Exercise 01.1: ❌ Not yet."}}
    prepared.cells[1].outputs = [good]
    assert course.check_solutions(prepared) == []
    prepared.cells[1].outputs = [bad]
    assert "01.1" in course.check_solutions(prepared)[0]
