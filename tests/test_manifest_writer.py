"""The manifest writer, byte for byte: CSV/TSV against Python's csv module (the quoting it
promises to follow), JSON lines against json.dumps, Parquet types and encodings kept
(its mutation score is in the README)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rebalance.errors import RebalanceError
from rebalance.manifest import (
    _stored_schema,
    read_manifest,
    resolve_destination,
    write_delimited,
    write_jsonl,
    write_manifest,
)


def reference(
    rows: list[list[object]], delimiter: str = ",", header: list[str] | None = None
) -> bytes:
    """What Python's csv module writes (minimal quoting, "\\n" line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode("utf-8")


def written(table: pa.Table, **kwargs: object) -> bytes:
    fh = io.BytesIO()
    write_delimited(table, fh, **kwargs)  # type: ignore[arg-type]
    return fh.getvalue()


TEXTS = ["plain", "a,b", 'say "hi"', "two\nlines", "", None, "tab\there", "ünï"]


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_text_columns_are_quoted_as_the_csv_module_does(delimiter: str) -> None:
    table = pa.table({"name": TEXTS, "other": [f"v{i}" for i in range(len(TEXTS))]})
    expected = reference(
        [[a, b] for a, b in zip(TEXTS, table.column("other").to_pylist(), strict=True)],
        delimiter=delimiter,
        header=["name", "other"],
    )
    assert written(table, delimiter=delimiter) == expected


def test_a_carriage_return_is_quoted_too() -> None:
    # csv.writer with "\n" line ends leaves a lone "\r" bare; readers with universal
    # newlines would cut the row there, so it is quoted like "\n"
    table = pa.table({"a": ["cr\rhere", "x"], "b": ["1", "2"]})
    assert written(table) == b'a,b\n"cr\rhere",1\nx,2\n'


def test_clean_text_takes_the_fast_path_and_writes_the_same() -> None:
    table = pa.table({"a": ["x", "y", None], "b": ["1", "2", "3"]})
    assert written(table) == b"a,b\nx,1\ny,2\n,3\n"
    coded = table.set_column(0, "a", table.column("a").dictionary_encode())
    assert written(coded) == b"a,b\nx,1\ny,2\n,3\n"


def test_one_column_quotes_empty_values_so_rows_stay_rows() -> None:
    table = pa.table({"label": ["a", "", None, "b,c"]})
    assert written(table) == reference([["a"], [""], [None], ["b,c"]], header=["label"])
    assert written(table) == b'label\na\n""\n""\n"b,c"\n'
    assert written(table, header=False) == b'a\n""\n""\n"b,c"\n'


def test_header_names_are_quoted_too() -> None:
    table = pa.table({"a,b": ["1"], 'q"': ["2"]})
    assert written(table) == b'"a,b","q"""\n1,2\n'


def test_other_types_as_text() -> None:
    table = pa.table(
        {
            "flag": [True, False, None],
            "n": pa.array([1, -2, None], pa.int64()),
            "x": [0.5, -1.25, None],
            "big": pa.array(["l1", "l,2", None], pa.large_string()),
            "coded": pa.array(["c", "c", "d"]).dictionary_encode(),
            "list": pa.array([[1, 2], [], None], pa.list_(pa.int64())),
            "day": pa.array([dt.date(2024, 1, 2), None, dt.date(1999, 12, 31)]),
        }
    )
    expected = (
        b"flag,n,x,big,coded,list,day\n"
        b'True,1,0.5,l1,c,"[1, 2]",2024-01-02\n'
        b'False,-2,-1.25,"l,2",c,[],\n'
        b",,,,d,,1999-12-31\n"
    )
    assert written(table) == expected


def test_binary_columns_cannot_go_to_text() -> None:
    table = pa.table({"blob": pa.array([b"\x00\x01", b"x,"], pa.binary()), "a": ["1", "2"]})
    with pytest.raises(RebalanceError) as refused:
        written(table)
    assert (
        str(refused.value)
        == "cannot write a binary column to a text format (write Parquet instead)"
    )
    large = pa.table({"blob": pa.array([b"x"], pa.large_binary()), "a": ["1"]})
    with pytest.raises(RebalanceError, match="binary column"):
        written(large)


