"""The course in JupyterLab, driven in a real browser as a student drives it.

`jupyter lab` from the course's environment serves a scratch copy of notebooks/, started
with the arguments `make lab` uses. One notebook, set to the fast profile (``PROFILE =
"fast"`` injected after its parameters cell, as papermill does), is opened in Chromium;
Run > Run All Cells runs it, Ctrl+S saves it, and the saved file must show every code
cell run, no error and the figures it draws. JupyterLab must not ask about Jupyter's news
(the course's settings, jupyter/overrides.json5, turn that off).

Why one notebook: tests/test_notebooks.py already runs every notebook (papermill, then
nbval); what this test adds is JupyterLab itself (opening, the kernel, Run All, saving,
the course's settings), which is the same for every notebook. It runs
:data:`IN_JUPYTERLAB`, the shortest notebook that draws figures and has checked
exercises, so that a test run pays for JupyterLab once, not for ten more executions.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from test_browser import record_requests

from conftest import ROOT, course

pytestmark = [pytest.mark.notebooks, pytest.mark.book]

PROFILE = "fast"
NAMES = [entry.split("/")[-1] for entry in course.toc_notebooks()]
# The notebook run in JupyterLab (see the module's docstring for why this one).
IN_JUPYTERLAB = "02_cnn_components"
JUPYTER = ROOT / ".venv" / "bin" / "jupyter"
SETTINGS = ROOT / "jupyter" / "overrides.json5"
INSTALLED_SETTINGS = (
    ROOT / ".venv" / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / SETTINGS.name
)
NEWS_PROMPT = "official Jupyter news"
NOTEBOOK_TIMEOUT_S = 900  # one notebook, fast profile, on a busy 2-core machine
START_TIMEOUT_S = 120
PROMPTS = ".jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt"
RUN_ALL = '.lm-Menu-item[data-command="runmenu:run-all"]'
SCREENSHOTS = course.BUILD / "screenshots"


def make_lab_arguments() -> list[str]:
    """The arguments `make lab` gives `jupyter lab`, read from the Makefile."""
    text = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^lab:.*\n((?:\t.*\n)+)", text, re.M)
    assert recipe, "the Makefile has no `lab:` target"
    line = next((ln for ln in recipe.group(1).splitlines() if "jupyter lab" in ln), None)
    assert line, f"the Makefile's `lab:` target does not run `jupyter lab`:\n{recipe.group(1)}"
    return line.split("jupyter lab", 1)[1].split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A `jupyter lab` process on 127.0.0.1 with a token, and its REST API."""

    def __init__(self, root_dir: Path, scratch: Path, env: dict[str, str], extra: list[str]):
        self.root_dir = root_dir
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = scratch / "jupyter-lab.log"
        cmd = [
            str(JUPYTER),
            "lab",
            *make_lab_arguments(),
            "--no-browser",
            "--allow-root",  # CI machines run as root
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root_dir}",
            f"--IdentityProvider.token={self.token}",
            *extra,
        ]
        # Jupyter's own files (user settings, workspaces, runtime files) go to the
        # scratch directory: the test neither reads nor changes the user's.
        env = dict(env)
        for kind in ("CONFIG", "DATA", "RUNTIME"):
            env[f"JUPYTER_{kind}_DIR"] = str(scratch / "jupyter" / kind.lower())
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            cmd, cwd=root_dir, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                pytest.fail(
                    f"`jupyter lab` exited with code {self.process.returncode} at start-up; "
                    f"expected it to serve on port {self.port}. Its log:\n{self.tail()}"
                )
            try:
                self.api("GET", "status")
                return
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(
                        f"`jupyter lab` did not answer on {self.url} within "
                        f"{START_TIMEOUT_S} s. Its log:\n{self.tail()}"
                    )
                time.sleep(0.5)

    def api(self, method: str, path: str):
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def page_url(self, path: str = "") -> str:
        return f"{self.url}/{path}?token={self.token}"

    def shut_down_sessions(self) -> None:
        for session in self.api("GET", "sessions"):
            self.api("DELETE", f"sessions/{session['id']}")

    def tail(self, chars: int = 4000) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def lab_env(scratch: Path) -> dict[str, str]:
    """The notebooks' environment (the dataset, TF_CPP_MIN_LOG_LEVEL), models in scratch."""
    env = course.kernel_env(PROFILE)
    env["COURSE_MODELS_DIR"] = str(scratch / "models")
    return env


