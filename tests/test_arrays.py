"""numpy <-> Arrow helpers: the same values as pyarrow's own conversions."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from rebalance import arrays


@given(
    values=st.lists(st.integers(-(2**40), 2**40), max_size=40),
    nulls=st.lists(st.booleans(), max_size=40),
    dtype=st.sampled_from(["int64", "int32", "float64", "uint8", "bool"]),
)
def test_to_arrow_matches_pa_array(values: list[int], nulls: list[bool], dtype: str) -> None:
    data = np.array(values).astype(dtype)
    null = np.array((nulls + [False] * len(values))[: len(values)], dtype=bool)
    got = arrays.to_arrow(data, null=null)
    assert got.equals(pa.array(data, mask=null))


@given(
    values=st.lists(st.one_of(st.none(), st.integers(-5, 5)), max_size=50),
    offset=st.integers(0, 10),
)
def test_integers_valid_and_booleans_read_any_slice(values: list[int | None], offset: int) -> None:
    array = pa.array(values, pa.int32()).slice(offset)
    expected = [-1 if v is None else v for v in array.to_pylist()]
    assert arrays.integers(array).tolist() == expected
    assert arrays.valid(array).tolist() == [v is not None for v in array.to_pylist()]
    flags = pc.greater(array, 0)
    chunked = pa.chunked_array([flags, flags.slice(min(1, len(flags)))], pa.bool_())
    assert arrays.booleans(chunked).tolist() == [bool(v) for v in chunked.to_pylist()]


def test_text_and_scalars() -> None:
    assert arrays.text(["a", "", "ünï ✓"]).to_pylist() == ["a", "", "ünï ✓"]
    assert arrays.scalar('"').as_py() == '"'
    assert arrays.scalar(True).as_py() is True


SCHEMA = pa.schema([("i", pa.int64()), ("s", pa.string())])


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 30), min_size=1, max_size=8),
    picks=st.lists(st.integers(0, 10_000), max_size=60),
    ascending=st.booleans(),
)
def test_take_equals_arrow_take(sizes: list[int], picks: list[int], ascending: bool) -> None:
    n = sum(sizes)
    chunks, at = [], 0
    for size in sizes:
        columns = {"i": np.arange(at, at + size), "s": [f"r{j}" for j in range(at, at + size)]}
        chunks.append(pa.table(columns, schema=SCHEMA))
        at += size
    table = pa.concat_tables(chunks)
    indices = np.array([p % n for p in picks] if n else [], dtype=np.int64)
    if ascending:
        indices = np.sort(indices)
    got = arrays.take(table, indices)
    assert got.schema == table.schema
    assert got.to_pylist() == table.take(pa.array(indices, pa.int64())).to_pylist()


def test_text_keeps_nulls_and_unicode() -> None:
    made = arrays.text(["a", None, "ü", ""])
    assert made.to_pylist() == ["a", None, "ü", ""] and made.null_count == 1
    assert arrays.text([]).to_pylist() == []