def test_a_column_sliced_from_the_middle_is_scanned_in_its_own_span() -> None:
    big = pa.array(["a,b", "clean", "clean2", "x\ny"])
    # the slice holds only clean values, though its buffer holds the others too
    table = pa.table({"a": big.slice(1, 2), "b": pa.array(["1", "2"])})
    assert written(table) == b"a,b\nclean,1\nclean2,2\n"
    quoted = pa.table({"a": big.slice(0, 2), "b": pa.array(["1", "2"])})
    assert written(quoted) == b'a,b\n"a,b",1\nclean,2\n'
    empty = pa.table({"a": pa.array([], pa.string()), "b": pa.array([], pa.string())})
    assert written(empty) == b"a,b\n"


def test_jsonl_lines() -> None:
    table = pa.table(
        {
            "label": ["ünï", None],
            "x": [float("nan"), 2.5],
            "day": [dt.date(2024, 5, 6), None],
            "tags": [["a", "b"], []],
        }
    )
    fh = io.BytesIO()
    write_jsonl(table, fh)
    assert fh.getvalue().decode("utf-8") == (
        '{"label": "ünï", "x": null, "day": "2024-05-06", "tags": ["a", "b"]}\n'
        '{"label": null, "x": 2.5, "day": null, "tags": []}\n'
    )
    rows = [json.loads(line) for line in fh.getvalue().decode().splitlines()]
    assert rows[1] == {"label": None, "x": 2.5, "day": None, "tags": []}


@pytest.mark.parametrize("name", ["o.csv", "o.tsv", "o.jsonl", "o.csv.gz", "o.jsonl.gz"])
def test_parts_are_written_one_after_the_other(tmp_path: Path, name: str) -> None:
    parts = [pa.table({"a": ["1", "2"]}), pa.table({"a": pa.array([], pa.string())}),
             pa.table({"a": ["3"]})]  # fmt: skip
    write_manifest(iter(parts), tmp_path / name)
    raw = (tmp_path / name).read_bytes()
    text = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode()
    if "jsonl" in name:
        assert text == '{"a": "1"}\n{"a": "2"}\n{"a": "3"}\n'
    else:
        assert text == "a\n1\n2\n3\n"  # one header, the empty part skipped


def test_an_empty_iterable_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as empty:
        write_manifest(iter([]), tmp_path / "o.csv")
    assert str(empty.value) == "write_manifest needs at least one table"
    assert list(tmp_path.iterdir()) == []


def test_parquet_keeps_types_and_codes_are_written_as_their_text(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("label,path,n\na,p1,1\na,p2,2\nb,p3,3\n")
    table = read_manifest(source, dictionary=["label"])
    assert pa.types.is_dictionary(table.schema.field("label").type)
    write_manifest(table, tmp_path / "o.parquet")
    schema = pq.read_schema(tmp_path / "o.parquet")
    assert schema.field("label").type == pa.string()  # written back as the text it was
    assert schema.field("path").type == pa.string()
    assert pq.read_table(tmp_path / "o.parquet").column("label").to_pylist() == ["a", "a", "b"]
    typed = pa.table(
        {
            "id": pa.array([1, 2], pa.int16()),
            "f": pa.array([0.5, None], pa.float32()),
            "when": pa.array([dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2)]),
            "big": pa.array(["x", "y"], pa.large_string()),
        }
    )
    write_manifest(typed, tmp_path / "t.parquet")
    assert pq.read_table(tmp_path / "t.parquet").equals(typed)


