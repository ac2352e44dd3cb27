"""Parquet files as other tools write them: every Arrow string type (pyarrow's string,
polars' large_string, string_view, pandas' category as a dictionary) in the label, split
and other columns. Every command reads them; every output keeps each column's type."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from rebalance.cli import app

TYPES = {
    "string": pa.string(),
    "large_string": pa.large_string(),
    "string_view": pa.string_view(),
    "dictionary": pa.dictionary(pa.int32(), pa.string()),
}
LABELS = ["a", "b", "a", "a", "c"] * 8


def written(tmp_path: Path, kind: str) -> Path:
    kind_type = TYPES[kind]

    def column(values: list[str]) -> pa.Array:
        return pa.array(values).cast(kind_type)

    table = pa.table(
        {
            "label": column(LABELS),
            "split": column(["train"] * 30 + ["val"] * 10),
            "path": column([f"img{i}.png" for i in range(40)]),
            "x": [float(i) for i in range(40)],
        }
    )
    path = tmp_path / f"{kind}.parquet"
    pq.write_table(table, path)
    return path


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("kind", list(TYPES))
def test_inspect_counts_the_same_whatever_the_string_type(tmp_path: Path, kind: str) -> None:
    result = run("inspect", str(written(tmp_path, kind)), "--json", "--no-split")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == {"a": 24, "b": 8, "c": 8}


@pytest.mark.parametrize("kind", list(TYPES))
@pytest.mark.parametrize(
    "options", [["--target", "max"], ["--target", "min"], ["--method", "smote", "--features", "x"]]
)
def test_resample_keeps_every_column_type(tmp_path: Path, kind: str, options: list[str]) -> None:
    source = written(tmp_path, kind)
    out = tmp_path / "out.parquet"
    result = run("resample", str(source), "-o", str(out), "--only-split", "train", *options)
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).schema == pq.read_table(source).schema


@pytest.mark.parametrize("kind", list(TYPES))
def test_weights_and_sample_weights(tmp_path: Path, kind: str) -> None:
    source = written(tmp_path, kind)
    result = run("weights", str(source))
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["weights"]) == {"a", "b", "c"}
    out = tmp_path / "weighted.parquet"
    assert run("weights", str(source), "--sample-weights", "-o", str(out)).exit_code == 0
    schema = pq.read_table(out).schema
    assert schema.remove(schema.get_field_index("weight")) == pq.read_table(source).schema


# ---------------------------------------------------------------- other writers' files


def pandas_frame():  # type: ignore[no-untyped-def]
    import pandas as pd

    return pd.DataFrame(
        {
            "label": ["01", "b", "01", "01", "c,d"] * 6,
            "split": ["train"] * 24 + ["val"] * 6,
            "note": ['say "hi"', "x\ny", "", None, "ü"] * 6,
        }
    )


@pytest.mark.parametrize("quoting", ["all", "minimal"])
def test_pandas_csv_with_crlf_line_ends(tmp_path: Path, quoting: str) -> None:
    import csv

    path = tmp_path / "pandas.csv"
    style = csv.QUOTE_ALL if quoting == "all" else csv.QUOTE_MINIMAL
    pandas_frame().to_csv(path, index=False, lineterminator="\r\n", quoting=style)
    result = run("inspect", str(path), "--json", "--no-split")
    assert json.loads(result.stdout)["counts"] == {"01": 18, "b": 6, "c,d": 6}  # "01" kept
    out = tmp_path / "out.csv"
    assert run("resample", str(path), "-o", str(out), "--all-splits", "--seed", "1").exit_code == 0
    import io

    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 54 and {r["note"] for r in rows} == {'say "hi"', "x\ny", "", "ü"}
    assert {r["label"] for r in rows} == {"01", "b", "c,d"}


def test_pandas_category_parquet_keeps_its_dictionary(tmp_path: Path) -> None:
    frame = pandas_frame()
    frame["label"] = frame["label"].astype("category")
    path = tmp_path / "category.parquet"
    frame.to_parquet(path)
    out = tmp_path / "out.parquet"
    assert run("resample", str(path), "-o", str(out), "--all-splits").exit_code == 0
    assert pq.read_table(out).schema == pq.read_table(path).schema
    assert pq.read_table(out).num_rows == 54


def test_a_spark_like_folder_of_small_parts(tmp_path: Path) -> None:
    import pyarrow.dataset as ds

    table = pa.Table.from_pandas(pandas_frame(), preserve_index=False)
    folder = tmp_path / "parts"
    ds.write_dataset(
        table, folder, format="parquet", partitioning=["split"], partitioning_flavor="hive",
        max_rows_per_group=4, max_rows_per_file=8,
    )  # fmt: skip
    assert len(list(folder.rglob("*.parquet"))) >= 4
    result = run("inspect", f"{folder}/", "--json", "--no-split")
    assert json.loads(result.stdout)["counts"] == {"01": 18, "b": 6, "c,d": 6}
    out = tmp_path / "out.parquet"
    assert run("resample", f"{folder}/", "-o", str(out), "--only-split", "train").exit_code == 0
    written = pq.read_table(out)
    # train: 15 "01", 5 "b", 4 "c,d" raised to 15 each; the 6 val rows pass through
    assert written.num_rows == 6 + 3 * 15
    assert written.column("label").type == table.column("label").type


def test_a_folder_of_large_string_parts_is_written_back_as_large_string(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    for k in range(3):
        part = pa.table(
            {
                "path": pa.array([f"{k}_{i}.png" for i in range(10)], pa.large_string()),
                "label": pa.array(["a"] * 8 + ["b"] * 2, pa.large_string()),
            }
        )
        pq.write_table(part, folder / f"part-{k}.parquet")
    out = tmp_path / "out.parquet"
    assert run("resample", f"{folder}/", "-o", str(out), "--target", "4").exit_code == 0
    written = pq.read_table(out)
    assert written.num_rows == 8
    assert written.schema.field("label").type == pa.large_string()
    assert written.schema.field("path").type == pa.large_string()
