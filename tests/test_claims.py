"""The checks of what each notebook's text says about its numbers.

A notebook records the values its prose rests on (``helpers.claims.record``, the
recorder); ``tools/claims/<notebook>.py`` states each claim of the prose over them, and
``course.execute`` fails a notebook whose claims do not hold (the checker,
``tools/claims/__init__.py``). These tests pin the recorder's file format on hand
examples and the checker's messages, and that the notebooks themselves keep their checks
out of the student's way (at most two ``assert`` lines, no ``check_matches``). That a
false claim planted in a real claims file fails a notebook's execution is tested in
``test_notebooks_claims.py``, after the notebooks have executed.
"""

from __future__ import annotations

import ast
import json
import math

import nbformat
import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, course
from helpers import claims as recorder

checker = course.claims  # tools/claims/: the checks of the notebooks' text

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))  # the template too
NAMES = [entry.split("/")[-1] for entry in course.toc_notebooks()]
VERDICTS = ("higher", "lower", "no clear difference")
MAX_ASSERTS = 2


def round_trip(value):
    """``value`` written to JSON and read back, as the checks see it."""
    return recorder.decode(json.loads(json.dumps(recorder.encode(value))))


# --------------------------------------------------------------------------- the recorder


def test_a_table_with_a_named_index_round_trips():
    table = pd.DataFrame(
        {
            "validation accuracy": [0.9012, 0.8875, np.nan],
            "epochs trained": [5, 3, 5],
            "stopped early": [False, True, False],
            "policy": ["float32", "float32", "mixed_bfloat16"],
        },
        index=pd.Index(["none", "shifts", "GAP head"], name="variant"),
    )
    back = round_trip(table)
    pd.testing.assert_frame_equal(back, table)
    assert back.index.name == "variant"
    assert back.loc["shifts", "epochs trained"] == 3
    assert math.isnan(back.loc["GAP head", "validation accuracy"])


def test_a_table_with_two_column_levels_round_trips():
    """As pd.concat({...}, axis=1) builds the notebooks' summary tables."""
    table = pd.concat(
        {
            "validation accuracy": pd.DataFrame({"mean": [0.91, 0.89], "lowest": [0.90, 0.88]}),
            "gap": pd.DataFrame({"mean": [0.05, 0.01]}),
        },
        axis=1,
    ).set_axis(pd.Index(["no dropout", "conv 0.5"], name="variant"))
    back = round_trip(table)
    pd.testing.assert_frame_equal(back, table)
    assert back.loc["conv 0.5", ("gap", "mean")] == 0.01


def test_a_series_with_a_multiindex_round_trips():
    series = pd.Series(
        [0.91, 0.905, 0.88],
        index=pd.MultiIndex.from_tuples(
            [("none", 0), ("none", 1), ("shifts", 0)], names=["variant", "seed"]
        ),
        name="val_accuracy",
    )
    back = round_trip(series)
    pd.testing.assert_series_equal(back, series)
    assert back.loc[("none", 1)] == 0.905
    assert back.index.names == ["variant", "seed"]


def test_a_series_with_a_named_index_round_trips():
    series = pd.Series([3, 5], index=pd.Index(["max", "none"], name="pooling"), name="epochs")
    pd.testing.assert_series_equal(round_trip(series), series)


def test_a_pivot_table_keeps_the_name_of_its_columns():
    runs = pd.DataFrame(
        {"seed": [0, 0, 1, 1], "variant": ["a", "b", "a", "b"], "gap": [0.1, 0.2, 0.3, 0.4]}
    )
    table = runs.pivot(index="seed", columns="variant", values="gap")
    pd.testing.assert_frame_equal(round_trip(table), table)


@pytest.mark.parametrize(
    "value, expected, kind",
    [
        (np.float32(0.5), 0.5, float),
        (np.float64(0.9123), 0.9123, float),
        (np.int64(1688), 1688, int),
        (np.int32(-3), -3, int),
        (np.bool_(True), True, bool),
        (True, True, bool),
        (7, 7, int),
        ("conv+dense 0.2", "conv+dense 0.2", str),
        (None, None, type(None)),
    ],
    ids=lambda v: type(v).__name__,
)
def test_numbers_and_numpy_scalars_come_back_as_python_values(value, expected, kind):
    back = round_trip(value)
    assert back == expected and type(back) is kind


@pytest.mark.parametrize("value", [float("nan"), np.float32("nan"), float("inf"), -np.inf])
def test_nan_and_infinities_survive_strict_json(value):
    written = json.dumps(recorder.encode(value), allow_nan=False)  # no bare NaN in the file
    back = recorder.decode(json.loads(written))
    assert type(back) is float
    assert (math.isnan(back) and math.isnan(value)) or back == value


