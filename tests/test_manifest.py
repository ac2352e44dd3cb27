"""The manifest layer: formats, labels as text, dtypes, stdin/stdout, atomic writes."""

from __future__ import annotations

import gzip
import io
import os
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rebalance.errors import RebalanceError
from rebalance.manifest import (
    detect_column,
    read_columns,
    read_manifest,
    resolve_destination,
    resolve_source,
    write_manifest,
)
from tests.conftest import write_rows

ROWS = [
    {"path": "a/1.png", "label": "01", "score": "1.10", "note": 'say "hi", ok'},
    {"path": "a/2.png", "label": "1", "score": "2", "note": "line\nbreak"},
    {"path": "a/3.png", "label": " b ", "score": "", "note": "ünïcode ✓"},
]


@pytest.mark.parametrize(
    "name", ["m.csv", "m.tsv", "m.jsonl", "m.ndjson", "m.csv.gz", "m.tsv.gz", "m.jsonl.gz"]
)
def test_text_formats_keep_labels_and_values_exactly(tmp_path: Path, name: str) -> None:
    path = write_rows(tmp_path / name, ROWS)
    table = read_manifest(path)
    assert table.column("label").to_pylist() == ["01", "1", " b "]
    assert table.column("note").to_pylist() == [r["note"] for r in ROWS]
    assert table.column("score").to_pylist()[:2] == ["1.10", "2"]


@pytest.mark.parametrize("name", ["out.csv", "out.tsv", "out.jsonl", "out.csv.gz", "out.parquet"])
def test_csv_round_trip_through_every_format(tmp_path: Path, name: str) -> None:
    src = write_rows(tmp_path / "in.csv", ROWS)
    table = read_manifest(src)
    out = tmp_path / name
    write_manifest(table, out)
    back = read_manifest(out)
    assert back.column_names == table.column_names
    for column in table.column_names:
        assert back.column(column).to_pylist() == table.column(column).to_pylist()


def test_csv_to_csv_is_byte_identical_for_minimally_quoted_input(tmp_path: Path) -> None:
    src = write_rows(tmp_path / "in.csv", ROWS)
    out = tmp_path / "out.csv"
    write_manifest(read_manifest(src), out)
    assert out.read_bytes() == src.read_bytes().replace(b"\r\n", b"\n")


def test_parquet_keeps_stored_types(tmp_path: Path) -> None:
    table = pa.table(
        {
            "label": pa.array([1, 2, 2], pa.int64()),
            "f": pa.array([0.5, None, 1.5], pa.float32()),
            "flag": [True, False, True],
            "when": pa.array([1, 2, 3], pa.timestamp("ms")),
            "cat": pa.array(["x", "y", "x"]).dictionary_encode(),
        }
    )
    src = tmp_path / "in.parquet"
    pq.write_table(table, src)
    out = tmp_path / "out.parquet"
    write_manifest(read_manifest(src), out)
    assert pq.read_table(out).schema == pq.read_table(src).schema


def test_parquet_to_csv_writes_text(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"label": [1, 2], "f": [0.1, None], "b": [True, False]}), src)
    out = tmp_path / "out.csv"
    write_manifest(read_manifest(src), out)
    assert out.read_text() == "label,f,b\n1,0.1,True\n2,,False\n"


def test_single_column_empty_value_survives(tmp_path: Path) -> None:
    out = tmp_path / "one.csv"
    write_manifest(pa.table({"label": ["a", "", "b"]}), out)
    assert read_manifest(out).column("label").to_pylist() == ["a", "", "b"]


def test_write_refuses_to_overwrite_input(tmp_path: Path) -> None:
    src = write_rows(tmp_path / "in.csv", ROWS)
    before = src.read_bytes()
    with pytest.raises(RebalanceError, match="refusing to overwrite the input"):
        write_manifest(read_manifest(src), src, input_path=src)
    assert src.read_bytes() == before


def test_write_is_atomic_and_leaves_no_temp_file_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    bad = pa.table({"b": pa.array([b"\x00"], pa.binary())})
    with pytest.raises(RebalanceError, match="binary column"):
        write_manifest(bad, out)
    assert out.read_text() == "old\n"
    assert sorted(os.listdir(tmp_path)) == ["out.csv"]


def test_gzip_output_is_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    table = read_manifest(write_rows(tmp_path / "in.csv", ROWS))
    write_manifest(table, tmp_path / "a.csv.gz")
    # a minute later: gzip stamps the time into its header unless told mtime=0
    later = time.time() + 60
    monkeypatch.setattr(time, "time", lambda: later)
    write_manifest(table, tmp_path / "b.csv.gz")
    assert (tmp_path / "a.csv.gz").read_bytes() == (tmp_path / "b.csv.gz").read_bytes()
    assert (tmp_path / "a.csv.gz").read_bytes()[4:8] == b"\0\0\0\0"  # MTIME field is 0
    assert gzip.decompress((tmp_path / "a.csv.gz").read_bytes()).startswith(b"path,label")


