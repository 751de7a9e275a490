"""The numbers a notebook's text rests on, kept under names (used from notebook 01 on).

A notebook's prose says things about its numbers: that one variant is lower than
another, that a model stays above 90%, that two ways of computing something agree.
The notebook keeps the values those statements rest on with :func:`record`::

    claims.record(table=result.table, chosen=chosen)

In JupyterLab or on Colab that only keeps them in this kernel (:func:`recorded` shows
them). When the course executes its notebooks (the book, the tests), the environment
variable :data:`RECORD_ENV` names a file next to the executed notebook, and every call
writes the values recorded so far into it, as JSON. The course's checks of the prose
(``tools/claims/``) read that file: a statement that no longer holds fails the book's
build and names the statement and the numbers, so that no check has to sit in the
notebook's own cells.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RECORD_ENV", "decode", "encode", "load", "record", "recorded"]

#: The environment variable that names the file the recorded values are written to.
RECORD_ENV = "COURSE_RECORD"

_values: dict[str, Any] = {}


def _encode_index(index: pd.Index) -> dict:
    return {"labels": [encode(i) for i in index], "names": [encode(n) for n in index.names]}


def _decode_index(obj: dict) -> pd.Index:
    labels, names = [decode(i) for i in obj["labels"]], [decode(n) for n in obj["names"]]
    if len(names) > 1:
        return pd.MultiIndex.from_tuples(labels, names=names)
    return pd.Index(labels, name=names[0])


def encode(value: Any) -> Any:
    """``value`` as JSON: numbers, strings, lists, dicts, NumPy arrays and scalars,
    and pandas Series and DataFrames (kept with their index, columns and their names)."""
    if isinstance(value, pd.DataFrame):
        return {
            "__frame__": {
                "index": _encode_index(value.index),
                "columns": _encode_index(value.columns),
                "data": [[encode(v) for v in row] for row in value.itertuples(index=False)],
            }
        }
    if isinstance(value, pd.Series):
        return {
            "__series__": {
                "index": _encode_index(value.index),
                "name": encode(value.name),
                "data": [encode(v) for v in value],
            }
        }
    if isinstance(value, np.ndarray):
        return {"__array__": encode(value.tolist()), "dtype": str(value.dtype)}
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else {"__float__": str(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, (list, set, frozenset)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[encode(k), encode(v)] for k, v in value.items()]}
    if value is None or isinstance(value, str):
        return value
    raise TypeError(
        f"cannot record a value of type {type(value).__name__}; record numbers, strings, "
        "lists, dicts, NumPy arrays or pandas tables"
    )


def decode(obj: Any) -> Any:
    """The value :func:`encode` turned into ``obj``."""
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__frame__" in obj:
        f = obj["__frame__"]
        rows = [[decode(v) for v in row] for row in f["data"]]
        columns = _decode_index(f["columns"])
        return pd.DataFrame(rows, index=_decode_index(f["index"]), columns=columns)
    if "__series__" in obj:
        s = obj["__series__"]
        data = [decode(v) for v in s["data"]]
        return pd.Series(data, index=_decode_index(s["index"]), name=decode(s["name"]))
    if "__array__" in obj:
        return np.array(decode(obj["__array__"]), dtype=obj["dtype"])
    if "__float__" in obj:
        return float(obj["__float__"])
    if "__tuple__" in obj:
        return tuple(decode(v) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {decode(k): decode(v) for k, v in obj["__dict__"]}
    return {k: decode(v) for k, v in obj.items()}


def record(**values: Any) -> None:
    """Keep ``values`` under their names (introduced in notebook 01); where
    :data:`RECORD_ENV` is set, write all values recorded so far into the file it names."""
    for name, value in values.items():
        encode(value)  # refuse what cannot be written, at the line that records it
        _values[name] = value
    path = os.environ.get(RECORD_ENV)
    if path:
        text = json.dumps({k: encode(v) for k, v in _values.items()}, indent=1)
        Path(path).write_text(text)


def recorded() -> dict[str, Any]:
    """Every value recorded in this kernel so far, by name."""
    return dict(_values)


def load(path: str | Path) -> dict[str, Any]:
    """The values an executed notebook recorded into ``path``."""
    return {k: decode(v) for k, v in json.loads(Path(path).read_text()).items()}
