"""Faults while getting the data: interrupted and corrupted downloads from a local HTTP
server on 127.0.0.1, mirrors that are not HTTPS, and a Keras cache that cannot be
written.

The server (a threading ``http.server``) serves tiny fake files whose md5s replace
``helpers.data.FILES``; it runs only inside a ``with`` block, stops itself after a
few seconds whatever happens, and every handler gives up after a bounded wait.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import socket
import threading
import urllib.request
from pathlib import Path

import pytest
import test_data as shared
from test_data import N_TEST, N_TRAIN, idx_bytes, tiny_arrays

from conftest import NetworkBlocked
from helpers import data

# The data tests' fixtures; no_network and isolated are autouse: the network guard and
# the isolated environment (no FASHION_MNIST_DIR, empty KERAS_HOME) apply here too.
isolated = shared.isolated
keras_home = shared.keras_home
closed_port = shared.closed_port

NAME = "train-labels-idx1-ubyte.gz"
REAL_PROGRESS = data._progress  # before the isolation fixture silences it
SERVER_LIFETIME_S = 20  # the server shuts itself down after this, even if a test hangs
HANDLER_WAIT_S = 5  # the longest a stalling handler holds a connection


@pytest.fixture
def payloads(monkeypatch) -> dict[str, bytes]:
    """The four tiny files' bytes; FILES and the expected counts patched to match."""
    files = {n: gzip.compress(idx_bytes(a), mtime=0) for n, a in tiny_arrays().items()}
    monkeypatch.setattr(data, "FILES", {n: hashlib.md5(b).hexdigest() for n, b in files.items()})
    monkeypatch.setattr(data, "_EXPECTED_COUNTS", {"train": N_TRAIN, "t10k": N_TEST})
    return files


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the faults hang up on purpose; the client's side is what the tests check