def require_course_settings() -> None:
    if not JUPYTER.is_file():
        pytest.fail(f"{JUPYTER} does not exist; expected the course's environment: run `make test`")
    installed = INSTALLED_SETTINGS.read_text() if INSTALLED_SETTINGS.is_file() else None
    if installed != SETTINGS.read_text():
        state = "is missing" if installed is None else "differs from the repository's"
        pytest.fail(
            f"{INSTALLED_SETTINGS} {state}; expected a copy of {SETTINGS.relative_to(ROOT)}, "
            "the course's JupyterLab settings. Run `make lab` or `make test`, which install it."
        )


@pytest.fixture(scope="module")
def course_lab(tmp_path_factory, fashion_mnist):
    """JupyterLab serving a scratch copy of notebooks/, :data:`IN_JUPYTERLAB` set to the fast
    profile.

    Skipped, like every test that needs it, where Fashion-MNIST is not available locally
    (the notebooks' kernels would download it).
    """
    import papermill

    require_course_settings()
    scratch = tmp_path_factory.mktemp("lab")
    root_dir = scratch / "course"
    shutil.copytree(ROOT / "notebooks", root_dir / "notebooks")
    papermill.execute_notebook(
        str(ROOT / "notebooks" / f"{IN_JUPYTERLAB}.ipynb"),
        str(root_dir / "notebooks" / f"{IN_JUPYTERLAB}.ipynb"),
        parameters=course.profile_parameters(PROFILE, IN_JUPYTERLAB),
        prepare_only=True,
        kernel_name="python3",
        progress_bar=False,
    )
    lab = Lab(root_dir, scratch, lab_env(scratch), [])
    yield lab
    lab.stop()


@contextlib.contextmanager
def notebook_page(browser, lab: Lab, name: str):
    """The notebook ``name`` open in JupyterLab; a screenshot of it if the test fails, and
    its kernel shut down afterwards."""
    page = open_lab(browser, lab, f"lab/workspaces/{name}/tree/notebooks/{name}.ipynb")
    try:
        yield page
    except BaseException:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"lab-{name}.png"))
        raise
    finally:
        page.close()
        lab.shut_down_sessions()


def open_lab(browser, lab: Lab, path: str):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.requests = []  # every address the page asks for, the outputs' included
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(lab.page_url(path), wait_until="domcontentloaded")
    page.wait_for_selector("#jp-main-dock-panel", timeout=START_TIMEOUT_S * 1000)
    return page


def first_cell(name: str) -> str:
    return nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4).cells[0].source


def elsewhere(requests: list[str]) -> list[str]:
    local = ("127.0.0.1", "localhost")
    return [u for u in requests if not u.startswith("data:") and urlparse(u).hostname not in local]


def dialog_text(page) -> str | None:
    dialog = page.locator(".jp-Dialog")
    return dialog.first.inner_text() if dialog.count() else None


