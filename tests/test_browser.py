"""The built book in a real browser: Playwright driving the system's Chromium.

The book is served on 127.0.0.1; every page of _toc.yml must load without console
errors from the book's own assets, show its figures and typeset its formulas, link
to Colab correctly, and the search must work. Every page passes axe-core's
accessibility rules (no serious or critical violation; the counts per page go to
_build/accessibility.json), and the figures stay readable in the dark colour mode.
Screenshots go to _build/screenshots/.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from conftest import ROOT, course

pytestmark = pytest.mark.book

SCREENSHOTS = course.BUILD / "screenshots"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
# axe-core, the accessibility engine, from the npm registry (like the book's MathJax).
# Pinned: each release adds and tightens rules, so an unchanged book keeps its verdict.
AXE_VERSION = "4.14.1"
AXE_DIR = course.BUILD / "npm" / "node_modules" / "axe-core"
AXE_REPORT = course.BUILD / "accessibility.json"
# What fails the test; "moderate" and "minor" findings are only counted in the report.
AXE_FAILING = ("serious", "critical")


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(fast_book):
    handler = functools.partial(QuietHandler, directory=str(fast_book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class Visit:
    """Opens a page and records console errors and failed requests of the book's own assets."""

    def __init__(self, browser, server, path, mode: str | None = None):
        self.server = server
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        if mode is not None:  # the colour mode a reader picked, as the theme stores it
            self.page.add_init_script(
                f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');"
            )
        self.errors: list[str] = []
        self.requests: list[str] = []  # every address the page asked for
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", self._console)
        self.page.on(
            "requestfailed",
            lambda r: (
                self._own(r.url) and self.errors.append(f"request failed: {r.url} ({r.failure})")
            ),
        )
        self.page.on(
            "response",
            lambda r: (
                self._own(r.url)
                and r.status >= 400
                and self.errors.append(f"HTTP {r.status}: {r.url}")
            ),
        )
        self.page.goto(f"{server}/{path}", wait_until="load")

    def _own(self, url: str) -> bool:
        return urlparse(url).netloc == urlparse(self.server).netloc

    def _console(self, message):
        if message.type != "error":
            return
        source = (message.location or {}).get("url", "")
        if not source or self._own(source):
            self.errors.append(f"console: {message.text} ({source})")


@pytest.mark.parametrize("page", toc_pages())
def test_page_loads_without_errors(browser, server, page):
    visit = Visit(browser, server, f"{page}.html")
    visit.page.wait_for_load_state("networkidle")
    assert visit.page.locator("main h1").count() >= 1, f"{page}: no title"
    assert not visit.errors, f"{page}:\n" + "\n".join(visit.errors)
    visit.page.close()


NOTEBOOK_PAGES = [p for p in toc_pages() if p.startswith("notebooks/")]


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_notebook_page_shows_figures_and_links_to_colab(browser, server, page):
    visit = Visit(browser, server, f"{page}.html")
    visit.page.wait_for_load_state("networkidle")
    sizes = visit.page.eval_on_selector_all(
        "main .cell_output img", "els => els.map(e => [e.naturalWidth, e.naturalHeight, e.alt])"
    )
    assert sizes, f"{page}: no figures"
    for width, height, alt in sizes:
        assert width > 0 and height > 0, f"{page}: a figure did not load"
        assert alt, f"{page}: a figure has no alt text"
    slug = urlparse(CONFIG["repository"]["url"]).path.strip("/")
    branch = CONFIG["repository"]["branch"]
    hrefs = visit.page.eval_on_selector_all(
        "a[href*='colab.research.google.com']", "els => els.map(e => e.href)"
    )
    expected = f"https://colab.research.google.com/github/{slug}/blob/{branch}/{page}.ipynb"
    assert expected in hrefs, f"{page}: no Colab launch link to {expected}; found {hrefs}"
    binder = visit.page.eval_on_selector_all(
        "a[href*='mybinder.org']", "els => els.map(e => e.href)"
    )
    assert any(page in h for h in binder), f"{page}: no Binder link; found {binder}"
    downloads = visit.page.eval_on_selector_all("a[href$='.ipynb']", "els => els.map(e => e.href)")
    assert any(h.endswith(f"{page.split('/')[-1]}.ipynb") for h in downloads), (
        f"{page}: no .ipynb download"
    )
    visit.page.close()


