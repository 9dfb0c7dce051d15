import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.service.jsonrows import JsonRows

finite = st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)


def decode(rows: JsonRows) -> list:
    return orjson.loads(b"[" + rows.encode() + b"]")


@settings(max_examples=300, deadline=None)
@given(values=st.lists(finite, min_size=1, max_size=30), decimals=st.integers(0, 6))
def test_numbers_equal_python_rounding(values, decimals):
    rows = JsonRows(len(values))
    rows.lit('{"x":')
    rows.num(np.array(values), decimals)
    rows.lit("}")
    got = [r["x"] for r in decode(rows)]
    expected = np.round(np.array(values), decimals)
    assert got == pytest.approx(expected.tolist(), rel=0, abs=0)


@settings(max_examples=100, deadline=None)
@given(texts=st.lists(st.text(), min_size=1, max_size=20))
def test_text_round_trips_any_unicode(texts):
    rows = JsonRows(len(texts))
    rows.lit('{"t":')
    rows.text(texts)
    rows.lit("}")
    assert [r["t"] for r in decode(rows)] == texts


def test_pick_present_mask_exact_and_huge_values():
    rows = JsonRows(3)
    rows.lit('{"flag":')
    rows.pick([b"false", b"true"], np.array([1, 0, 1]))
    rows.pick([b',"a":', b""], np.array([0, 1, 0]))  # an absent slot blanks its key, comma included
    rows.num(np.array([1.5, 2.5, 3.5]), 1, present=np.array([True, False, True]))
    rows.lit(',"exact":')
    rows.exact(np.array([1 / 3, 15.0, 1e-7]))
    rows.lit(',"big":')
    rows.num(np.array([1e15, -2e13, 3.0]), 2)
    rows.lit("}")
    got = decode(rows)
    assert [g["flag"] for g in got] == [True, False, True]
    assert got[0]["a"] == 1.5 and "a" not in got[1] and got[2]["a"] == 3.5
    assert [g["exact"] for g in got] == [1 / 3, 15.0, 1e-7]
    assert [g["big"] for g in got] == [1e15, -2e13, 3.0]


def test_no_rows_encode_to_nothing():
    rows = JsonRows(0)
    rows.lit("{}")
    assert rows.encode() == b""
