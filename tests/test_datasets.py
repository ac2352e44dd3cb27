"""A folder of Parquet files (flat or hive-partitioned) is one manifest on every command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.manifest import dataset_files, read_manifest, resolve_source

runner = CliRunner()


def make_parts(seed: int = 0) -> list[tuple[str, pa.Table]]:
    """(split, rows) parts: two files of train, one of val; a label that looks like a number."""
    rng = np.random.default_rng(seed)
    parts = []
    for split, n in [("train", 150), ("train", 150), ("val", 100)]:
        parts.append(
            (
                split,
                pa.table(
                    {
                        "path": [f"{split}/{len(parts)}/{i}.jpg" for i in range(n)],
                        "label": rng.choice(["cat", "dog", "01"], n, p=[0.8, 0.15, 0.05]),
                        "x": rng.normal(size=n),
                    }
                ),  # fmt: skip
            )
        )
    return parts


def hive_folder(tmp_path: Path) -> tuple[Path, Path]:
    """The parts as data/split=S/part-K.parquet, and the same rows (split as a column, in
    path order) as one file."""
    folder = tmp_path / "data"
    tables = []
    for k, (split, table) in enumerate(make_parts()):
        (folder / f"split={split}").mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / f"split={split}" / f"part-{k}.parquet")
        tables.append(table.append_column("split", pa.array([split] * table.num_rows)))
    (folder / "_SUCCESS").write_text("")
    (folder / "split=train" / ".part-0.parquet.crc").write_text("x")
    single = tmp_path / "single.parquet"
    pq.write_table(pa.concat_tables(tables), single)
    return folder, single


def test_a_hive_folder_reads_as_its_files_in_path_order(tmp_path: Path) -> None:
    folder, single = hive_folder(tmp_path)
    assert [Path(f).name for f in dataset_files(str(folder))] == [
        "part-0.parquet",
        "part-1.parquet",
        "part-2.parquet",
    ]
    source = resolve_source(folder)
    assert source.dataset and source.format == "parquet"
    table = read_manifest(source)
    expected = pq.read_table(single)
    assert table.column_names == expected.column_names
    for name in expected.column_names:
        assert table.column(name).to_pylist() == expected.column(name).to_pylist(), name
    assert "01" in table.column("label").to_pylist()


@pytest.mark.parametrize(
    "args",
    [
        ["inspect", "--json"],
        ["weights"],
        [
            "resample",
            "--only-split",
            "train",
            "--target",
            "max",
            "--seed",
            "3",
            "-o",
            "-",
            "--output-format",
            "csv",
        ],
        [
            "resample",
            "--only-split",
            "train",
            "--target",
            "min",
            "--seed",
            "3",
            "-o",
            "-",
            "--output-format",
            "csv",
        ],
    ],
)
def test_every_command_gives_on_the_folder_what_it_gives_on_the_single_file(
    tmp_path: Path, args: list[str]
) -> None:
    folder, single = hive_folder(tmp_path)
    on_folder = runner.invoke(app, [args[0], str(folder), *args[1:]])
    on_file = runner.invoke(app, [args[0], str(single), *args[1:]])
    assert on_folder.exit_code == 0, on_folder.output
    assert on_file.exit_code == 0, on_file.output
    if args[0] == "inspect":
        a, b = json.loads(on_folder.stdout), json.loads(on_file.stdout)
        assert a.pop("source") == str(folder) and b.pop("source") == str(single)
        assert a == b
        assert a["split_col"] == "split"  # the partition folder is the split column
    else:
        assert on_folder.stdout == on_file.stdout


def test_a_flat_folder_and_an_output_inside_it(tmp_path: Path) -> None:
    folder = tmp_path / "flat"
    folder.mkdir()
    for k, (_, table) in enumerate(make_parts()):
        pq.write_table(table, folder / f"part-{k:02d}.parquet")
    out = runner.invoke(
        app,
        [
            "resample",
            str(folder),
            "--target",
            "max",
            "-o",
            str(tmp_path / "out.parquet"),
            "--seed",
            "1",
        ],
    )
    assert out.exit_code == 0, out.output
    assert pq.read_table(tmp_path / "out.parquet").num_rows > 400
    before = sorted(p.name for p in folder.iterdir())
    inside = runner.invoke(
        app, ["resample", str(folder), "--target", "max", "-o", str(folder / "balanced.parquet")]
    )
    assert inside.exit_code == 2
    assert "inside the input dataset folder" in inside.stderr
    assert sorted(p.name for p in folder.iterdir()) == before


def test_folders_that_are_not_parquet_datasets_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("hi")
    result = runner.invoke(app, ["inspect", str(empty)])
    assert result.exit_code == 2 and "a folder with no Parquet files" in result.stderr
    result = runner.invoke(app, ["inspect", str(empty), "--input-format", "csv"])
    assert result.exit_code == 2 and "read as a Parquet dataset" in result.stderr