def test_search_finds_dropout(browser, server):
    visit = Visit(browser, server, "search.html?q=dropout")
    visit.page.wait_for_selector("#search-results li", timeout=20_000)
    assert visit.page.locator("#search-results li").count() >= 1
    visit.page.close()


def test_formulas_are_typeset_offline(browser, server):
    visit = Visit(browser, server, "book/glossary.html")
    visit.page.wait_for_selector("mjx-container", timeout=20_000)
    assert visit.page.locator("mjx-container").count() >= 3
    assert not visit.errors, "\n".join(visit.errors)
    visit.page.close()


def test_previous_next_navigation(browser, server):
    visit = Visit(browser, server, f"{NOTEBOOK_PAGES[0]}.html")
    assert visit.page.locator("a.left-prev").count() == 1
    assert visit.page.locator("a.right-next").count() == 1
    visit.page.close()


def test_screenshots(browser, server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in [("intro", "book/intro.html"), ("notebook", f"{NOTEBOOK_PAGES[0]}.html")]:
        visit = Visit(browser, server, path)
        visit.page.wait_for_load_state("networkidle")
        target = SCREENSHOTS / f"{name}.png"
        visit.page.screenshot(path=str(target), full_page=False)
        assert target.stat().st_size > 10_000
        visit.page.close()


# --- Figures in the dark colour mode ------------------------------------------------


def brightness(rgb) -> float:
    """The mean of a pixel's red, green and blue, 0 (black) to 255 (white)."""
    return sum(rgb[:3]) / 3


def css_rgb(color: str) -> tuple[int, ...]:
    """'rgb(18, 18, 18)' or 'rgba(...)' as a tuple of numbers."""
    return tuple(round(float(x)) for x in color[color.index("(") + 1 : -1].split(","))


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_figures_are_readable_in_dark_mode(browser, server, fast_book, page):
    """Every figure is an opaque PNG and shows on white while the page around it is dark.

    Matplotlib draws black labels for a white page; on the dark page a transparent
    figure would lose them. The theme dims images in the dark mode, so "white" here
    is anything brighter than 200 of 255.
    """
    from io import BytesIO

    from PIL import Image

    visit = Visit(browser, server, f"{page}.html", mode="dark")
    visit.page.wait_for_load_state("networkidle")
    assert visit.page.evaluate("document.documentElement.dataset.theme") == "dark"
    body = css_rgb(visit.page.evaluate("getComputedStyle(document.body).backgroundColor"))
    assert brightness(body) < 60, f"{page}: the dark mode's page background is {body}"

    figures = visit.page.locator("main .cell_output img")
    assert figures.count(), f"{page}: no figures"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    figures.first.scroll_into_view_if_needed()
    shot = SCREENSHOTS / f"dark-{page.split('/')[-1]}.png"
    visit.page.screenshot(path=str(shot))
    box = figures.first.bounding_box()
    beside = Image.open(shot).convert("RGB").getpixel((int(box["x"]) - 12, int(box["y"] + 20)))
    assert brightness(beside) < 60, f"{page}: the page beside the first figure is {beside}"

    problems = []
    for i in range(figures.count()):
        figure = figures.nth(i)
        address = figure.evaluate("e => e.src")
        if address.startswith("data:image/png;base64,"):  # an animation's frame, in the page
            src = f"{page}: an embedded image"
            png = Image.open(BytesIO(base64.b64decode(address.split(",", 1)[1]))).convert("RGBA")
        else:
            src = urlparse(address).path.lstrip("/")
            png = Image.open(fast_book / src).convert("RGBA")
        w, h = png.size
        alpha = [png.getpixel(xy)[3] for xy in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)]]
        if min(alpha) < 255:
            problems.append(f"{src}: transparent corners (alpha {alpha})")
        # The figure as the reader sees it: its corners, inside the theme's rounding.
        shown = Image.open(BytesIO(figure.screenshot())).convert("RGB")
        w, h = shown.size
        inset = 6
        corners = [(inset, inset), (w - inset, inset), (inset, h - inset), (w - inset, h - inset)]
        grey = [shown.getpixel(xy) for xy in corners if brightness(shown.getpixel(xy)) < 200]
        if grey:
            problems.append(f"{src}: not shown on white; its corners are {grey}")
    assert not problems, f"{page} in the dark mode:\n" + "\n".join(problems)
    visit.page.close()


