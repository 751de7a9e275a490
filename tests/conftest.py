"""Shared fixtures: the repository layout, the course tool, and the fast profile's
notebooks, executed in the background from the start of a test run (fast_pass.py)."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
from fast_pass import FAST

from tools import course  # the course tool; re-exported: `from conftest import ROOT, course`

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class NetworkBlocked(RuntimeError):
    """A test tried to reach a host other than this machine (not an OSError on purpose:
    code under test that swallows OSError cannot hide it)."""


_attempts: list[str] = []


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Allow connections to 127.0.0.1 only; fail the test on any other attempt."""
    _attempts.clear()
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host in LOOPBACK or host.startswith("127.")):
            return
        if isinstance(host, bytes) or (isinstance(address, str) and address.startswith("/")):
            return  # Unix sockets
        _attempts.append(repr(address))
        raise NetworkBlocked(f"a test tried to connect to {address!r}; only 127.0.0.1 is allowed")

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None:
            check((host.decode() if isinstance(host, bytes) else host, 0))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield _attempts
    assert not _attempts, f"the test tried to reach the network: {_attempts}"


@pytest.fixture(scope="session")
def fashion_mnist():
    """The real Fashion-MNIST, ``((x_train, y_train), (x_test, y_test))``, loaded once.

    Tests that need it are skipped, saying why, where the dataset is not available.
    """
    from helpers.data import DatasetNotFoundError, load_fashion_mnist

    try:
        return load_fashion_mnist(download=False)
    except DatasetNotFoundError as err:
        pytest.skip(f"Fashion-MNIST is not available: {err}")


@pytest.fixture(scope="session")
def small_splits(fashion_mnist):
    """The course's splits of the real data with 200 class-balanced training images.

    Enough to train the baseline for an epoch in about a second; skipped, like
    ``fashion_mnist``, where the dataset is not available.
    """
    from helpers import data

    return data.course_splits(train_size=200, seed=0)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def course_tool():
    return course


# Fixtures whose tests wait for work done in the background (tests/fast_pass.py).
BACKGROUND_FIXTURES = ("fast_notebooks", "background")


def _waits(item) -> bool:
    return any(name in getattr(item, "fixturenames", ()) for name in BACKGROUND_FIXTURES)


def pytest_collection_modifyitems(session, config, items):
    """The tests that wait for the background's work run last, in their order, so that
    every other test runs while it is done."""
    waits = [item for item in items if _waits(item)]
    if waits:
        waiting = set(waits)
        items[:] = [item for item in items if item not in waiting] + waits


def pytest_collection_finish(session):
    """Start the background's work for the selected tests: the fast notebooks if a test
    reads them, then what each test module queues (``start_in_background(items, FAST)``)."""
    if any("fast_notebooks" in getattr(item, "fixturenames", ()) for item in session.items):
        FAST.start()
    modules = {}
    for item in session.items:
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, "start_in_background"):
            modules.setdefault(module, []).append(item)
    for module, items in modules.items():
        module.start_in_background(items, FAST)


def pytest_sessionfinish(session):
    FAST.stop()


@pytest.fixture(scope="session")
def fast_notebooks():
    """The fast profile's notebooks, executed in the background (fast_pass.FastPass): a
    test waits for those it reads with ``executed(name)`` or ``all_executed()``."""
    return FAST.start()


@pytest.fixture(scope="session")
def background():
    """The background's workers, for a long run a test waits for (``submit(key, fn, ...)``)."""
    return FAST


@pytest.fixture(scope="session")
def fast_book(fast_notebooks) -> Path:
    """The book built from the fast-profile notebooks."""
    fast_notebooks.all_executed()
    return course.build_book("fast")


# The system's Chromium, driven by Playwright (which cannot download its own browsers
# here): the book's browser test and the JupyterLab test share it.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


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
