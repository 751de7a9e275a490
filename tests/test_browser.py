"""The built book in a real browser: Playwright driving the system's Chromium.

The book is served on 127.0.0.1; every page of _toc.yml must load without console
errors from the book's own assets, show its figures and typeset its formulas, link
to Colab correctly, and the search must work. Screenshots go to _build/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from urllib.parse import urlparse

import pytest
import yaml

from conftest import ROOT, course

pytestmark = pytest.mark.book

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = course.BUILD / "screenshots"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


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


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


class Visit:
    """Opens a page and records console errors and failed requests of the book's own assets."""

    def __init__(self, browser, server, path):
        self.server = server
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
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