# --- Accessibility (axe-core) -------------------------------------------------------

# Violations in markup that the book's theme and Sphinx extensions write, which the
# course cannot change: (rule, CSS selector, why). Each is excused only for that rule
# on elements inside that selector; everything else counts.
THEME_EXCEPTIONS: list[tuple[str, str, str]] = [
    (
        "label-content-name-mismatch",
        ".search-button__button",
        "the theme's search button shows the keyboard shortcut (Ctrl+K) beside its "
        "aria-label 'Search'",
    ),
    (
        "label-content-name-mismatch",
        ".theme-switch-button",
        "the theme's colour-mode switch: icons titled Light, Dark and System Settings "
        "inside a button labelled 'Color mode'",
    ),
    (
        "label-content-name-mismatch",
        "details.hide > summary",
        "myst-nb's toggle of a hidden cell shows 'Show code cell source' but is labelled "
        "'Toggle hidden content'",
    ),
    (
        "aria-required-children",
        ".citation-list",
        "docutils writes the references as role=list whose entries carry the role "
        "doc-biblioentry, which axe does not count as list items",
    ),
]


def ensure_axe() -> Path:
    """Install axe-core with npm into _build/npm once; return its script."""
    installed = AXE_DIR / "package.json"
    if not installed.is_file() or json.loads(installed.read_text())["version"] != AXE_VERSION:
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm was not found; the accessibility test installs axe-core with it")
        cmd = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(course.BUILD / "npm")]
        subprocess.run([*cmd, f"axe-core@{AXE_VERSION}"], check=True)
    return AXE_DIR / "axe.min.js"


@pytest.fixture(scope="module")
def axe_report():
    """Each page's axe findings, written to _build/accessibility.json at the end."""
    pages: dict[str, dict] = {}
    yield pages
    AXE_REPORT.write_text(
        json.dumps(
            {
                "axe_core": AXE_VERSION,
                "failing_impacts": list(AXE_FAILING),
                "theme_exceptions": [
                    {"rule": rule, "selector": selector, "why": why}
                    for rule, selector, why in THEME_EXCEPTIONS
                ],
                "pages": pages,
            },
            indent=2,
        )
        + "\n"
    )


RUN_AXE = """async (exceptions) => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  const element = (node) => {
    try { return document.querySelector(node.target[0]); } catch (err) { return null; }
  };
  return results.violations.map((v) => {
    const excused = (node) =>
      exceptions.some(([rule, selector]) => rule === v.id && element(node)?.closest(selector));
    return {
      rule: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.filter((n) => !excused(n)).map((n) => n.target.join(" ")),
      excused: v.nodes.filter(excused).length,
    };
  });
}"""


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("page", toc_pages())
def test_page_is_accessible(browser, server, axe_report, page, mode):
    """axe-core finds no serious or critical violation on the page, in either colour mode."""
    script = ensure_axe()
    visit = Visit(browser, server, f"{page}.html", mode=mode)
    visit.page.wait_for_load_state("networkidle")
    visit.page.add_script_tag(path=str(script))
    exceptions = [[rule, selector] for rule, selector, _ in THEME_EXCEPTIONS]
    violations = visit.page.evaluate(RUN_AXE, exceptions)
    visit.page.close()
    counts = {impact: 0 for impact in ("critical", "serious", "moderate", "minor")}
    for v in violations:
        counts[v["impact"]] += len(v["nodes"])
    axe_report.setdefault(page, {})[mode] = {
        "counts": counts,
        "excused": sum(v["excused"] for v in violations),
        "violations": [v for v in violations if v["nodes"]],
    }
    failing = [v for v in violations if v["impact"] in AXE_FAILING and v["nodes"]]
    lines = [
        f"  {v['rule']} ({v['impact']}, {len(v['nodes'])} elements): {v['help']}; e.g. "
        + ", ".join(v["nodes"][:3])
        for v in failing
    ]
    assert not failing, f"{page}, {mode} mode (axe-core {AXE_VERSION}):\n" + "\n".join(lines)


