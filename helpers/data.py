"""Fashion-MNIST: finding, verifying, loading and preparing the data.

Introduced in notebook 01 (data preparation) and used by every later notebook.

The loader looks for the four canonical ``.gz`` files in, in order:

1. the directory passed as ``data_dir``;
2. ``$FASHION_MNIST_DIR``;
3. the Keras cache, ``$KERAS_HOME/datasets/fashion-mnist`` (default
   ``~/.keras/datasets/fashion-mnist``).

If none holds them, it downloads them over HTTPS from the dataset's mirrors into
the Keras cache. Every file is checked against its published md5 before use.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from helpers import checks

__all__ = [
    "CLASS_NAMES",
    "Splits",
    "course_splits",
    "FILES",
    "MIRRORS",
    "ChecksumError",
    "DatasetNotFoundError",
    "IDXFormatError",
    "download_file",
    "find_dataset_dir",
    "keras_cache_dir",
    "load_fashion_mnist",
    "make_dataset",
    "md5sum",
    "read_idx",
    "stratified_split",
    "subset",
    "to_model_input",
]

#: The ten classes, in label order (label 0 is "T-shirt/top", label 9 "Ankle boot").
CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: The four canonical files and their published md5 checksums.
FILES: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}

#: HTTPS mirrors that serve the canonical files, tried in order.
MIRRORS: tuple[str, ...] = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)

_IMAGES_MAGIC = 2051  # IDX: unsigned bytes, 3 dimensions
_LABELS_MAGIC = 2049  # IDX: unsigned bytes, 1 dimension
_EXPECTED_COUNTS = {"train": 60_000, "t10k": 10_000}
_HINT = (
    "Point the course at a verified copy with the FASHION_MNIST_DIR environment "
    "variable (or load_fashion_mnist(data_dir=...)), or delete the file so that it "
    "is downloaded again."
)


class DatasetNotFoundError(FileNotFoundError):
    """The files are neither on disk nor downloadable (introduced in notebook 01)."""


class ChecksumError(ValueError):
    """A file's md5 differs from the published one (introduced in notebook 01)."""


class IDXFormatError(ValueError):
    """A file is not a valid IDX file of the expected kind (introduced in notebook 01)."""


def keras_cache_dir() -> Path:
    """Return the directory Keras caches Fashion-MNIST in (introduced in notebook 01)."""
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(base) / "datasets" / "fashion-mnist"


