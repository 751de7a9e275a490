"""helpers.explorer's page in a real browser: Playwright driving the system's Chromium.

A saved explorer, served on 127.0.0.1, must request nothing from anywhere else, log no
error, change its maps and bars when another image is chosen, show the images of the
confusion cell chosen, let the keyboard reach every control with a visible focus, pass
axe-core's accessibility rules (no serious or critical violation) in either colour
mode, and follow the book's colour mode when shown in a frame of a page.
"""

from __future__ import annotations

import functools
import http.server
import threading
from urllib.parse import urlparse

import numpy as np
import pytest
from test_browser import AXE_FAILING, RUN_AXE, QuietHandler, ensure_axe
from test_explorer import tiny_model

from helpers import data, explorer

pytestmark = pytest.mark.book


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The explorer of the tiny model and, beside it, a page showing it in a frame."""
    folder = tmp_path_factory.mktemp("explorer")
    rng = np.random.default_rng(0)
    x = (rng.random((300, 28, 28, 1)) * (rng.random((300, 1, 1, 1)) < 0.7)).astype(np.float32)
    y = rng.integers(0, 10, 300)
    model = tiny_model()
    options = {"chosen": explorer.choose_images(y, per_class=2, seed=1), "per_cell": 4}
    explorer.save_explorer(folder / "explorer.html", model, x, y, **options)
    frame = explorer.show_explorer(model, x, y, **options).data
    (folder / "framed.html").write_text(
        '<!DOCTYPE html><html lang="en" data-theme="dark"><head><meta charset="utf-8">'
        '<title>A page of the book</title><link rel="icon" href="data:,"></head>'
        f"<body><main>{frame}</main></body></html>",
        encoding="utf-8",
    )
    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class Opened:
    """A page of the explorer, with every request it makes and every error it logs."""

    def __init__(self, browser, url: str, scheme: str = "light"):
        self.page = browser.new_page(viewport={"width": 1200, "height": 900}, color_scheme=scheme)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url, wait_until="load")

    def elsewhere(self) -> list[str]:
        return [
            u
            for u in self.requests
            if not u.startswith("data:") and urlparse(u).hostname != "127.0.0.1"
        ]

    def state(self) -> dict:
        return self.page.evaluate(
            """() => ({
              maps: [...document.querySelectorAll(".sheet[id^=maps-]")].map((i) => i.src),
              cam: document.getElementById("cam-map").src,
              bars: [...document.querySelectorAll(".fill")].map((f) => f.style.width),
              status: document.getElementById("status").textContent,
            })"""
        )


def test_choosing_an_image_changes_the_maps_and_the_bars(browser, served):
    opened = Opened(browser, f"{served}/explorer.html")
    first = opened.state()
    assert first["status"].startswith("Chosen: validation image")
    assert all(src.startswith("data:image/png") for src in first["maps"])
    opened.page.click(".thumb[data-k='7']")
    chosen = opened.state()
    assert chosen["maps"] != first["maps"] and chosen["cam"] != first["cam"]
    assert chosen["bars"] != first["bars"] and chosen["status"] != first["status"]
    assert opened.page.get_attribute(".thumb[data-k='7']", "aria-pressed") == "true"
    assert opened.page.get_attribute(".thumb[data-k='0']", "aria-pressed") == "false"
    assert not opened.errors, opened.errors
    assert not opened.elsewhere(), opened.elsewhere()
    opened.page.close()


def test_a_confusion_cell_shows_images_of_its_true_and_predicted_class(browser, served):
    opened = Opened(browser, f"{served}/explorer.html")
    cells = opened.page.locator(".cell")
    assert cells.count() > 3
    for k in range(min(cells.count(), 6)):
        cell = cells.nth(k)
        t, p = int(cell.get_attribute("data-t")), int(cell.get_attribute("data-p"))
        count = int(cell.inner_text())
        cell.click()
        alts = opened.page.eval_on_selector_all("#cell-images img", "l => l.map((i) => i.alt)")
        assert len(alts) == min(count, 4)
        names = data.CLASS_NAMES
        assert all(a.endswith(f": true class {names[t]}, predicted {names[p]}") for a in alts)
        title = opened.page.inner_text("#cell-title")
        assert title.startswith(f"True class {names[t]}, predicted {names[p]}: {count} image")
    assert not opened.errors, opened.errors
    opened.page.close()


def test_the_keyboard_reaches_every_control_with_a_visible_focus(browser, served):
    opened = Opened(browser, f"{served}/explorer.html")
    controls = opened.page.evaluate(
        "() => document.querySelectorAll('button, input, [tabindex]').length"
    )
    reached = set()
    for _ in range(controls + 3):
        opened.page.keyboard.press("Tab")
        focused = opened.page.evaluate(
            """() => {
              const e = document.activeElement, style = getComputedStyle(e);
              return [e.tagName + (e.dataset.k ?? "") + (e.dataset.t ?? "") + "," +
                      (e.dataset.p ?? "") + e.id, style.outlineStyle, style.outlineWidth];
            }"""
        )
        if focused[0] != "BODY,":
            assert focused[1] != "none" and focused[2] != "0px", f"no visible focus: {focused}"
            reached.add(focused[0])
    assert len(reached) == controls, f"Tab reached {len(reached)} of {controls} controls"
    opened.page.focus(".cell >> nth=0")
    opened.page.keyboard.press("Enter")  # the keys of a button: Enter and Space
    assert opened.page.locator("#cell-images img").count() >= 1
    opened.page.focus(".thumb[data-k='2']")
    opened.page.keyboard.press("Space")
    assert opened.page.get_attribute(".thumb[data-k='2']", "aria-pressed") == "true"
    opened.page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_explorer_is_accessible(browser, served, scheme):
    opened = Opened(browser, f"{served}/explorer.html", scheme)
    opened.page.click(".cell >> nth=0")  # with a cell's images shown too
    opened.page.add_script_tag(path=str(ensure_axe()))
    violations = opened.page.evaluate(RUN_AXE, [])
    failing = [v for v in violations if v["impact"] in AXE_FAILING and v["nodes"]]
    assert not failing, "\n".join(f"{v['rule']}: {v['help']}; {v['nodes'][:3]}" for v in failing)
    opened.page.close()


def test_in_a_frame_the_explorer_follows_the_pages_colour_mode(browser, served):
    opened = Opened(browser, f"{served}/framed.html", "light")
    frame = opened.page.frame_locator("iframe[title='Model explorer']")
    frame.locator(".thumb[data-k='3']").click()
    inner = opened.page.frames[1]
    assert inner.evaluate("() => document.documentElement.dataset.theme") == "dark"
    background = inner.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 24, 29)", background  # the dark background, not white
    opened.page.evaluate("() => { document.documentElement.dataset.theme = 'light'; }")
    opened.page.wait_for_function(
        "() => document.querySelector('iframe').contentDocument.documentElement.dataset.theme"
        " === 'light'"
    )
    assert not opened.errors, opened.errors
    assert not opened.elsewhere(), opened.elsewhere()
    opened.page.close()