def test_stored_schema_drops_only_the_coding() -> None:
    from rebalance.manifest import CODED

    coded = pa.field(
        "label", pa.dictionary(pa.int32(), pa.string()), metadata={CODED: b"1", b"k": b"v"}
    )
    only = pa.field("split", pa.dictionary(pa.int32(), pa.large_string()), metadata={CODED: b"1"})
    kept = pa.field("cat", pa.dictionary(pa.int8(), pa.string()), metadata={b"k": b"v"})
    schema = pa.schema([coded, only, kept, pa.field("n", pa.int64(), nullable=False)],
                       metadata={b"file": b"meta"})  # fmt: skip
    stored = _stored_schema(schema)
    assert stored.field("label").type == pa.string()
    assert stored.field("label").metadata == {b"k": b"v"}
    assert (
        stored.field("split").type == pa.large_string() and stored.field("split").metadata is None
    )
    assert stored.field("cat") == kept  # a dictionary the file itself had stays one
    assert stored.field("n").nullable is False
    assert stored.metadata == {b"file": b"meta"}


def test_stdout_and_refusals(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    write_manifest(pa.table({"a": ["1"]}), "-")
    assert capsysbinary.readouterr().out == b"a\n1\n"
    write_manifest(pa.table({"a": ["1"]}), "-", output_format="jsonl")
    assert capsysbinary.readouterr().out == b'{"a": "1"}\n'
    src = tmp_path / "in.csv"
    src.write_text("a\n1\n")
    with pytest.raises(RebalanceError) as refused:
        write_manifest(pa.table({"a": ["2"]}), src, input_path=src)
    assert str(refused.value) == f"{src}: refusing to overwrite the input (choose another -o)"
    assert src.read_text() == "a\n1\n"
    dest = resolve_destination(str(tmp_path / "x.data"), output_format="tsv")
    write_manifest(pa.table({"a": ["1", "2"], "b": ["3", "4"]}), dest)
    assert (tmp_path / "x.data").read_text() == "a\tb\n1\t3\n2\t4\n"


def test_a_folder_destination_holds_one_part(tmp_path: Path) -> None:
    write_manifest(pa.table({"a": ["1", "2"]}), f"{tmp_path}/out/")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["part-00000.parquet"]
    assert pq.read_table(tmp_path / "out").column("a").to_pylist() == ["1", "2"]


# ---------------------------------------------------------------- batches, quoting, layout


def test_batches_that_need_quotes_and_batches_that_do_not() -> None:
    """Each batch takes its own path: Arrow's writer for clean text (dictionary columns as
    their values), the quoting builder for the others, an empty batch nothing."""
    dirty = pa.table({"a": ["x,y", 'q"'], "d": pa.array(["k", "l"]).dictionary_encode()})
    empty = pa.table(
        {"a": pa.array([], pa.string()), "d": pa.array([], pa.string()).dictionary_encode()}
    )
    clean = pa.table({"a": ["c", "d", "e"], "d": pa.array(["m", "k", "m"]).dictionary_encode()})
    table = pa.concat_tables([dirty, empty, clean, dirty.slice(1)], promote_options="permissive")
    assert [b.num_rows for b in table.to_batches()] == [2, 0, 3, 1]
    rows = [["x,y", "k"], ['q"', "l"], ["c", "m"], ["d", "k"], ["e", "m"], ['q"', "l"]]
    assert written(table) == reference(rows, header=["a", "d"])
    assert written(table, header=False) == reference(rows)
    # clean batches first, then one to quote
    assert written(pa.concat_tables([clean, dirty])) == reference(
        rows[2:5] + rows[:2], header=["a", "d"]
    )


def test_a_coded_column_whose_values_need_quotes() -> None:
    coded = pa.array(["a,b", "c", "a,b"]).dictionary_encode()
    table = pa.table({"k": coded, "n": ["1", "2", "3"]})
    assert written(table) == reference([["a,b", "1"], ["c", "2"], ["a,b", "3"]], header=["k", "n"])


def test_header_names_with_line_breaks_are_quoted() -> None:
    table = pa.table({"two\nlines": ["1"], "cr\rname": ["2"], "plain": ["3"]})
    assert written(table) == b'"two\nlines","cr\rname",plain\n1,2,3\n'


def test_tsv_quotes_tabs_and_only_what_needs_it() -> None:
    table = pa.table({"a": ["X", "t\tab", "XX"], "b": ["1", "2", "X\t"]})
    assert written(table, delimiter="\t") == b'a\tb\nX\t1\n"t\tab"\t2\nXX\t"X\t"\n'


def test_quotes_are_found_anywhere_in_a_column() -> None:
    for text in (['"a'], ["mid\nline"], ["a,"]):
        table = pa.table({"t": text * 3, "n": ["1", "2", "3"]})
        assert written(table) == reference([[text[0], n] for n in "123"], header=["t", "n"])
    table = pa.table({"t": ["a\r"] * 2, "n": ["1", "2"]})
    assert written(table) == b't,n\n"a\r",1\n"a\r",2\n'
    # a column of empty strings and nulls has no value bytes at all
    table = pa.table({"t": ["", None], "n": ["1", "2"]})
    assert written(table) == b"t,n\n,1\n,2\n"


def test_parquet_dictionary_and_statistics_follow_the_column(tmp_path: Path) -> None:
    table = pa.table(
        {
            "label": ["a", "b"] * 50,  # repeated text: dictionary pages, statistics
            "path": [f"img{i}.png" for i in range(100)],  # unique text: neither
            "n": list(range(100)),  # unique numbers: statistics, no dictionary
            "coded": pa.array(["x", "y"] * 50).dictionary_encode(),  # dictionary, no statistics
            "few": [1, 2] * 50,  # repeated numbers: both
            "half": [i // 2 for i in range(100)],  # exactly half distinct: dictionary
        }
    )
    path = tmp_path / "out.parquet"
    write_manifest(table, path)
    metadata = pq.ParquetFile(path).metadata
    chunks = {metadata.row_group(0).column(i).path_in_schema: metadata.row_group(0).column(i)
              for i in range(metadata.num_columns)}  # fmt: skip
    dictionary = {name for name, c in chunks.items() if "RLE_DICTIONARY" in c.encodings}
    assert dictionary == {"label", "coded", "few", "half"}
    assert {name for name, c in chunks.items() if c.is_stats_set} == {"label", "n", "few", "half"}
    assert b"ARROW:schema" in (metadata.metadata or {})  # the Arrow types travel with it
    assert pq.read_table(path).equals(table)


def test_dictionary_columns_are_chosen_from_a_sample() -> None:
    from rebalance.manifest.write import _dictionary_columns

    table = pa.table(
        {
            "coded": pa.array(["x"] * 12).dictionary_encode(),
            "vectors": pa.array([[1.0, 2.0]] * 12),
            "flag": [True] * 12,
            "late": ["u0", "u1", "u2", "u3"] + ["r"] * 8,  # repeats after the sample
            "early": ["r"] * 4 + [f"e{i}" for i in range(8)],  # repeats only in it
            "half": [c for c in "abcdef" for _ in range(2)],  # exactly half distinct
            "unique": [f"u{i}" for i in range(12)],
        }
    )
    assert _dictionary_columns(table, sample=4) == ["coded", "flag", "early", "half"]
    assert _dictionary_columns(table) == ["coded", "flag", "late", "half"]
    assert _dictionary_columns(table.slice(0, 0)) == ["coded", "flag"]


def test_a_value_holding_every_special_byte_is_quoted() -> None:
    table = pa.table({"t": ['a,"b"\r\n'] * 2, "n": ["1", "2"]})
    assert written(table) == b't,n\n"a,""b""\r\n",1\n"a,""b""\r\n",2\n'


def test_binary_output_needs_a_binary_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setattr(sys, "stdout", io.StringIO())  # a text-only stream, as some hosts give
    with pytest.raises(RebalanceError) as refused:
        write_manifest(pa.table({"a": ["x"]}), resolve_destination("-", output_format="parquet"))
    assert str(refused.value) == "stdout: cannot write binary data to this output"


def test_the_dictionary_sample_is_the_first_rows_only(tmp_path: Path) -> None:
    from rebalance.manifest.write import _DICTIONARY_SAMPLE

    n = _DICTIONARY_SAMPLE
    # unique through the sample, then one value repeated: no dictionary pages
    values = [f"id{i}" for i in range(n)] + ["r"] * (n + 10)
    table = pa.table({"key": values, "n": list(range(len(values)))})
    path = tmp_path / "out.parquet"
    write_manifest(table, path)
    chunk = pq.ParquetFile(path).metadata.row_group(0).column(0)
    assert chunk.path_in_schema == "key" and "RLE_DICTIONARY" not in chunk.encodings


def test_json_lines_write_nan_as_null_and_refuse_infinity(tmp_path: Path) -> None:
    fh = io.BytesIO()
    write_jsonl(pa.table({"x": [1.5, float("nan")], "s": ["ü", "a"]}), fh)
    assert fh.getvalue() == '{"x": 1.5, "s": "ü"}\n{"x": null, "s": "a"}\n'.encode()
    table = pa.table({"x": [1.0] * 70_000 + [float("-inf")]})  # past the first batch
    with pytest.raises(RebalanceError) as refused:
        write_manifest(table, tmp_path / "out.jsonl")
    assert str(refused.value) == (
        "column 'x' holds -inf in output row 70001: JSON lines have no infinity "
        "(write CSV or Parquet, or replace it first)"
    )
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_json_lines_check_every_value_and_count_rows_across_batches(tmp_path: Path) -> None:
    fh = io.BytesIO()
    with pytest.raises(RebalanceError, match="column 'b' holds inf in output row 1"):
        write_jsonl(pa.table({"a": [float("nan")], "b": [float("inf")]}), fh)
    table = pa.table({"x": [0.5] * (2 * 64 * 1024 + 5) + [float("inf")]})  # in the third batch
    with pytest.raises(RebalanceError, match=f"in output row {2 * 64 * 1024 + 6}:"):
        write_manifest(table, tmp_path / "out.jsonl")


def test_parquet_stores_the_arrow_schema_unless_the_file_is_compact(tmp_path: Path) -> None:
    plain = pa.table({"a": ["x", "y"] * 5, "n": list(range(10))})
    write_manifest(plain, tmp_path / "plain.parquet")
    assert b"ARROW:schema" in (pq.ParquetFile(tmp_path / "plain.parquet").metadata.metadata or {})
    # a manifest read from CSV with its label coded (as resample reads it): written as
    # Parquet dictionary pages,
    # with no Arrow schema (it would say "dictionary"), read back as the text it was
    source = tmp_path / "in.csv"
    source.write_text("label,x\n" + "".join(f"{'ab'[i % 2]},{i}\n" for i in range(10)))
    coded = read_manifest(source, dictionary=["label"])
    assert pa.types.is_dictionary(coded.schema.field("label").type)
    write_manifest(coded, tmp_path / "coded.parquet")
    file = pq.ParquetFile(tmp_path / "coded.parquet")
    assert b"ARROW:schema" not in (file.metadata.metadata or {})
    assert "RLE_DICTIONARY" in file.metadata.row_group(0).column(0).encodings
    back = pq.read_table(tmp_path / "coded.parquet")
    assert back.schema == pa.schema([("label", pa.string()), ("x", pa.string())])
    assert back.column("label").to_pylist() == ["a", "b"] * 5


def test_view_columns_are_sampled_for_dictionaries_and_written_back_as_views(
    tmp_path: Path,
) -> None:
    from rebalance.manifest.write import _dictionary_columns

    repeated = pa.array(["a", "b"] * 6).cast(pa.string_view())
    unique = pa.array([f"u{i}" for i in range(12)]).cast(pa.string_view())
    table = pa.table({"repeated": repeated, "unique": unique})
    assert _dictionary_columns(table) == ["repeated"]
    source = tmp_path / "views.parquet"
    pq.write_table(table, source)
    held = read_manifest(source)  # held as plain text, marked
    assert held.schema.field("repeated").type == pa.string()
    write_manifest(held, tmp_path / "out.parquet")
    back = pq.read_table(tmp_path / "out.parquet")
    assert back.schema.field("repeated").type == pa.string_view()
    assert back.equals(pq.read_table(source))