def test_stdin_csv_and_gzip_sniffed(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"label,x\na,1\nb,2\n"
    for payload in (data, gzip.compress(data)):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(payload)))
        assert read_manifest("-").column("label").to_pylist() == ["a", "b"]


def test_format_override_and_unknown_extension(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "data.txt", ROWS, fmt="tsv")
    with pytest.raises(RebalanceError, match=r"data.txt: unknown file extension \.txt"):
        resolve_source(path)
    assert read_manifest(path, input_format="tsv").num_rows == 3
    with pytest.raises(RebalanceError, match="--input-format 'xls' is not a known format"):
        resolve_source(path, input_format="xls")
    assert resolve_destination("x.parquet").format == "parquet"
    assert resolve_destination("-", output_format="jsonl").format == "jsonl"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"\n\n", "file is empty"),
        (b"label,x\n", r"no data rows \(header only\)"),
        (b"label,x\n\xff\xfe,1\n", "cannot decode the text as utf-8 .*--encoding"),
    ],
)
def test_bad_csv_input(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(RebalanceError, match=message):
        read_manifest(path)


def test_latin1_with_encoding_flag(tmp_path: Path) -> None:
    path = tmp_path / "l1.csv"
    path.write_bytes("label\ncafé\n".encode("latin-1"))
    assert read_manifest(path, encoding="latin-1").column("label").to_pylist() == ["café"]


def test_corrupt_parquet_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 this is not parquet at all PAR1")
    with pytest.raises(RebalanceError, match="bad.parquet: not a readable Parquet file"):
        read_manifest(bad)
    with pytest.raises(RebalanceError, match="nope.csv: no such file"):
        read_manifest(tmp_path / "nope.csv")


def test_jsonl_mixed_label_types_become_text(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"label": 1, "x": 1}\n{"label": "01", "x": 2}\n')
    assert read_manifest(path).column("label").to_pylist() == ["1", "01"]


def test_detect_column_rules() -> None:
    assert (
        detect_column(["path", "Label"], None, ("label",), where="m", flag="--label-col") == "Label"
    )
    with pytest.raises(RebalanceError, match=r"no column 'lable' \(did you mean 'label'\?\)"):
        detect_column(["label", "x"], "lable", ("label",), where="m", flag="--label-col")
    with pytest.raises(RebalanceError, match="several columns could be the label"):
        detect_column(["label", "class"], None, ("label", "class"), where="m", flag="--label-col")
    with pytest.raises(RebalanceError, match="no label column found"):
        detect_column(["a"], None, ("label",), where="m", flag="--label-col")


def test_read_columns_reads_header_only(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "m.csv", ROWS)
    assert read_columns(resolve_source(path)) == ["path", "label", "score", "note"]


def _labelled(n: int = 300) -> pa.Table:
    return pa.table(
        {
            "path": [f"img/{i:04d}.png" for i in range(n)],
            "label": [["01", "b", "", "ünï"][i % 4] for i in range(n)],
            "split": [["train", "val"][i % 2] for i in range(n)],
            "x": [i / 7 for i in range(n)],
        }
    )


@pytest.mark.parametrize("metadata", [None, {b"pandas": b'{"note": "kept"}'}])
def test_dictionary_read_columns_are_written_back_as_text(
    tmp_path: Path, metadata: dict[bytes, bytes] | None
) -> None:
    """Coded columns go to Parquet as dictionary pages when nothing is lost, else decoded."""
    table = _labelled().replace_schema_metadata(metadata)
    src = tmp_path / "in.parquet"
    pq.write_table(table, src, row_group_size=100)
    coded = read_manifest(src, dictionary=["label", "split"])
    assert pa.types.is_dictionary(coded.schema.field("label").type)
    assert coded.column("label").to_pylist() == table.column("label").to_pylist()
    out = tmp_path / "out.parquet"
    write_manifest(coded, out)
    back = pq.read_table(out)
    assert back.schema.equals(pq.read_table(src).schema, check_metadata=True)
    assert back.equals(table)


def test_dictionary_read_keeps_large_string_type(tmp_path: Path) -> None:
    table = _labelled().cast(
        pa.schema(
            [
                pa.field(f.name, pa.large_string() if f.name == "label" else f.type)
                for f in _labelled().schema
            ]
        )
    )
    src = tmp_path / "in.parquet"
    pq.write_table(table, src)
    out = tmp_path / "out.parquet"
    write_manifest(read_manifest(src, dictionary=["label"]), out)
    assert pq.read_table(out).schema.field("label").type == pa.large_string()
    assert pq.read_table(out).equals(table)


@pytest.mark.parametrize("name", ["out.csv", "out.tsv", "out.jsonl", "out.parquet"])
def test_dictionary_read_csv_round_trips(tmp_path: Path, name: str) -> None:
    src = write_rows(tmp_path / "in.csv", ROWS)
    coded = read_manifest(src, dictionary=["label"])
    assert pa.types.is_dictionary(coded.schema.field("label").type)
    write_manifest(coded, tmp_path / name)
    write_manifest(read_manifest(src), tmp_path / ("plain-" + name))
    assert read_manifest(tmp_path / name).equals(read_manifest(tmp_path / ("plain-" + name)))
    if name == "out.csv":
        assert (tmp_path / name).read_bytes() == src.read_bytes().replace(b"\r\n", b"\n")


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl", "out.parquet", "out.csv.gz"])
def test_write_manifest_takes_parts_in_order(tmp_path: Path, name: str) -> None:
    table = _labelled(50)
    parts = [table.slice(0, 20), table.slice(20, 0), table.slice(20)]
    write_manifest(iter(parts), tmp_path / name)
    write_manifest(table, tmp_path / ("whole-" + name))
    assert read_manifest(tmp_path / name).equals(read_manifest(tmp_path / ("whole-" + name)))


def test_write_manifest_abandons_the_file_when_the_parts_fail(tmp_path: Path) -> None:
    def parts():  # type: ignore[no-untyped-def]
        yield _labelled(10)
        raise RuntimeError("the copies could not be made")

    with pytest.raises(RuntimeError):
        write_manifest(parts(), tmp_path / "out.parquet")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "positions",
    [
        [],
        [0, 1, 2, 3],
        [2, 5, 9, 30, 49],  # kept rows only
        [0, 3, 4, 40, 3, 3, 49, 0, 12],  # kept rows, then copies in any order
        [45, 2, 2, 17],
        list(range(50)) + list(range(49, -1, -1)),
    ],
)
def test_take_parquet_rows_streams_any_positions(
    tmp_path: Path, positions: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    from rebalance.manifest import parquet as manifest_module
    from rebalance.manifest import take_parquet_rows

    monkeypatch.setattr(manifest_module, "_PARQUET_BATCH", 8)
    table = _labelled(50)
    src = tmp_path / "in.parquet"
    pq.write_table(table, src, row_group_size=12)
    wanted = np.array(positions, dtype=np.int64)
    parts = list(take_parquet_rows(resolve_source(src), wanted, dictionary=["label"]))
    got = pa.concat_tables(parts)
    assert got.column("label").to_pylist() == [table.column("label")[i].as_py() for i in positions]
    assert got.column("path").to_pylist() == [table.column("path")[i].as_py() for i in positions]
    write_manifest(iter(parts), tmp_path / "out.parquet")
    assert pq.read_table(tmp_path / "out.parquet").equals(table.take(pa.array(wanted, pa.int64())))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(*[st.text(alphabet='ab ,"\né\t', max_size=4)] * 3), min_size=1, max_size=12
    ),
    coded=st.booleans(),
    delimiter=st.sampled_from([",", "\t"]),
    columns=st.integers(1, 3),
)
def test_delimited_writer_quotes_exactly_as_the_csv_module(
    rows: list[tuple[str, str, str]], coded: bool, delimiter: str, columns: int
) -> None:
    """Both writers (Arrow's for text with nothing to quote, the kernel one otherwise).

    (One difference, on purpose: a bare carriage return is quoted too, which the csv
    module with "\\n" line ends does not do, and which readers would take for a line end.)
    """
    import csv as csv_module

    from rebalance.manifest import write_delimited

    names = ["a", "b", "c"][:columns]
    table = pa.table({name: [r[i] for r in rows] for i, name in enumerate(names)})
    if coded:
        table = table.set_column(0, names[0], pc.dictionary_encode(table.column(0)))
    got = io.BytesIO()
    write_delimited(table, got, delimiter=delimiter)
    expected = io.StringIO(newline="")
    writer = csv_module.writer(expected, delimiter=delimiter, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(r[:columns] for r in rows)
    assert got.getvalue().decode("utf-8") == expected.getvalue()


def test_carriage_returns_are_quoted() -> None:
    from rebalance.manifest import write_delimited

    out = io.BytesIO()
    write_delimited(pa.table({"a": ["x\ry", "z"], "b": ["1", "2"]}), out)
    assert out.getvalue() == b'a,b\n"x\ry",1\nz,2\n'


def test_row_groups_stream_in_order_whatever_thread_reads_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Role columns of a many-row-group file are decoded on several threads and come back in
    row order, dictionary-encoded, nulls and all."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from rebalance.manifest import iter_batches, resolve_source

    rng = np.random.default_rng(3)
    labels = rng.choice(["a", "b", "01", ""], 5_000).astype(object)
    labels[rng.random(5_000) < 0.05] = None
    path = tmp_path / "m.parquet"
    table = pa.table({"label": pa.array(labels, pa.string()), "x": rng.normal(size=5_000)})
    pq.write_table(table, path, row_group_size=333)  # 16 row groups
    batches = list(iter_batches(resolve_source(path), ["label"]))
    assert all(pa.types.is_dictionary(b.column(0).type) for b in batches)
    got = pa.Table.from_batches(batches).column("label").cast(pa.string())
    assert got.to_pylist() == labels.tolist()