@contextlib.contextmanager
def serve(files: dict[str, bytes], mode: str = "good"):
    """Serve ``files`` at http://127.0.0.1:PORT/ with the given fault; yield (url, hits).

    good: the file, with its Content-Length.
    half: a Content-Length, then half the bytes, then the connection is closed.
    chunked-cut: chunked transfer encoding, cut in the middle of a chunk.
    bad-status: a response that is not HTTP.
    wrong-bytes: a complete, well-formed response with other bytes than the file's.
    stall: headers, then nothing until the client gives up (or HANDLER_WAIT_S).
    not-found: HTTP 404.
    """
    hits: list[str] = []
    release = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        timeout = HANDLER_WAIT_S  # socket timeout for a slow client

        def log_message(self, *args):
            pass

        def do_GET(self):
            name = self.path.rsplit("/", 1)[-1]
            hits.append(name)
            body = files.get(name)
            if body is None or mode == "not-found":
                self.send_error(404)
                return
            if mode == "bad-status":
                self.wfile.write(b"SPAM\r\n\r\n")
                self.close_connection = True
                return
            if mode == "wrong-bytes":
                body = bytes(reversed(body))
            if mode == "chunked-cut":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"%x\r\n" % len(body) + body[: len(body) // 2])
                self._hang_up()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if mode == "half":
                self.wfile.write(body[: len(body) // 2])
                self._hang_up()
            elif mode == "stall":
                self.wfile.flush()
                release.wait(HANDLER_WAIT_S)
                self.close_connection = True
            else:
                self.wfile.write(body)

        def _hang_up(self):
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    server = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    watchdog = threading.Timer(SERVER_LIFETIME_S, server.shutdown)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", hits
    finally:
        release.set()
        watchdog.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        assert not thread.is_alive(), "the test server did not stop"


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# --------------------------------------------------------------------------- the server


def test_the_test_server_serves_and_faults_as_intended(payloads):
    """The faults are real: otherwise the tests below would prove nothing."""
    with serve(payloads) as (url, _):
        with urllib.request.urlopen(url + NAME, timeout=5) as resp:
            assert resp.read() == payloads[NAME]
    with serve(payloads, "half") as (url, _):
        with urllib.request.urlopen(url + NAME, timeout=5) as resp:
            assert int(resp.headers["Content-Length"]) == len(payloads[NAME])
            got = b"".join(iter(lambda: resp.read(1 << 16), b""))
            assert 0 < len(got) < len(payloads[NAME])


# --------------------------------------------------------------------------- interrupted


FAULTS = ["half", "chunked-cut", "bad-status", "wrong-bytes", "not-found"]


@pytest.mark.parametrize("mode", FAULTS)
def test_failed_download_leaves_nothing_then_a_retry_succeeds(payloads, tmp_path, mode):
    target = tmp_path / "cache"
    with serve(payloads, mode) as (url, hits):
        with pytest.raises(data.DatasetNotFoundError) as err:
            data.download_file(NAME, target, mirrors=(url,), progress=False)
    assert hits == [NAME], "the mirror was asked exactly once"
    message = str(err.value)
    assert NAME in message and url + NAME in message, "says which URL failed"
    assert leftovers(target) == [], "no final file and no .part file may survive a failure"

    with serve(payloads) as (url, _):
        path = data.download_file(NAME, target, mirrors=(url,), progress=False)
    assert path == target / NAME
    assert data.md5sum(path) == data.FILES[NAME]
    assert leftovers(target) == [NAME]


def test_half_closed_download_says_how_much_arrived(payloads, tmp_path):
    with serve(payloads, "half") as (url, _):
        with pytest.raises(data.DatasetNotFoundError) as err:
            data.download_file(NAME, tmp_path, mirrors=(url,), progress=False)
    size = len(payloads[NAME])
    assert f"connection closed after {size // 2} of {size} bytes" in str(err.value)


def test_wrong_bytes_fail_the_checksum(payloads, tmp_path):
    with serve(payloads, "wrong-bytes") as (url, _):
        with pytest.raises(data.DatasetNotFoundError, match="ChecksumError") as err:
            data.download_file(NAME, tmp_path, mirrors=(url,), progress=False)
    assert data.FILES[NAME] in str(err.value)


def test_stalled_download_times_out_and_leaves_nothing(payloads, tmp_path):
    with serve(payloads, "stall") as (url, _):
        with pytest.raises(data.DatasetNotFoundError, match="timed out"):
            data.download_file(NAME, tmp_path, mirrors=(url,), timeout=0.5, progress=False)
    assert leftovers(tmp_path) == []


def test_a_broken_mirror_falls_through_to_the_next(payloads, tmp_path):
    with serve(payloads, "chunked-cut") as (bad, bad_hits), serve(payloads) as (good, good_hits):
        path = data.download_file(NAME, tmp_path, mirrors=(bad, good), progress=False)
    assert bad_hits == [NAME] and good_hits == [NAME]
    assert data.md5sum(path) == data.FILES[NAME]
    assert leftovers(tmp_path) == [NAME]


def test_progress_is_reported_on_stderr(payloads, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(data, "_progress", REAL_PROGRESS)
    with serve(payloads) as (url, _):
        data.download_file(NAME, tmp_path, mirrors=(url,), progress=True)
    err = capsys.readouterr().err
    assert NAME in err and "MB" in err and err.endswith("\n")


def test_interrupted_find_dataset_dir_leaves_nothing_then_retry_verifies(
    payloads, keras_home, monkeypatch
):
    cache = keras_home / "datasets" / "fashion-mnist"
    with serve(payloads, "half") as (url, hits):
        monkeypatch.setattr(data, "MIRRORS", (url,))
        with pytest.raises(data.DatasetNotFoundError) as err:
            data.find_dataset_dir()
    assert hits, "the monkeypatched mirror was used"
    assert "Looked in" in str(err.value) and "FASHION_MNIST_DIR" in str(err.value)
    assert leftovers(cache) == [], "nothing that could pass later"

    with serve(payloads) as (url, hits):
        monkeypatch.setattr(data, "MIRRORS", (url,))
        assert data.find_dataset_dir() == cache
    assert sorted(hits) == sorted(data.FILES)
    assert leftovers(cache) == sorted(data.FILES)
    for name, md5 in data.FILES.items():
        assert data.md5sum(cache / name) == md5
    (x_train, _), (x_test, _) = data.load_fashion_mnist(download=False)
    assert x_train.shape == (N_TRAIN, 28, 28) and x_test.shape == (N_TEST, 28, 28)


def test_corrupt_file_in_a_partial_cache_is_replaced(payloads, keras_home, monkeypatch):
    cache = keras_home / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    (cache / NAME).write_bytes(payloads[NAME][:-3])  # truncated by an old, unsafe download
    with serve(payloads) as (url, hits):
        monkeypatch.setattr(data, "MIRRORS", (url,))
        assert data.find_dataset_dir() == cache
    assert NAME in hits
    assert data.md5sum(cache / NAME) == data.FILES[NAME]


# --------------------------------------------------------------------------- only HTTPS


@pytest.mark.parametrize(
    "mirror",
    [
        "http://example.com/",
        "ftp://127.0.0.1/",
        "http://localhost.example.com/",
        "http://127.0.0.1.example.com/",
        "http://localhost@example.com/",
        "file:///etc/",
        "storage.googleapis.com/",
    ],
)
def test_only_https_mirrors_are_used(tmp_path, mirror, no_network):
    with pytest.raises(data.DatasetNotFoundError, match="only HTTPS mirrors are used"):
        data.download_file(NAME, tmp_path, mirrors=(mirror,), progress=False)
    assert no_network == [], "a refused mirror is never contacted"
    assert leftovers(tmp_path) == []


def test_https_mirrors_are_contacted(tmp_path, no_network):
    """The counterpart: an HTTPS mirror is tried (here, blocked by the guard)."""
    with pytest.raises(NetworkBlocked):
        data.download_file(NAME, tmp_path, mirrors=("https://192.0.2.1/",), timeout=1)
    no_network.clear()
    assert leftovers(tmp_path) == []


def test_unknown_file_name_is_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"name='train-images\.gz' is not a Fashion-MNIST file"):
        data.download_file("train-images.gz", tmp_path)


# --------------------------------------------------------------------------- unwritable cache


def _can_write(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".probe"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


@pytest.fixture
def unwritable_keras_home(tmp_path):
    """A KERAS_HOME whose datasets/fashion-mnist cannot be written; yields (home, how).

    chmod 0o500 first; root ignores it, so then KERAS_HOME is put below a regular
    file, where no directory can ever be created, even by root.
    """
    home = tmp_path / "keras-readonly"
    cache = home / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    cache.chmod(0o500)
    try:
        if not _can_write(cache):
            yield home, "chmod 0o500"
            return
        cache.chmod(0o700)
        blocker = tmp_path / "a-regular-file"
        blocker.write_text("KERAS_HOME points below this file, so nothing can be created\n")
        home = blocker / "keras"
        if not _can_write(home / "datasets" / "fashion-mnist"):
            yield home, "below a regular file"
            return
        pytest.skip("found no way to make a directory unwritable on this machine")
    finally:
        cache.chmod(0o700)


@pytest.mark.parametrize("call", ["find_dataset_dir", "load_fashion_mnist"])
def test_unwritable_cache_gives_a_clear_error(payloads, unwritable_keras_home, monkeypatch, call):
    home, how = unwritable_keras_home
    monkeypatch.setenv("KERAS_HOME", str(home))
    cache = home / "datasets" / "fashion-mnist"
    with serve(payloads) as (url, hits):  # a working mirror: only the cache is in the way
        monkeypatch.setattr(data, "MIRRORS", (url,))
        with pytest.raises((PermissionError, data.DatasetNotFoundError)) as err:
            getattr(data, call)()
    message = str(err.value)
    assert str(cache) in message, f"({how}) the message names the directory: {message}"
    assert "KERAS_HOME" in message and "FASHION_MNIST_DIR" in message, "says what to do"
    assert hits == [], "nothing is downloaded that could not be kept"
    origin = Path(err.traceback[-1].path)
    assert origin == Path(data.__file__), f"raised from helpers/data.py, not from {origin}"
    assert "keras" not in "".join(str(entry.path) for entry in err.traceback)


def test_unwritable_target_for_download_file(payloads, unwritable_keras_home):
    home, how = unwritable_keras_home
    with pytest.raises(PermissionError, match="Cannot write the download into") as err:
        data.download_file(NAME, home / "datasets" / "fashion-mnist", mirrors=("https://x/",))
    assert "writable" in str(err.value), how
