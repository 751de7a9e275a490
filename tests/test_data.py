"""Unit tests of helpers.data on tiny generated IDX files (seconds), plus one test of the
real Fashion-MNIST when FASHION_MNIST_DIR is set.

The tiny files are real gzip'd IDX files with correct headers (20 training and 10 test
images); ``helpers.data.FILES`` is monkeypatched with their md5s. Every test runs
with the environment isolated (no FASHION_MNIST_DIR, KERAS_HOME in a temporary
directory, the mirrors pointed at a closed port on 127.0.0.1) and under a guard that
fails the test if anything connects anywhere but this machine.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import os
import re
import socket
from pathlib import Path

import numpy as np
import pytest

from conftest import NetworkBlocked  # noqa: F401  (the guard itself is in conftest.py)
from helpers import data

REAL_DIR = os.environ.get("FASHION_MNIST_DIR")  # read before any test isolates the environment
N_TRAIN, N_TEST = 20, 10


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that refuses connections (bound, never listening)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def keras_home(tmp_path):
    return tmp_path / "keras-home"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, keras_home, closed_port):
    """No FASHION_MNIST_DIR, an empty KERAS_HOME, mirrors that refuse connections."""
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    for var in ("no_proxy", "NO_PROXY"):  # a proxy must not stand between us and 127.0.0.1
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    monkeypatch.setattr(data, "MIRRORS", (f"http://127.0.0.1:{closed_port}/",))
    monkeypatch.setattr(data, "_progress", lambda *args: None)


def idx_bytes(array: np.ndarray, magic: int | None = None, count: int | None = None) -> bytes:
    """An uncompressed IDX file of unsigned bytes; ``magic``/``count`` override the header."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x0800 + array.ndim
    shape = list(array.shape)
    if count is not None:
        shape[0] = count
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in shape)
    return header + array.tobytes()


def write_gz(path: Path, raw: bytes) -> str:
    path.write_bytes(gzip.compress(raw, mtime=0))
    return data.md5sum(path)


def tiny_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """20 training and 10 test images, every class present (2 and 1 per class)."""
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": (np.arange(N_TRAIN) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.permutation(10).astype(np.uint8),
    }


def write_tiny_set(directory: Path, arrays: dict[str, np.ndarray] | None = None) -> dict:
    """Write the four tiny files into ``directory``; return {name: md5}."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = arrays or tiny_arrays()
    return {name: write_gz(directory / name, idx_bytes(a)) for name, a in arrays.items()}


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A directory with the four tiny files; FILES and the expected counts patched to match."""
    directory = tmp_path / "tiny"
    arrays = tiny_arrays()
    md5s = write_tiny_set(directory, arrays)
    monkeypatch.setattr(data, "FILES", md5s)
    monkeypatch.setattr(data, "_EXPECTED_COUNTS", {"train": N_TRAIN, "t10k": N_TEST})
    return directory, arrays


def flip_byte(path: Path, offset: int | None = None) -> None:
    raw = bytearray(path.read_bytes())
    offset = len(raw) // 2 if offset is None else offset
    raw[offset] ^= 0xFF
    path.write_bytes(bytes(raw))


# --------------------------------------------------------------------------- the guard


def test_the_network_guard_blocks_other_hosts(no_network):
    """The guard must be able to fail: a connection to a public address is blocked."""
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("192.0.2.1", 443), timeout=1)  # TEST-NET-1, never routed
    with socket.socket() as sock, pytest.raises(NetworkBlocked):
        sock.connect(("192.0.2.1", 443))
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("storage.googleapis.com", 443)
    assert len(no_network) == 3
    no_network.clear()


# --------------------------------------------------------------------------- loading