def wait_for_kernel(page, lab: Lab, name: str) -> None:
    """Until the notebook's kernel has started and is idle."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        states = [s["kernel"]["execution_state"] for s in lab.api("GET", "sessions")]
        if states == ["idle"]:
            return
        text = dialog_text(page)
        if text:  # e.g. "Select Kernel"
            pytest.fail(f"{name}: JupyterLab showed a dialog on opening:\n{text}")
        if time.monotonic() > deadline:
            pytest.fail(
                f"{name}: the kernel was not ready within {START_TIMEOUT_S} s; its state: "
                f"{states or 'no kernel'}; expected one idle kernel. JupyterLab's log:\n"
                f"{lab.tail()}"
            )
        time.sleep(0.5)


def wait_until_run(page, lab: Lab, name: str) -> None:
    """Until no cell is queued or running and the kernel is idle, for three seconds."""
    try:  # Run All marks every code cell queued ([*]) at once
        page.wait_for_function(
            f"() => [...document.querySelectorAll({PROMPTS!r})]"
            ".some(e => /\\[[*0-9]/.test(e.textContent))",
            timeout=30_000,
        )
    except PlaywrightTimeout:
        pytest.fail(f"{name}: Run > Run All Cells did not start running the notebook")
    deadline = time.monotonic() + NOTEBOOK_TIMEOUT_S
    quiet = 0
    while quiet < 3:
        if time.monotonic() > deadline:
            prompts = code_prompts(page)
            pytest.fail(
                f"{name}: still running after {NOTEBOOK_TIMEOUT_S} s; "
                f"{sum('*' in p for p in prompts)} of {len(prompts)} code cells queued or running"
            )
        time.sleep(1)
        text = dialog_text(page)
        if text:  # e.g. "Kernel Restarting: the kernel appears to have died"
            pytest.fail(f"{name}: JupyterLab showed a dialog while running:\n{text}")
        states = [s["kernel"]["execution_state"] for s in lab.api("GET", "sessions")]
        busy = any("*" in p for p in code_prompts(page)) or any(s != "idle" for s in states)
        quiet = 0 if busy or not states else quiet + 1


def code_prompts(page) -> list[str]:
    return page.eval_on_selector_all(
        PROMPTS,
        "els => els.map(e => e.textContent)",
    )


def problems(nb, name: str) -> list[str]:
    """What the saved notebook shows went wrong: cells not run, errors, missing figures."""
    found = []
    code = [(i, c) for i, c in enumerate(nb.cells, 1) if c.cell_type == "code"]

    def where(i, cell):
        first = cell.source.strip().splitlines()[0][:70] if cell.source.strip() else ""
        return f"{name}, cell {i} of {len(nb.cells)} ({first!r})"

    for i, cell in code:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"{where(i, cell)} raised {out['ename']}: {out['evalue']}")
    not_run = [(i, c) for i, c in code if c.get("execution_count") is None]
    if not_run:
        found.append(
            f"{len(not_run)} of {len(code)} code cells did not run, the first: {where(*not_run[0])}"
        )
    for i, cell in code:
        draws = cell.metadata.get("mystnb", {}).get("image", {}).get("alt")
        images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        if draws and cell.get("execution_count") is not None and not images:
            found.append(f"{where(i, cell)} draws a figure (it has alt text) but shows none")
    if not any("image/png" in o.get("data", {}) for _, c in code for o in c.get("outputs", [])):
        found.append(f"{name}: no figure at all")
    return found


def test_the_sample_is_a_course_notebook_with_figures_and_checks():
    """:data:`IN_JUPYTERLAB` is still in _toc.yml, draws figures and has checked exercises."""
    assert IN_JUPYTERLAB in NAMES, f"{IN_JUPYTERLAB} is not in _toc.yml ({NAMES})"
    nb = nbformat.read(ROOT / "notebooks" / f"{IN_JUPYTERLAB}.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    alt = [c for c in nb.cells if c.metadata.get("mystnb", {}).get("image", {}).get("alt")]
    assert alt and "check(" in code, f"{IN_JUPYTERLAB} draws no figure or checks no exercise"


def test_notebook_runs_in_jupyterlab(browser, course_lab):
    """Open, Run > Run All Cells, Ctrl+S; the saved notebook ran every cell without error."""
    name = IN_JUPYTERLAB
    path = course_lab.root_dir / "notebooks" / f"{name}.ipynb"
    start = time.monotonic()
    with notebook_page(browser, course_lab, name) as page:
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=START_TIMEOUT_S * 1000)
        text = dialog_text(page)
        assert text is None, f"{name}: JupyterLab showed a dialog on opening:\n{text}"
        wait_for_kernel(page, course_lab, name)
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(f"{RUN_ALL}:not(.lm-mod-disabled)").click()
        wait_until_run(page, course_lab, name)
        # The convolution's animation plays where it ran: its controls change the frame.
        # (Events rather than clicks: JupyterLab keeps laying the notebook out, so that
        # Playwright would wait for the output to stand still.)
        animation = page.locator("img[id^='_anim_img']")
        animation.evaluate("e => e.scrollIntoView({block: 'center'})")
        first = animation.get_attribute("src")
        page.locator("button[aria-label='Next frame']").dispatch_event("click")
        assert animation.get_attribute("src") != first, "the animation does not step"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "animation-lab.png"))
        record_requests("animation-lab", page.requests)

        before = path.stat().st_mtime_ns
        page.locator(".jp-NotebookPanel .jp-Notebook").first.focus()
        page.keyboard.press("Escape")  # command mode, where Ctrl+S saves the notebook
        page.keyboard.press("Control+s")
        deadline = time.monotonic() + 60
        while (
            path.stat().st_mtime_ns == before or page.locator(".lm-TabBar-tab.jp-mod-dirty").count()
        ):
            if time.monotonic() > deadline:
                pytest.fail(f"{name}: Ctrl+S did not save the notebook within 60 s")
            time.sleep(0.5)
        # Beyond JupyterLab's own, the one address the notebook names itself: its Colab
        # badge, an image in its first cell (the book leaves that cell out).
        badge = set(re.findall(r"\((https://[^)\s]+\.svg)\)", first_cell(name)))
        beyond = [u for u in elsewhere(page.requests) if u not in badge]
        assert not beyond, f"requests beyond 127.0.0.1: {beyond}"
        assert NEWS_PROMPT not in page.inner_text("body"), (
            f"JupyterLab asked about {NEWS_PROMPT!r}; expected the course's settings "
            f"({SETTINGS.relative_to(ROOT)}) to turn that question off"
        )
    found = problems(nbformat.read(path, as_version=4), name)
    assert not found, "\n".join(found)
    print(f"{name}: ran in JupyterLab in {time.monotonic() - start:.0f} s")


def test_the_model_explorer_works_in_jupyterlab(browser, course_lab):
    """The explorer's cell output, as notebooks 04 and 10 show it, in a notebook run in
    JupyterLab: choosing an image changes its bars, a confusion cell shows its images, and
    nothing is asked of any address but JupyterLab's own."""
    import numpy as np
    from test_explorer import tiny_model

    from helpers import data, explorer

    rng = np.random.default_rng(0)
    x = (rng.random((300, 28, 28, 1)) * (rng.random((300, 1, 1, 1)) < 0.7)).astype(np.float32)
    y = rng.integers(0, 10, 300)
    shown = explorer.show_explorer(tiny_model(), x, y, chosen=explorer.choose_images(y, 2))
    folder = course_lab.root_dir / "notebooks"
    (folder / "explorer_output.html").write_text(shown.data, encoding="utf-8")
    name = "explorer_in_jupyterlab"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from IPython.display import HTML\n"
            'HTML(open("explorer_output.html", encoding="utf-8").read())'
        )
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, folder / f"{name}.ipynb")
    with notebook_page(browser, course_lab, name) as page:
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=START_TIMEOUT_S * 1000)
        wait_for_kernel(page, course_lab, name)
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(f"{RUN_ALL}:not(.lm-mod-disabled)").click()
        wait_until_run(page, course_lab, name)
        frame = page.frame_locator(".model-explorer iframe")
        frame.locator(".thumb").first.wait_for(timeout=30_000)
        before = frame.locator(".fill").evaluate_all("l => l.map((f) => f.style.width)")
        frame.locator(".thumb").nth(5).click()
        after = frame.locator(".fill").evaluate_all("l => l.map((f) => f.style.width)")
        assert after != before, "choosing another image left the bars as they were"
        cell = frame.locator(".cell").first
        t, p = int(cell.get_attribute("data-t")), int(cell.get_attribute("data-p"))
        cell.click()
        alts = frame.locator("#cell-images img").evaluate_all("l => l.map((i) => i.alt)")
        ending = f": true class {data.CLASS_NAMES[t]}, predicted {data.CLASS_NAMES[p]}"
        assert alts and all(a.endswith(ending) for a in alts), alts
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "explorer-lab.png"))
        record_requests("explorer-lab", page.requests)
        assert not elsewhere(page.requests), elsewhere(page.requests)