def test_containers_keep_their_kind():
    value = {"lost": (0.03, 0.41), 4: [np.float32(1.5), np.nan], "seeds": [0, 1, 2]}
    back = round_trip(value)
    assert back["lost"] == (0.03, 0.41) and isinstance(back["lost"], tuple)
    assert 4 in back, "a dict's number keys stay numbers"
    assert back[4][0] == 1.5 and math.isnan(back[4][1])
    assert back["seeds"] == [0, 1, 2]


def test_an_array_keeps_its_shape_dtype_and_nan():
    array = np.array([[1.5, np.nan], [0.0, -2.0]], dtype=np.float32)
    back = round_trip(array)
    assert back.dtype == np.float32 and back.shape == (2, 2)
    np.testing.assert_array_equal(back, array)


def test_what_cannot_be_written_is_refused_where_it_is_recorded(monkeypatch):
    monkeypatch.setattr(recorder, "_values", {})
    monkeypatch.delenv(recorder.RECORD_ENV, raising=False)
    with pytest.raises(TypeError, match="cannot record a value of type object"):
        recorder.record(model=object())
    assert recorder.recorded() == {}, "nothing of the refused call is kept"


def test_record_writes_the_file_named_by_the_environment(monkeypatch, tmp_path):
    path = tmp_path / "05_pooling.record.json"
    monkeypatch.setattr(recorder, "_values", {})
    monkeypatch.setenv(recorder.RECORD_ENV, str(path))
    assert recorder.RECORD_ENV == "COURSE_RECORD" == course.RECORD_ENV

    recorder.record(same_settings=False, accuracy=np.float32(0.875))
    assert recorder.load(path) == {"same_settings": False, "accuracy": 0.875}

    table = pd.DataFrame({"validation accuracy": [0.9]}, index=pd.Index(["max"], name="variant"))
    recorder.record(table=table, accuracy=0.9)  # a later call adds and replaces
    values = recorder.load(path)
    assert sorted(values) == ["accuracy", "same_settings", "table"]
    assert values["accuracy"] == 0.9
    pd.testing.assert_frame_equal(values["table"], table)
    json.loads(path.read_text())  # plain JSON, readable without the course