# --- What moves: notebook 02's animation, the explorers of notebooks 04 and 10 -------


def page_of(prefix: str) -> str:
    return next(p for p in NOTEBOOK_PAGES if p.split("/")[-1].startswith(prefix))


REQUESTS = course.BUILD / "requests"


def record_requests(name: str, requests: list[str]) -> dict[str, int]:
    """How many requests the page made to each origin (``data:`` counted as one origin),
    written to _build/requests/<name>.json for the record."""
    counts: dict[str, int] = {}
    for url in requests:
        parsed = urlparse(url)
        origin = "data:" if url.startswith("data:") else f"{parsed.scheme}://{parsed.netloc}"
        counts[origin] = counts.get(origin, 0) + 1
    REQUESTS.mkdir(parents=True, exist_ok=True)
    (REQUESTS / f"{name}.json").write_text(json.dumps(counts, indent=1) + "\n")
    return counts


def elsewhere(requests: list[str]) -> list[str]:
    """The requests that leave 127.0.0.1 (data: addresses are inside the page)."""
    return [
        u for u in requests if not u.startswith("data:") and urlparse(u).hostname != "127.0.0.1"
    ]


def test_the_convolution_animation_plays_in_the_book(browser, server):
    """Notebook 02's animation: its frames change with the controls, offline."""
    visit = Visit(browser, server, f"{page_of('02_')}.html")
    image = visit.page.locator("img[id^='_anim_img']")
    assert image.count() == 1 and image.get_attribute("alt").startswith("A 3 by 3 window")
    first = image.get_attribute("src")
    visit.page.get_by_role("button", name="Next frame").click()
    second = image.get_attribute("src")
    visit.page.get_by_role("button", name="Last frame").click()
    last = image.get_attribute("src")
    assert first.startswith("data:image/png") and len({first, second, last}) == 3
    image.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visit.page.screenshot(path=str(SCREENSHOTS / "animation-book.png"))
    record_requests("animation-book", visit.requests)
    assert not visit.errors, visit.errors
    assert not elsewhere(visit.requests), elsewhere(visit.requests)
    visit.page.close()


@pytest.mark.parametrize("prefix", ["04_", "10_"])
def test_the_model_explorer_works_in_the_book(browser, server, prefix):
    """The explorer in its frame: another image changes the maps and bars, a confusion
    cell shows images of its true and predicted class, and nothing leaves 127.0.0.1."""
    from helpers.data import CLASS_NAMES

    visit = Visit(browser, server, f"{page_of(prefix)}.html")
    frame = visit.page.frame_locator(".model-explorer iframe")

    def state():
        return {
            "maps": [
                frame.locator(".sheet[id^=maps-]").nth(k).get_attribute("src") for k in (0, 1)
            ],
            "bars": frame.locator(".fill").evaluate_all("l => l.map((f) => f.style.width)"),
        }

    frame.locator(".thumb").first.wait_for()
    before = state()
    frame.locator(".thumb").nth(frame.locator(".thumb").count() - 1).click()
    after = state()
    assert after["maps"] != before["maps"] and after["bars"] != before["bars"]
    # The largest count outside the diagonal: images of that true and predicted class.
    cells = frame.locator(".cell")
    found = [
        (int(cells.nth(k).inner_text()), k)
        for k in range(cells.count())
        if cells.nth(k).get_attribute("data-t") != cells.nth(k).get_attribute("data-p")
    ]
    count, k = max(found)
    cell = cells.nth(k)
    t, p = int(cell.get_attribute("data-t")), int(cell.get_attribute("data-p"))
    cell.click()
    alts = frame.locator("#cell-images img").evaluate_all("l => l.map((i) => i.alt)")
    assert alts and len(alts) <= count
    assert all(
        a.endswith(f": true class {CLASS_NAMES[t]}, predicted {CLASS_NAMES[p]}") for a in alts
    )
    frame.locator("#cell-title").scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visit.page.screenshot(path=str(SCREENSHOTS / f"explorer-book-{prefix.strip('_')}.png"))
    record_requests(f"explorer-book-{prefix.strip('_')}", visit.requests)
    assert not visit.errors, visit.errors
    assert not elsewhere(visit.requests), elsewhere(visit.requests)
    visit.page.close()