def test_good_files_load_with_shapes_dtypes_and_values(tiny):
    directory, arrays = tiny
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(directory, download=False)
    assert x_train.shape == (N_TRAIN, 28, 28) and y_train.shape == (N_TRAIN,)
    assert x_test.shape == (N_TEST, 28, 28) and y_test.shape == (N_TEST,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
        assert array.flags.writeable, "the arrays are copies a student may modify"
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte.gz"])
    np.testing.assert_array_equal(x_test, arrays["t10k-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])


def test_md5sum_is_the_files_md5(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"fashion" * 300_000)  # more than one 1 MiB chunk
    assert data.md5sum(path) == hashlib.md5(path.read_bytes()).hexdigest()


def test_read_idx_reads_images_and_labels(tmp_path):
    images = np.arange(3 * 28 * 28, dtype=np.uint32).reshape(3, 28, 28).astype(np.uint8)
    write_gz(tmp_path / "i.gz", idx_bytes(images))
    write_gz(tmp_path / "l.gz", idx_bytes(np.array([7, 0, 9], np.uint8)))
    np.testing.assert_array_equal(data.read_idx(tmp_path / "i.gz", 3), images)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "l.gz"), [7, 0, 9])


def test_flipped_byte_is_a_checksum_error_naming_file_md5s_and_remedy(tiny):
    directory, _ = tiny
    path = directory / "train-images-idx3-ubyte.gz"
    expected = data.FILES[path.name]
    flip_byte(path)
    actual = data.md5sum(path)
    with pytest.raises(data.ChecksumError) as err:
        data.load_fashion_mnist(directory, download=False)
    message = str(err.value)
    assert str(path) in message
    assert expected in message and actual in message
    assert "FASHION_MNIST_DIR" in message and "delete the file" in message


def test_checksum_mismatch_against_the_published_md5(tiny, monkeypatch):
    directory, _ = tiny
    name = "t10k-labels-idx1-ubyte.gz"
    actual = data.FILES[name]
    monkeypatch.setitem(data.FILES, name, "0" * 32)
    with pytest.raises(data.ChecksumError, match=name) as err:
        data.find_dataset_dir(directory, download=False)
    assert "expected md5 " + "0" * 32 in str(err.value) and actual in str(err.value)


def test_truncated_gzip_is_an_idx_format_error(tmp_path):
    path = tmp_path / "cut.gz"
    write_gz(path, idx_bytes(np.zeros((5, 28, 28), np.uint8) + 7))
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(data.IDXFormatError, match="not a readable gzip file") as err:
        data.read_idx(path)
    assert "FASHION_MNIST_DIR" in str(err.value)


def test_truncated_file_fails_its_checksum_before_it_is_parsed(tiny):
    directory, _ = tiny
    path = directory / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(data.ChecksumError, match="truncated"):
        data.load_fashion_mnist(directory, download=False)


def test_data_shorter_than_the_header_announces(tmp_path):
    path = tmp_path / "short.gz"
    write_gz(path, idx_bytes(np.zeros((5, 28, 28), np.uint8))[:-100])
    with pytest.raises(data.IDXFormatError, match=r"truncated") as err:
        data.read_idx(path)
    assert "(5, 28, 28)" in str(err.value)


@pytest.mark.parametrize("length", [0, 5, 12])
def test_header_itself_truncated(tmp_path, length):
    path = tmp_path / "header.gz"
    write_gz(path, idx_bytes(np.zeros((5, 28, 28), np.uint8))[:length])
    with pytest.raises(data.IDXFormatError, match="too short") as err:
        data.read_idx(path)
    assert f"({length} " in str(err.value), "says how many bytes there are"


@pytest.mark.parametrize("magic", [0, 2050, 2052, 0x0D03, 0x1F8B0800])
def test_wrong_magic_number(tmp_path, magic):
    path = tmp_path / "magic.gz"
    write_gz(path, idx_bytes(np.zeros((4, 28, 28), np.uint8), magic=magic))
    with pytest.raises(data.IDXFormatError) as err:
        data.read_idx(path)
    assert f"magic number {magic}" in str(err.value)
    assert "2051" in str(err.value) and "2049" in str(err.value)


def test_wrong_count_against_the_expected_number(tmp_path):
    path = tmp_path / "count.gz"
    write_gz(path, idx_bytes(np.zeros((20, 28, 28), np.uint8)))
    with pytest.raises(data.IDXFormatError, match="holds 20 examples; expected 21"):
        data.read_idx(path, expected_count=21)


def test_header_count_disagreeing_with_the_data(tmp_path):
    path = tmp_path / "lie.gz"
    write_gz(path, idx_bytes(np.zeros((20, 28, 28), np.uint8), count=21))
    with pytest.raises(data.IDXFormatError, match="truncated"):
        data.read_idx(path)


def test_wrong_count_in_the_canonical_split(tmp_path, monkeypatch):
    """19 training examples where the split needs 20: verified files, wrong content."""
    arrays = tiny_arrays()
    arrays["train-images-idx3-ubyte.gz"] = arrays["train-images-idx3-ubyte.gz"][:19]
    arrays["train-labels-idx1-ubyte.gz"] = arrays["train-labels-idx1-ubyte.gz"][:19]
    monkeypatch.setattr(data, "FILES", write_tiny_set(tmp_path / "d", arrays))
    monkeypatch.setattr(data, "_EXPECTED_COUNTS", {"train": N_TRAIN, "t10k": N_TEST})
    with pytest.raises(data.IDXFormatError, match="holds 19 examples; expected 20"):
        data.load_fashion_mnist(tmp_path / "d", download=False)


def test_labels_where_images_belong(tmp_path, monkeypatch):
    arrays = tiny_arrays()
    arrays["t10k-images-idx3-ubyte.gz"] = arrays["t10k-labels-idx1-ubyte.gz"]
    monkeypatch.setattr(data, "FILES", write_tiny_set(tmp_path / "d", arrays))
    monkeypatch.setattr(data, "_EXPECTED_COUNTS", {"train": N_TRAIN, "t10k": N_TEST})
    with pytest.raises(data.IDXFormatError, match=r"expected \(N, 28, 28\)"):
        data.load_fashion_mnist(tmp_path / "d", download=False)


# --------------------------------------------------------------------------- where it looks


def test_offline_with_nothing_local_says_where_it_looked(tiny, keras_home):
    with pytest.raises(data.DatasetNotFoundError) as err:
        data.load_fashion_mnist()
    message = str(err.value)
    assert "Looked in" in message
    assert str(keras_home / "datasets" / "fashion-mnist") in message
    assert "FASHION_MNIST_DIR" in message
    assert err.value.__suppress_context__, "no chained URL/DNS traceback"
    assert "Traceback" not in message
    leftovers = list((keras_home / "datasets" / "fashion-mnist").iterdir())
    assert leftovers == [], f"a failed download left {leftovers}"


def test_download_disabled_says_so(tiny, keras_home):
    with pytest.raises(data.DatasetNotFoundError, match="downloading was disabled") as err:
        data.find_dataset_dir(download=False)
    assert str(keras_home / "datasets" / "fashion-mnist") in str(err.value)
    assert not (keras_home / "datasets").exists(), "nothing is created when not downloading"


def test_monkeypatched_mirrors_are_the_ones_used(tiny, closed_port):
    """MIRRORS is read when download_file is called, not frozen at import."""
    with pytest.raises(data.DatasetNotFoundError) as err:
        data.find_dataset_dir()
    assert f"127.0.0.1:{closed_port}" in str(err.value)
    assert "storage.googleapis.com" not in str(err.value)


def _copy_set(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in data.FILES:
        (target / name).write_bytes((source / name).read_bytes())
    return target


def test_lookup_order_argument_then_env_then_keras_cache(tiny, tmp_path, keras_home, monkeypatch):
    directory, _ = tiny
    arg = _copy_set(directory, tmp_path / "arg")
    env = _copy_set(directory, tmp_path / "env")
    cache = _copy_set(directory, keras_home / "datasets" / "fashion-mnist")
    monkeypatch.setenv("FASHION_MNIST_DIR", str(env))
    assert data.find_dataset_dir(arg, download=False) == arg
    assert data.find_dataset_dir(download=False) == env
    monkeypatch.delenv("FASHION_MNIST_DIR")
    assert data.find_dataset_dir(download=False) == cache
    assert data.keras_cache_dir() == cache


def test_keras_cache_defaults_to_home(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.keras_cache_dir() == tmp_path / ".keras" / "datasets" / "fashion-mnist"


@pytest.mark.parametrize("where", ["argument", "env"])
def test_named_directory_lacking_files_is_an_error_not_skipped(tiny, tmp_path, where, monkeypatch):
    directory, _ = tiny
    _copy_set(directory, data.keras_cache_dir())  # would be found if the error were skipped
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "train-images-idx3-ubyte.gz").write_bytes(
        (directory / "train-images-idx3-ubyte.gz").read_bytes()
    )
    if where == "env":
        monkeypatch.setenv("FASHION_MNIST_DIR", str(partial))
    with pytest.raises(data.DatasetNotFoundError) as err:
        data.find_dataset_dir(partial if where == "argument" else None)
    message = str(err.value)
    assert str(partial) in message and "t10k-labels-idx1-ubyte.gz" in message
    assert ("data_dir argument" if where == "argument" else "$FASHION_MNIST_DIR") in message


@pytest.mark.parametrize("where", ["argument", "env"])
def test_named_directory_that_does_not_exist_is_an_error(tiny, tmp_path, where, monkeypatch):
    """A typo in the path must not silently fall through to the cache (or a download)."""
    directory, _ = tiny
    _copy_set(directory, data.keras_cache_dir())
    missing = tmp_path / "no-such-dir"
    if where == "env":
        monkeypatch.setenv("FASHION_MNIST_DIR", str(missing))
    with pytest.raises(data.DatasetNotFoundError, match="does not exist") as err:
        data.find_dataset_dir(missing if where == "argument" else None)
    assert str(missing) in str(err.value)


def test_empty_env_variable_is_ignored(tiny, monkeypatch):
    directory, _ = tiny
    cache = _copy_set(directory, data.keras_cache_dir())
    monkeypatch.setenv("FASHION_MNIST_DIR", "")
    assert data.find_dataset_dir(download=False) == cache


# --------------------------------------------------------------------------- preprocessing


def uint8_images(n: int = 6) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def test_to_model_input_scales_and_adds_the_channel_axis():
    images = uint8_images()
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    x = data.to_model_input(images)
    assert x.shape == (6, 28, 28, 1) and x.dtype == np.float32
    assert x[0, 0, 0, 0] == 0.0 and x[0, 0, 1, 0] == 1.0
    np.testing.assert_allclose(x[..., 0] * 255, images, atol=1e-4)
    assert data.to_model_input(images[..., None]).shape == (6, 28, 28, 1)


def test_to_model_input_rejects_floats():
    with pytest.raises(ValueError, match="dtype float32; expected uint8") as err:
        data.to_model_input(uint8_images().astype(np.float32) / 255)
    assert "already scaled" in str(err.value)


@pytest.mark.parametrize("shape", [(6, 28, 27), (6, 784), (28, 28), (6, 28, 28, 3), (0, 28, 28)])
def test_to_model_input_rejects_wrong_shapes_and_empty(shape):
    with pytest.raises(ValueError, match=r"has shape .*expected a non-empty \(N, 28, 28\)"):
        data.to_model_input(np.zeros(shape, np.uint8))


def balanced(n_per_class: int = 20, classes: int = 10):
    y = np.repeat(np.arange(classes), n_per_class).astype(np.uint8)
    x = np.arange(len(y), dtype=np.int64)  # x[i] == i, so rows are identifiable
    return x, y


def test_stratified_split_keeps_the_class_balance():
    x, y = balanced(20)
    (x_rest, y_rest), (x_part, y_part) = data.stratified_split(x, y, fraction=0.25, seed=3)
    assert np.bincount(y_part, minlength=10).tolist() == [5] * 10
    assert np.bincount(y_rest, minlength=10).tolist() == [15] * 10
    assert sorted(np.concatenate([x_rest, x_part]).tolist()) == x.tolist(), "a partition"
    np.testing.assert_array_equal(y[x_part], y_part)


def test_stratified_split_is_seeded():
    x, y = balanced(20)
    first = data.stratified_split(x, y, 0.1, seed=7)[1][0]
    again = data.stratified_split(x, y, 0.1, seed=7)[1][0]
    other = data.stratified_split(x, y, 0.1, seed=8)[1][0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("fraction", [0, 0.0, 1, 1.0, -0.1, 1.5, float("nan"), True, "0.1", None])
def test_stratified_split_rejects_bad_fractions(fraction):
    x, y = balanced(20)
    text = f"fraction is {fraction!r}; expected a number > 0 and < 1, e.g. 0.1"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        data.stratified_split(x, y, fraction=fraction)


def test_stratified_split_rejects_a_split_with_an_empty_side():
    x, y = balanced(2)
    with pytest.raises(ValueError, match="leaves one side empty"):
        data.stratified_split(x, y, fraction=0.01)


def test_stratified_split_rejects_mismatched_labels():
    x, y = balanced(2)
    with pytest.raises(ValueError, match=r"y has shape \(19,\); expected \(20,\)"):
        data.stratified_split(x, y[:-1])
    with pytest.raises(ValueError, match="expected integer class labels"):
        data.stratified_split(x, y.astype(float))
    with pytest.raises(ValueError, match="labels from 0 to 10; expected 0-9"):
        data.stratified_split(x, np.where(y == 9, 10, y))


@pytest.mark.parametrize("size", [1, 5, 15, 100, 123, 199, np.int64(50)])
def test_subset_returns_exactly_size_examples_balanced(size):
    x, y = balanced(20)
    x_sub, y_sub = data.subset(x, y, size, seed=1)
    assert len(x_sub) == len(y_sub) == size
    counts = np.bincount(y_sub, minlength=10)
    assert counts.max() - counts.min() <= 1, f"not balanced: {counts}"
    assert len(set(x_sub.tolist())) == size and np.all(np.diff(x_sub) > 0), "distinct, in order"
    np.testing.assert_array_equal(y[x_sub], y_sub)


def test_subset_is_seeded_and_whole_set_is_returned_as_is():
    x, y = balanced(20)
    np.testing.assert_array_equal(data.subset(x, y, 50, seed=2)[0], data.subset(x, y, 50, 2)[0])
    assert not np.array_equal(data.subset(x, y, 50, seed=2)[0], data.subset(x, y, 50, 3)[0])
    x_all, y_all = data.subset(x, y, 200)
    np.testing.assert_array_equal(x_all, x)


def test_subset_matches_the_stratified_split_where_classes_divide_evenly():
    """Where every class's share is whole, subset picks exactly the split's part."""
    x, y = balanced(20)
    np.testing.assert_array_equal(
        data.subset(x, y, 50, seed=4)[0], data.stratified_split(x, y, 0.25, seed=4)[1][0]
    )


@pytest.mark.parametrize("size", [201, 0, -5, 10.0, 2.5, "10", True, None, np.float64(50)])
def test_subset_rejects_bad_sizes(size):
    x, y = balanced(20)
    text = f"size is {size!r}; expected a whole number from 1 to {len(y)}"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        data.subset(x, y, size)


# --------------------------------------------------------------------------- tf.data


@pytest.fixture(scope="module")
def model_input():
    x = np.zeros((20, 28, 28, 1), np.float32)
    x[:, 0, 0, 0] = np.arange(20) / 255  # each image carries its index
    return x, (np.arange(20) % 10).astype(np.uint8)


def _order(ds) -> list[int]:
    return [int(round(v * 255)) for xb, _ in ds for v in xb.numpy()[:, 0, 0, 0]]


def test_make_dataset_batches(model_input):
    x, y = model_input
    ds = data.make_dataset(x, y, batch_size=8)
    batches = list(ds)
    assert [tuple(xb.shape) for xb, _ in batches] == [
        (8, 28, 28, 1),
        (8, 28, 28, 1),
        (4, 28, 28, 1),
    ]
    assert [tuple(yb.shape) for _, yb in batches] == [(8,), (8,), (4,)]
    assert batches[0][0].dtype.name == "float32" and batches[0][1].dtype.name == "int32"
    assert _order(ds) == list(range(20)), "no shuffling unless asked"
    np.testing.assert_array_equal(np.concatenate([yb.numpy() for _, yb in batches]), y)


def test_make_dataset_shuffles_seeded_and_anew_each_epoch(model_input):
    x, y = model_input
    ds = data.make_dataset(x, y, batch_size=8, shuffle=True, seed=5)
    first, second = _order(ds), _order(ds)
    assert sorted(first) == list(range(20))
    assert first != list(range(20)) and first != second
    assert _order(data.make_dataset(x, y, batch_size=8, shuffle=True, seed=5)) == first


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "8", True, None])
def test_make_dataset_rejects_bad_batch_sizes(model_input, batch_size):
    x, y = model_input
    text = f"batch_size is {batch_size!r}; expected a whole number >= 1, e.g. 128"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        data.make_dataset(x, y, batch_size=batch_size)


def test_make_dataset_rejects_unscaled_images_and_mismatched_labels(model_input):
    x, y = model_input
    with pytest.raises(ValueError, match="to_model_input"):
        data.make_dataset((x * 255).astype(np.uint8), y)
    with pytest.raises(ValueError, match="look like they are still in 0-255"):
        data.make_dataset(x * 255, y)
    with pytest.raises(ValueError, match=r"y has shape \(19,\)"):
        data.make_dataset(x, y[:-1])


# --------------------------------------------------------------------------- the course's splits

SPLIT_TRAIN, SPLIT_TEST = 200, 50  # 20 training and 5 test images per class


@pytest.fixture
def split_set(tmp_path, monkeypatch):
    """Four small files of distinct random images; FILES and the expected counts patched."""
    rng = np.random.default_rng(3)
    classes = len(data.CLASS_NAMES)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (SPLIT_TRAIN, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": (np.arange(SPLIT_TRAIN) % classes).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (SPLIT_TEST, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": (np.arange(SPLIT_TEST) % classes).astype(np.uint8),
    }
    directory = tmp_path / "split-set"
    monkeypatch.setattr(data, "FILES", write_tiny_set(directory, arrays))
    monkeypatch.setattr(data, "_EXPECTED_COUNTS", {"train": SPLIT_TRAIN, "t10k": SPLIT_TEST})
    return directory, arrays["train-images-idx3-ubyte.gz"], arrays["t10k-images-idx3-ubyte.gz"]


def source_rows(x: np.ndarray, originals: np.ndarray) -> np.ndarray:
    """For each model-ready image, the row of the uint8 image it was made from."""
    rows = {image.tobytes(): i for i, image in enumerate(originals)}
    assert len(rows) == len(originals), "the generated images are distinct"
    pixels = np.rint(x[..., 0] * 255).astype(np.uint8)
    return np.array([rows[image.tobytes()] for image in pixels])


def per_class(y: np.ndarray) -> list[int]:
    return np.bincount(y, minlength=len(data.CLASS_NAMES)).tolist()


def assert_model_ready(splits: data.Splits) -> None:
    for x, y in (splits.train, splits.validation, splits.test):
        assert x.dtype == np.float32 and x.shape[1:] == (28, 28, 1) and len(x) == len(y)
        assert 0.0 <= x.min() and x.max() <= 1.0
        assert np.issubdtype(y.dtype, np.integer)


def test_course_splits_hold_out_a_stratified_validation_set(split_set):
    directory, train_images, test_images = split_set
    splits = data.course_splits(seed=0, data_dir=directory)
    held_out = SPLIT_TRAIN // 10  # the default val_fraction, 0.1
    assert splits.sizes() == {
        "training": SPLIT_TRAIN - held_out,
        "validation": held_out,
        "test": SPLIT_TEST,
    }
    assert_model_ready(splits)
    classes = len(data.CLASS_NAMES)
    assert per_class(splits.y_val) == [held_out // classes] * classes
    assert per_class(splits.y_train) == [(SPLIT_TRAIN - held_out) // classes] * classes
    # training and validation partition the training images; the test set is all of t10k
    fit, val = source_rows(splits.x_train, train_images), source_rows(splits.x_val, train_images)
    assert sorted([*fit, *val]) == list(range(SPLIT_TRAIN))
    np.testing.assert_array_equal(splits.x_train, data.to_model_input(train_images[fit]))
    np.testing.assert_array_equal(splits.y_train, fit % classes)
    np.testing.assert_array_equal(splits.y_val, val % classes)
    np.testing.assert_array_equal(splits.x_test, data.to_model_input(test_images))
    np.testing.assert_array_equal(splits.y_test, np.arange(SPLIT_TEST) % classes)


def test_splits_give_each_set_as_a_pair(split_set):
    splits = data.course_splits(data_dir=split_set[0])
    for pair, (x, y) in (
        (splits.train, (splits.x_train, splits.y_train)),
        (splits.validation, (splits.x_val, splits.y_val)),
        (splits.test, (splits.x_test, splits.y_test)),
    ):
        assert isinstance(pair, tuple) and len(pair) == 2
        assert pair[0] is x and pair[1] is y
    assert splits.sizes() == {
        "training": len(splits.y_train),
        "validation": len(splits.y_val),
        "test": len(splits.y_test),
    }


def test_course_splits_sizes_keep_balanced_subsets_and_the_whole_validation_set(split_set):
    directory, train_images, test_images = split_set
    full = data.course_splits(seed=0, data_dir=directory)
    small = data.course_splits(train_size=30, test_size=20, seed=0, data_dir=directory)
    assert small.sizes() == {"training": 30, "validation": full.sizes()["validation"], "test": 20}
    classes = len(data.CLASS_NAMES)
    assert per_class(small.y_train) == [30 // classes] * classes
    assert per_class(small.y_test) == [20 // classes] * classes
    np.testing.assert_array_equal(small.x_val, full.x_val)
    np.testing.assert_array_equal(small.y_val, full.y_val)
    assert set(source_rows(small.x_train, train_images)) <= set(
        source_rows(full.x_train, train_images)
    )
    assert set(source_rows(small.x_test, test_images)) <= set(range(SPLIT_TEST))


def test_course_splits_val_size_keeps_a_balanced_part_of_the_validation_set(split_set):
    """A quick run's smaller validation set: images of the whole one, every class in equal
    part, in the whole one's order; the whole one when val_size is its size."""
    directory, train_images, _ = split_set
    full = data.course_splits(seed=0, data_dir=directory)
    held_out = full.sizes()["validation"]
    small = data.course_splits(seed=0, data_dir=directory, val_size=held_out // 2)
    assert small.sizes() == {**full.sizes(), "validation": held_out // 2}
    classes = len(data.CLASS_NAMES)
    assert per_class(small.y_val) == [held_out // 2 // classes] * classes
    rows, whole = source_rows(small.x_val, train_images), source_rows(full.x_val, train_images)
    assert set(rows) < set(whole)
    assert list(rows) == [r for r in whole if r in set(rows)], "the order of the whole set"
    np.testing.assert_array_equal(small.x_train, full.x_train)
    same = data.course_splits(seed=0, data_dir=directory, val_size=held_out)
    np.testing.assert_array_equal(same.x_val, full.x_val)
    with pytest.raises(ValueError, match=f"val_size.*{held_out + 1}"):
        data.course_splits(seed=0, data_dir=directory, val_size=held_out + 1)


def test_course_splits_are_seeded(split_set):
    directory, train_images, _ = split_set
    first = data.course_splits(train_size=50, seed=4, data_dir=directory)
    again = data.course_splits(train_size=50, seed=4, data_dir=directory)
    other = data.course_splits(train_size=50, seed=5, data_dir=directory)
    for a, b in zip(
        (*first.train, *first.validation, *first.test),
        (*again.train, *again.validation, *again.test),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    assert set(source_rows(first.x_val, train_images)) != set(
        source_rows(other.x_val, train_images)
    )


def test_course_splits_hold_out_up_to_half(split_set):
    splits = data.course_splits(val_fraction=0.5, data_dir=split_set[0])
    assert splits.sizes() == {
        "training": SPLIT_TRAIN // 2,
        "validation": SPLIT_TRAIN // 2,
        "test": SPLIT_TEST,
    }


def test_course_splits_share_one_read_only_copy_of_the_data_set(split_set):
    """A second call (a later cell, an exercise's check) holds no second copy of the images."""
    directory = split_set[0]
    first = data.course_splits(seed=0, data_dir=directory)
    again = data.course_splits(seed=0, data_dir=directory)
    small = data.course_splits(train_size=30, test_size=20, seed=0, data_dir=directory)
    for a, b in zip(
        (*first.train, *first.validation, *first.test),
        (*again.train, *again.validation, *again.test),
        strict=True,
    ):
        assert np.shares_memory(a, b)
        with pytest.raises(ValueError, match="read-only"):
            a[0] = 0
    assert np.shares_memory(small.x_val, first.x_val)
    for own in (*small.train, *small.test):  # subsets are copies the caller may change
        assert own.flags.writeable and not np.shares_memory(own, first.x_train)
        assert not np.shares_memory(own, first.x_test)


def test_course_splits_read_files_again_once_they_are_replaced(split_set):
    directory, train_images, _ = split_set
    before = data.course_splits(seed=0, data_dir=directory)
    path = directory / "train-images-idx3-ubyte.gz"
    replaced = 255 - train_images  # other pixels, the same shape
    md5 = write_gz(path, idx_bytes(replaced))
    data.FILES["train-images-idx3-ubyte.gz"] = md5  # the fixture's patched, per-test dict
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    after = data.course_splits(seed=0, data_dir=directory)
    np.testing.assert_allclose(after.x_val, 1.0 - before.x_val, atol=1e-6)


@pytest.mark.parametrize(
    "fraction", [0, 0.0, 0.51, 0.6, 1, 1.5, -0.1, float("nan"), True, "0.1", None]
)
def test_course_splits_reject_bad_validation_fractions_before_loading(fraction):
    """Checked first: no data is needed (none is available here) to hear about it."""
    text = f"val_fraction is {fraction!r}; expected a number > 0 and <= 0.5, e.g. 0.1"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        data.course_splits(val_fraction=fraction)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0", None])
def test_course_splits_reject_bad_seeds_before_loading(seed):
    with pytest.raises(
        ValueError, match=f"^{re.escape(f'seed is {seed!r}; expected a whole number >= 0')}"
    ):
        data.course_splits(seed=seed)


@pytest.mark.parametrize("size", [0, -3, SPLIT_TRAIN, 2.5, 10.0, "10", True])
def test_course_splits_reject_impossible_training_sizes(split_set, size):
    left = SPLIT_TRAIN - SPLIT_TRAIN // 10  # after holding out the validation set
    text = f"train_size is {size!r}; expected a whole number from 1 to {left}, e.g. {left:,}"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        data.course_splits(train_size=size, data_dir=split_set[0])


@pytest.mark.parametrize("size", [0, SPLIT_TEST + 1, 2.5, False])
def test_course_splits_reject_impossible_test_sizes(split_set, size):
    text = f"test_size is {size!r}; expected a whole number from 1 to {SPLIT_TEST}, e.g. {SPLIT_TEST:,}"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        data.course_splits(test_size=size, data_dir=split_set[0])


# --------------------------------------------------------------------------- the real data


@pytest.mark.skipif(not REAL_DIR, reason="FASHION_MNIST_DIR is not set (make test sets it)")
def test_real_fashion_mnist_matches_keras(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", REAL_DIR)
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    assert x_train.shape == (60_000, 28, 28) and y_train.shape == (60_000,)
    assert x_test.shape == (10_000, 28, 28) and y_test.shape == (10_000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert np.bincount(y_train, minlength=10).tolist() == [6_000] * 10
    assert np.bincount(y_test, minlength=10).tolist() == [1_000] * 10
    assert x_train.min() == 0 and x_train.max() == 255

    # Keras' own loader on the same files, found in a KERAS_HOME that only holds links.
    # Keras reads KERAS_HOME once, when it is imported: in this process, which imported it
    # long ago, its record of the folder is pointed there too (no second Python process
    # and TensorFlow import). Were Keras not to find the links, it would try to download
    # and the network guard would fail the test.
    from keras.datasets import fashion_mnist

    home = tmp_path / "keras"
    cache = home / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    for name in data.FILES:
        (cache / name).symlink_to(Path(REAL_DIR, name).resolve())
    monkeypatch.setenv("KERAS_HOME", str(home))
    keras_config = importlib.import_module("keras.src.backend.config")
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(home), raising=False)
    monkeypatch.delenv("FASHION_MNIST_DIR")
    (x_a, y_a), (x_b, y_b) = fashion_mnist.load_data()
    theirs = {"x_train": x_a, "y_train": y_a, "x_test": x_b, "y_test": y_b}
    assert sorted(p.name for p in cache.iterdir()) == sorted(data.FILES), "Keras added nothing"
    ours = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for key, array in ours.items():
        assert (theirs[key].shape, theirs[key].dtype) == (array.shape, array.dtype), key
        assert np.array_equal(theirs[key], array), (
            f"{key} differs from keras.datasets.fashion_mnist.load_data()"
        )

    # The same links are found through the third place looked in, the Keras cache.
    assert data.find_dataset_dir(download=False) == cache


# --------------------------------------------------------------------------- the real splits

needs_real_data = pytest.mark.skipif(
    not REAL_DIR, reason="FASHION_MNIST_DIR is not set (make test sets it)"
)


@pytest.fixture(scope="module")
def real_splits():
    """The course's splits of the real data, 200 training images (FASHION_MNIST_DIR)."""
    return data.course_splits(train_size=200, seed=0, data_dir=REAL_DIR)


@needs_real_data
def test_course_splits_of_the_real_data_sizes_and_format(real_splits):
    assert real_splits.sizes() == {"training": 200, "validation": 6000, "test": 10000}
    assert_model_ready(real_splits)
    assert per_class(real_splits.y_train) == [20] * 10
    assert per_class(real_splits.y_val) == [600] * 10
    x_val, y_val = real_splits.validation
    assert x_val is real_splits.x_val and y_val is real_splits.y_val


@needs_real_data
def test_course_splits_without_a_size_keep_all_54000(real_splits):
    full = data.course_splits(seed=0, data_dir=REAL_DIR)
    assert full.sizes() == {"training": 54000, "validation": 6000, "test": 10000}
    np.testing.assert_array_equal(full.y_val, real_splits.y_val)
    np.testing.assert_array_equal(full.x_val, real_splits.x_val)


@needs_real_data
def test_course_splits_of_the_real_data_with_both_sizes():
    splits = data.course_splits(train_size=500, test_size=200, seed=0, data_dir=REAL_DIR)
    assert splits.x_train.shape == (500, 28, 28, 1) and splits.x_train.dtype == np.float32
    assert splits.x_val.shape == (6000, 28, 28, 1) and splits.x_test.shape == (200, 28, 28, 1)
    assert per_class(splits.y_train) == [50] * 10
    assert per_class(splits.y_test) == [20] * 10


@needs_real_data
@pytest.mark.parametrize("size", [0, 54_001, 60_000, 2.5, True])
def test_course_splits_of_the_real_data_reject_impossible_sizes(size):
    text = f"train_size is {size!r}; expected a whole number from 1 to 54000, e.g. 54,000"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        data.course_splits(train_size=size, seed=0, data_dir=REAL_DIR)


@needs_real_data
def test_course_splits_of_the_real_data_reject_a_test_set_larger_than_10000():
    text = "test_size is 20000; expected a whole number from 1 to 10000, e.g. 10,000"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        data.course_splits(test_size=20_000, data_dir=REAL_DIR)