def md5sum(path: str | os.PathLike) -> str:
    """Return the hex md5 of a file, read in chunks (introduced in notebook 01)."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path) -> None:
    expected = FILES[path.name]
    actual = md5sum(path)
    if actual != expected:
        raise ChecksumError(
            f"{path} failed its checksum: expected md5 {expected}, got {actual}. "
            f"The file is corrupted, truncated or not the canonical Fashion-MNIST file. " + _HINT
        )


def _candidate_dirs(data_dir: str | os.PathLike | None) -> list[tuple[str, Path]]:
    candidates = []
    if data_dir is not None:
        candidates.append(("data_dir argument", Path(data_dir)))
    env = os.environ.get("FASHION_MNIST_DIR")
    if env:
        candidates.append(("$FASHION_MNIST_DIR", Path(env)))
    candidates.append(("Keras cache", keras_cache_dir()))
    return candidates


def download_file(
    name: str,
    target_dir: str | os.PathLike,
    mirrors: tuple[str, ...] | None = None,
    timeout: float = 30.0,
    progress: bool = True,
) -> Path:
    """Download one canonical file into ``target_dir`` and verify it (introduced in notebook 01).

    ``mirrors`` defaults to :data:`MIRRORS` (read when called); only HTTPS mirrors are
    used (plain HTTP only to this machine, 127.0.0.1 or localhost, for the tests).
    The bytes go to a temporary file in the same directory, which is renamed to its
    final name only once its md5 matches. An interrupted or corrupted download
    therefore never leaves a file that would later pass as valid.
    """
    if mirrors is None:
        mirrors = MIRRORS
    if name not in FILES:
        raise ValueError(
            f"name={name!r} is not a Fashion-MNIST file; expected one of {list(FILES)}"
        )
    target_dir = Path(target_dir)
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=target_dir, prefix=".write-test-")
        probe.close()
    except OSError as err:
        raise PermissionError(
            f"Cannot write the download into {target_dir} ({err.strerror or err}). "
            "Make the directory writable, set KERAS_HOME to a writable directory, or "
            "point FASHION_MNIST_DIR at a directory that already holds the four files."
        ) from err
    errors = []
    for mirror in mirrors:
        if not _allowed_mirror(mirror):
            errors.append(f"{mirror}: refused, only HTTPS mirrors are used")
            continue
        url = mirror + name
        fd, tmp_name = tempfile.mkstemp(dir=target_dir, prefix=f".{name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                total = int(resp.headers.get("Content-Length") or 0)
                done = 0
                while chunk := resp.read(1 << 16):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        _progress(name, done, total)
                if total and done != total:
                    raise OSError(f"connection closed after {done} of {total} bytes")
            if progress:
                sys.stderr.write("\n")
            actual = md5sum(tmp)
            if actual != FILES[name]:
                raise ChecksumError(f"downloaded bytes have md5 {actual}, expected {FILES[name]}")
            final = target_dir / name
            os.replace(tmp, final)
            return final
        except (OSError, urllib.error.URLError, http.client.HTTPException, ChecksumError) as err:
            errors.append(f"{url}: {type(err).__name__}: {err}")
        finally:
            tmp.unlink(missing_ok=True)
    raise DatasetNotFoundError(
        f"Could not download {name} from any mirror:\n  " + "\n  ".join(errors)
    )


def _allowed_mirror(mirror: str) -> bool:
    """HTTPS, or plain HTTP to this machine only (the tests' local server)."""
    try:
        parts = urllib.parse.urlsplit(mirror)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme == "https" and host:
        return True
    return parts.scheme == "http" and host in ("127.0.0.1", "localhost")


def _progress(name: str, done: int, total: int) -> None:
    if total:
        filled = int(30 * done / total)
        bar = "#" * filled + "." * (30 - filled)
        sys.stderr.write(f"\r{name}: [{bar}] {done / 1e6:5.1f}/{total / 1e6:.1f} MB")
    else:
        sys.stderr.write(f"\r{name}: {done / 1e6:5.1f} MB")
    sys.stderr.flush()


def find_dataset_dir(data_dir: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Return a directory holding the four verified files (introduced in notebook 01).

    Looks in ``data_dir``, ``$FASHION_MNIST_DIR`` and the Keras cache, in that order;
    the first directory that holds all four files is verified and returned. A
    directory named explicitly (argument or environment variable) that does not exist
    or lacks files is an error rather than being silently skipped. If no directory
    holds them and ``download`` is true, the files are downloaded into the Keras cache.
    """
    looked = []
    for label, directory in _candidate_dirs(data_dir):
        present = [name for name in FILES if (directory / name).is_file()]
        if len(present) == len(FILES):
            for name in FILES:
                _verify(directory / name)
            return directory
        looked.append(f"{label}: {directory} ({len(present)} of {len(FILES)} files)")
        if label != "Keras cache" and not directory.is_dir():
            raise DatasetNotFoundError(
                f"The {label} points at {directory}, which does not exist or is not a "
                f"directory. Expected a directory holding the four files {list(FILES)}. "
                "Correct the path, or unset it to use the Keras cache."
            )
        if label != "Keras cache":
            missing = [name for name in FILES if name not in present]
            raise DatasetNotFoundError(
                f"The {label} points at {directory}, which lacks {missing}. "
                f"Expected the four files {list(FILES)} there. Copy them in, or unset it "
                "to use the Keras cache."
            )
    if not download:
        raise DatasetNotFoundError(_not_found_message(looked, "downloading was disabled"))
    cache = keras_cache_dir()
    try:
        for name in FILES:
            path = cache / name
            if path.is_file():
                try:
                    _verify(path)
                    continue
                except ChecksumError:
                    path.unlink()
            download_file(name, cache)
    except DatasetNotFoundError as err:
        raise DatasetNotFoundError(_not_found_message(looked, str(err))) from None
    return cache


def _not_found_message(looked: list[str], why: str) -> str:
    return (
        "Fashion-MNIST was not found. Looked in:\n  "
        + "\n  ".join(looked)
        + f"\nand could not download it: {why}\n"
        "Download the four .gz files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) on a machine with internet "
        "access, copy them to a directory and set FASHION_MNIST_DIR=/that/directory."
    )


def read_idx(path: str | os.PathLike, expected_count: int | None = None) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes into a uint8 array (introduced in notebook 01).

    Checks the magic number (2051 for images, 2049 for labels), that the data is as
    long as the header says, and, if given, the number of examples.
    """
    path = Path(path)
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as err:
        raise IDXFormatError(f"{path} is not a readable gzip file ({err}). {_HINT}") from err
    if len(raw) < 8:
        raise IDXFormatError(f"{path} is too short for an IDX header ({len(raw)} bytes). {_HINT}")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (_IMAGES_MAGIC, _LABELS_MAGIC):
        raise IDXFormatError(
            f"{path} has magic number {magic}; expected {_IMAGES_MAGIC} (images) or "
            f"{_LABELS_MAGIC} (labels). {_HINT}"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(
            f"{path} is too short for its {ndim}-dimensional IDX header ({len(raw)} of "
            f"{header} bytes). The file is truncated or corrupted. {_HINT}"
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected_len = header + int(np.prod(shape))
    if len(raw) != expected_len:
        raise IDXFormatError(
            f"{path} holds {len(raw) - header} bytes of data; its header {shape} "
            f"announces {expected_len - header}. The file is truncated or corrupted. {_HINT}"
        )
    if expected_count is not None and shape[0] != expected_count:
        raise IDXFormatError(
            f"{path} holds {shape[0]} examples; expected {expected_count}. {_HINT}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_fashion_mnist(
    data_dir: str | os.PathLike | None = None, download: bool = True
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)`` (introduced in notebook 01).

    Images are uint8 arrays of shape (N, 28, 28), labels uint8 arrays of shape (N,);
    N is 60,000 for training and 10,000 for test, exactly as
    ``keras.datasets.fashion_mnist.load_data()`` returns them.
    """
    return _read_dataset(find_dataset_dir(data_dir, download=download))


def _read_dataset(directory: Path):
    """:func:`load_fashion_mnist`'s arrays, from a directory :func:`find_dataset_dir` verified."""
    parts = []
    for split in ("train", "t10k"):
        count = _EXPECTED_COUNTS[split]
        images = read_idx(directory / f"{split}-images-idx3-ubyte.gz", count)
        labels = read_idx(directory / f"{split}-labels-idx1-ubyte.gz", count)
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise IDXFormatError(f"{split} images have shape {images.shape}; expected (N, 28, 28)")
        if labels.ndim != 1:
            raise IDXFormatError(f"{split} labels have shape {labels.shape}; expected (N,)")
        parts.append((images.copy(), labels.copy()))
    return parts[0], parts[1]


# --------------------------------------------------------------------------- preprocessing


def to_model_input(images: np.ndarray) -> np.ndarray:
    """Scale uint8 images to float32 in [0, 1] and add a channel axis (introduced in notebook 01).

    Accepts shape (N, 28, 28) or (N, 28, 28, 1), dtype uint8; returns (N, 28, 28, 1).
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(
            f"images has dtype {images.dtype}; expected uint8 pixels 0-255 as loaded by "
            "load_fashion_mnist(). If they are already scaled to [0, 1], use them as they are."
        )
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1) or len(images) == 0:
        raise ValueError(
            f"images has shape {images.shape}; expected a non-empty (N, 28, 28) or (N, 28, 28, 1)"
        )
    return images.astype(np.float32) / 255.0


def stratified_split(
    x: np.ndarray, y: np.ndarray, fraction: float = 0.1, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split ``(x, y)`` into two parts keeping the class balance (introduced in notebook 01).

    Returns ``(x_rest, y_rest), (x_part, y_part)`` where the second part holds
    ``fraction`` of every class, chosen with ``seed``. Used for the validation split.
    """
    x = np.asarray(x)
    y = checks.labels(y, len(x))
    checks.number("fraction", fraction, above=0, below=1, example=0.1)
    rng = np.random.default_rng(seed)
    part = []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        take = int(round(fraction * len(idx)))
        part.append(rng.choice(idx, size=take, replace=False))
    part_idx = np.sort(np.concatenate(part))
    mask = np.zeros(len(y), dtype=bool)
    mask[part_idx] = True
    if mask.all() or not mask.any():
        raise ValueError(
            f"fraction={fraction} of {len(y)} examples leaves one side empty; "
            "use more data or a fraction closer to 0.5"
        )
    return (x[~mask], y[~mask]), (x[mask], y[mask])


def subset(x: np.ndarray, y: np.ndarray, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return a class-balanced random subset of exactly ``size`` examples (introduced in notebook 03).

    Every class contributes in proportion to its share of ``y``, rounded so that the
    total is exactly ``size`` (the leftover examples go to the classes with the largest
    remainders); the examples are chosen with ``seed`` and keep their original order.
    """
    x = np.asarray(x)
    y = checks.labels(y, len(x))
    size = checks.whole("size", size, 1, len(y))
    if size == len(y):
        return x, y
    labels, counts = np.unique(y, return_counts=True)
    quotas = counts * int(size) // len(y)
    short = int(size) - int(quotas.sum())
    if short:
        remainders = counts * int(size) % len(y)
        quotas[np.argsort(-remainders, kind="stable")[:short]] += 1
    rng = np.random.default_rng(seed)
    part = [
        rng.choice(np.flatnonzero(y == label), size=int(quota), replace=False)
        for label, quota in zip(labels, quotas, strict=True)
    ]
    idx = np.sort(np.concatenate(part))
    return x[idx], y[idx]


def make_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int = 128,
    shuffle: bool = False,
    seed: int = 0,
    cache: bool = True,
    prefetch: bool = True,
):
    """Build a ``tf.data`` pipeline: cache, shuffle, batch, prefetch (introduced in notebook 01).

    ``x`` must already be model input (float32, (N, 28, 28, 1), [0, 1]). Shuffling
    happens every epoch with a seeded order, after the cache, so each epoch sees a
    new order while the decoded arrays are kept in memory. ``cache`` and
    ``prefetch`` can be switched off to measure what they buy (``make bench``).
    """
    import tensorflow as tf

    x = checks.images(x, "x")
    y = checks.labels(y, len(x))
    batch_size = checks.whole("batch_size", batch_size, 1, example=128)
    ds = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int32)))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds


# --------------------------------------------------------------------------- the course's splits


@dataclass
class Splits:
    """The course's three data sets, ready for a model (introduced in notebook 03).

    Images are float32 in [0, 1] with shape ``(N, 28, 28, 1)``; labels are ints 0-9.
    ``train``, ``validation`` and ``test`` give each set as an ``(x, y)`` pair.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def train(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x_train, y_train)``."""
        return self.x_train, self.y_train

    @property
    def validation(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x_val, y_val)``, as ``fit(validation_data=...)`` takes it."""
        return self.x_val, self.y_val

    @property
    def test(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x_test, y_test)``."""
        return self.x_test, self.y_test

    def sizes(self) -> dict[str, int]:
        """The number of images in each set."""
        return {
            "training": len(self.y_train),
            "validation": len(self.y_val),
            "test": len(self.y_test),
        }


def course_splits(
    train_size: int | None = None,
    test_size: int | None = None,
    seed: int = 0,
    val_fraction: float = 0.1,
    data_dir: str | os.PathLike | None = None,
    val_size: int | None = None,
) -> Splits:
    """Load Fashion-MNIST and split it as notebook 01 taught (introduced in notebook 03).

    1. scale the images to float32 in [0, 1] with a channel axis (:func:`to_model_input`);
    2. hold out ``val_fraction`` of every class of the 60,000 training images as the
       validation set (:func:`stratified_split`, chosen with ``seed``);
    3. keep ``train_size`` of the remaining images for training, class-balanced
       (:func:`subset`; ``None``: all of them, 54,000 with the default fraction);
    4. keep ``test_size`` of the 10,000 test images, class-balanced (``None``: all);
    5. keep ``val_size`` of the validation images, class-balanced, in their order
       (``None``: all of them, 6,000 with the default fraction).

    The book uses the whole validation split in every notebook, so that every model of
    the course is judged on the same images; a smaller ``val_size`` is for quick runs,
    where judging every epoch on 6,000 images would take longer than the training.
    The one split function of the course.

    Steps 1 and 2 are done once per process for each ``seed`` and ``val_fraction``
    (and set of files): later calls share those arrays instead of holding another
    copy of the data set (220 MB), which keeps a notebook's memory down when it, or an
    exercise's check, asks for the splits again. Shared arrays are read-only; the
    subsets of steps 3 and 4 are the caller's own copies.
    """
    seed = checks.whole("seed", seed, 0, example=0)
    checks.number("val_fraction", val_fraction, above=0, high=0.5, example=0.1)
    directory = find_dataset_dir(data_dir)
    (x_fit, y_fit), (x_val, y_val), (x_test, y_test) = _shared_splits(
        str(directory), _files_stamp(directory), seed, float(val_fraction)
    )
    if train_size is not None:
        checks.whole("train_size", train_size, 1, len(y_fit), example=f"{len(y_fit):,}")
        x_fit, y_fit = subset(x_fit, y_fit, int(train_size), seed=seed)
    if test_size is not None:
        checks.whole("test_size", test_size, 1, len(y_test), example=f"{len(y_test):,}")
        x_test, y_test = subset(x_test, y_test, int(test_size), seed=seed)
    if val_size is not None:
        checks.whole("val_size", val_size, 1, len(y_val), example=f"{len(y_val):,}")
        x_val, y_val = subset(x_val, y_val, int(val_size), seed=seed)
    return Splits(x_fit, y_fit, x_val, y_val, x_test, y_test)


def _files_stamp(directory: Path) -> tuple:
    """Size and modification time of the data files, so that replaced files are read again."""
    stats = {name: (directory / name).stat() for name in FILES}
    return tuple((name, info.st_size, info.st_mtime_ns) for name, info in stats.items())


@lru_cache(maxsize=2)
def _shared_splits(directory: str, stamp: tuple, seed: int, val_fraction: float):
    """Steps 1 and 2 of :func:`course_splits`, and the test images, as read-only arrays.

    ``directory`` was verified by :func:`course_splits` (:func:`find_dataset_dir`).
    """
    (x_all, y_all), (x_test, y_test) = _read_dataset(Path(directory))
    (x_fit, y_fit), (x_val, y_val) = stratified_split(
        to_model_input(x_all), y_all, fraction=val_fraction, seed=seed
    )
    parts = ((x_fit, y_fit), (x_val, y_val), (to_model_input(x_test), y_test))
    for array in (a for part in parts for a in part):
        array.flags.writeable = False
    return parts