def test_make_lab_opens_the_notebooks_folder(browser, course_lab):
    """JupyterLab's start page (what `make lab` opens) lists the course's notebooks."""
    page = open_lab(browser, course_lab, "")
    try:
        listing = page.locator(".jp-DirListing-content")
        listing.get_by_text(f"{NAMES[0]}.ipynb").wait_for(timeout=START_TIMEOUT_S * 1000)
        names = listing.locator(".jp-DirListing-itemText").all_inner_texts()
        missing = [n for n in NAMES if f"{n}.ipynb" not in names]
        assert not missing, f"the start page lists {names}; expected the notebooks {missing} too"
        page.wait_for_timeout(3000)  # the news question comes once the page is restored
        assert not elsewhere(page.requests), (
            f"requests beyond 127.0.0.1: {elsewhere(page.requests)}"
        )
        assert NEWS_PROMPT not in page.inner_text("body"), (
            f"JupyterLab asked about {NEWS_PROMPT!r} on start; expected the course's "
            f"settings ({SETTINGS.relative_to(ROOT)}) to turn that question off"
        )
    finally:
        page.close()


def test_news_question_needs_the_course_settings(browser, tmp_path):
    """Without the course's settings JupyterLab does ask, so the checks above can fail."""
    require_course_settings()
    (tmp_path / "course" / "notebooks").mkdir(parents=True)
    empty = tmp_path / "no-settings"
    empty.mkdir()
    lab = Lab(
        tmp_path / "course",
        tmp_path,
        lab_env(tmp_path),
        [f"--LabApp.app_settings_dir={empty}"],
    )
    try:
        page = open_lab(browser, lab, "")
        page.get_by_text(NEWS_PROMPT).wait_for(timeout=60_000)
        page.close()
    finally:
        lab.stop()