def test_record_without_the_environment_writes_nothing(monkeypatch, tmp_path):
    """In JupyterLab or on Colab the values stay in the kernel."""
    monkeypatch.setattr(recorder, "_values", {})
    monkeypatch.delenv(recorder.RECORD_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    recorder.record(chosen="none")
    assert recorder.recorded() == {"chosen": "none"}
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- the checker


def test_a_claim_that_holds_says_nothing():
    c = checker.Checker("05_pooling", "fast", {})
    assert c.claim("max pooling keeps the strongest response", True) is True
    assert c.claim("numpy truths count too", np.bool_(True)) is True
    assert c.failures == [] and c.checked == 2


def test_a_failing_claim_names_the_notebook_the_text_and_the_numbers():
    c = checker.Checker("06_dropout", "full", {})
    assert not c.claim(
        "dropout lowers the gap between training and validation accuracy",
        0.0812 < 0.0534,
        with_dropout=np.float32(0.0812),
        without=0.0534,
        variants=["no dropout", "conv 0.5"],
    )
    assert c.failures == [
        "06_dropout: the text says that dropout lowers the gap between training and "
        "validation accuracy, but it does not hold (with_dropout = 0.0812, without = 0.0534, "
        "variants = ['no dropout', 'conv 0.5'])"
    ]
    assert c.checked == 1


def test_a_failing_claim_shows_tables_as_their_values():
    c = checker.Checker("07_batch_normalization", "fast", {})
    c.claim(
        "BN fits the training set faster",
        False,
        per_variant=pd.Series({"baseline": 0.81234, "BN": 0.7999}),
    )
    assert "per_variant = {baseline: 0.8123, BN: 0.7999}" in c.failures[0]


def test_the_profile_decides_what_full_claims_run():
    assert checker.Checker("03_training", "full", {}).full
    assert not checker.Checker("03_training", "fast", {}).full
    with pytest.raises(ValueError, match="profile is 'quick'"):
        checker.Checker("03_training", "quick", {})


def _claims_file(tmp_path, monkeypatch, source: str):
    path = tmp_path / "claims_of_the_text.py"
    path.write_text(source)
    monkeypatch.setattr(checker, "claims_file", lambda notebook: path)
    return path


def test_a_missing_value_fails_naming_what_was_recorded(tmp_path, monkeypatch):
    _claims_file(
        tmp_path,
        monkeypatch,
        '"""Claims."""\n\n\ndef check(c):\n'
        '    c.claim("the first claim holds", c["shift_table"] is not None)\n'
        '    c.claim("the table is read", c["table"] is not None)\n',
    )
    failures, checked = checker.check("08_augmentation", "fast", {"table": 1, "chosen": "none"})
    assert failures == [
        "08_augmentation: the notebook recorded no value 'shift_table'; it recorded "
        "['chosen', 'table'] (helpers.claims.record)"
    ]
    assert checked == 0


def test_a_notebook_that_recorded_nothing_says_so(tmp_path, monkeypatch):
    _claims_file(tmp_path, monkeypatch, 'def check(c):\n    c["table"]\n')
    failures, _ = checker.check("02_cnn_components", "fast", {})
    assert failures == [
        "02_cnn_components: the notebook recorded no value 'table'; it recorded nothing "
        "(helpers.claims.record)"
    ]


def test_full_claims_run_only_in_the_full_profile(tmp_path, monkeypatch):
    _claims_file(
        tmp_path,
        monkeypatch,
        "def check(c):\n"
        '    c.claim("always", c["a"] == 1)\n'
        "    if c.full:\n"
        '        c.claim("this run used the book\'s settings", c["same_settings"])\n',
    )
    values = {"a": 1, "same_settings": False}
    assert checker.check("06_dropout", "fast", values) == ([], 1)
    failures, checked = checker.check("06_dropout", "full", values)
    assert checked == 2
    assert failures == [
        "06_dropout: the text says that this run used the book's settings, but it does not hold"
    ]


def test_a_notebook_without_a_claims_file_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(checker, "claims_file", lambda notebook: tmp_path / f"{notebook}.py")
    failures, checked = checker.check("11_new_notebook", "fast", {})
    assert checked == 0
    assert len(failures) == 1 and failures[0].startswith("11_new_notebook: no checks of its text (")


# --------------------------------------------------------------------------- the claims files


def test_every_notebook_of_the_book_has_a_claims_file():
    missing = [name for name in NAMES if not checker.claims_file(name).is_file()]
    assert not missing, f"no tools/claims/<name>.py for {missing}"
    stray = sorted(
        p.stem for p in checker.HERE.glob("*.py") if p.stem != "__init__" and p.stem not in NAMES
    )
    assert not stray, f"claims files of no notebook in _toc.yml: {stray}"


@pytest.mark.parametrize("name", NAMES)
def test_a_claims_file_has_a_docstring_and_one_check(name):
    path = checker.claims_file(name)
    if not path.is_file():
        pytest.skip(f"{path.name} is missing (test_every_notebook_of_the_book_has_a_claims_file)")
    tree = ast.parse(path.read_text())
    assert ast.get_docstring(tree), f"{path.name} has no docstring"
    checks = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
    assert len(checks) == 1 and [a.arg for a in checks[0].args.args] == ["c"], (
        f"{path.name} defines no check(c)"
    )


# --------------------------------------------------------------------------- the notebooks


def _code_lines(nb):
    """(cell index, line) of every code line a student sees in the notebook. Cells the
    book hides (remove-cell) count too: Jupyter and Colab show them."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for line in cell.source.splitlines():
                yield index, line


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_at_most_two_assert_lines_per_notebook(path):
    """The proof of the prose lives in tools/claims/; an assert that stays teaches."""
    nb = nbformat.read(path, as_version=4)
    found = [
        f"cell {i}: {line.strip()[:80]}"
        for i, line in _code_lines(nb)
        if line.lstrip().startswith(("assert ", "assert("))
    ]
    assert len(found) <= MAX_ASSERTS, (
        f"{path.name} has {len(found)} assert lines (at most {MAX_ASSERTS}); record the values "
        "(claims.record) and state the claims in tools/claims/:\n  " + "\n  ".join(found)
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_cell_calls_check_matches(path):
    """A notebook asks sweep.matches(...), which says in one line when this run is not the
    book's; check_matches would raise on a student's changed parameters."""
    nb = nbformat.read(path, as_version=4)
    found = [f"cell {i}: {line.strip()}" for i, line in _code_lines(nb) if "check_matches" in line]
    assert not found, f"{path.name} calls check_matches:\n  " + "\n  ".join(found)


def _python(source: str) -> str:
    """A cell's source without IPython's magics and shell lines."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def _mentions_profile(node) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "PROFILE" for n in ast.walk(node))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_values_are_recorded_whatever_the_profile(path):
    """claims.record(...) never sits under `if PROFILE ...`: the checks read the same
    names in every profile."""
    nb = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(_python(cell.source))
        except SyntaxError:
            continue
        for branch in ast.walk(tree):
            if isinstance(branch, ast.If) and _mentions_profile(branch.test):
                for node in ast.walk(branch):
                    if (
                        isinstance(node, ast.Call)
                        and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "record"
                        and isinstance(node.func.value, ast.Name)
                        and node.func.value.id == "claims"
                    ):
                        found.append(f"cell {index}, line {node.lineno}")
    assert not found, f"{path.name} records values under `if PROFILE`: {found}"
