"""The Dask engine gives the in-process engine's answers, whatever the pieces."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.engine.dask import DaskEngine, pieces
from rebalance.engine.local import LocalEngine
from rebalance.errors import RebalanceError
from rebalance.manifest import resolve_source

distributed = pytest.importorskip("distributed")
runner = CliRunner()


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def long_tail(n: int = 5_000, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    labels = rng.zipf(1.6, n).astype(str)
    labels[rng.random(n) < 0.01] = ""  # some rows without a label
    return pa.table({
        "path": [f"img/{i}.jpg" for i in range(n)],
        "label": pa.array(labels).cast(pa.string()),
        "split": rng.choice(["train", "val", "test"], n, p=[0.7, 0.2, 0.1]),
        "x": rng.normal(size=n),
    })  # fmt: skip


@pytest.fixture
def parquet(tmp_path: Path) -> Path:
    path = tmp_path / "m.parquet"
    pq.write_table(long_tail(), path, row_group_size=350)  # 15 row groups
    return path


@pytest.mark.parametrize("parts", [1, 3, 7])
def test_counts_equal_the_in_process_engine(client: Any, parquet: Path, parts: int) -> None:
    source = resolve_source(parquet)
    assert len(pieces(source, parts)) == parts
    ours = DaskEngine(client=client, parts=parts).counts(source, "label", "split")
    local = LocalEngine().counts(source, "label", "split")
    assert ours == local
    assert ours.first_missing_row == local.first_missing_row is not None


@pytest.mark.parametrize("parts", [1, 3, 7])
def test_two_partitionings_of_the_same_rows_count_alike(
    client: Any, tmp_path: Path, parts: int
) -> None:
    table = long_tail(seed=1)
    one = tmp_path / "one.parquet"
    pq.write_table(table, one, row_group_size=1_000)
    folder = tmp_path / "hive"
    for split in ("test", "train", "val"):
        part = table.filter(pa.compute.equal(table.column("split"), split)).drop_columns(["split"])
        (folder / f"split={split}").mkdir(parents=True)
        for k, start in enumerate(range(0, part.num_rows, 900)):
            pq.write_table(
                part.slice(start, 900),
                folder / f"split={split}" / f"part-{k}.parquet",
                row_group_size=300,
            )
    engine = DaskEngine(client=client, parts=parts)
    a = engine.counts(resolve_source(one), "label", "split")
    b = engine.counts(resolve_source(folder), "label", "split")
    assert a.counts == b.counts and a.by_split == b.by_split and a.missing == b.missing
    assert b == LocalEngine().counts(resolve_source(folder), "label", "split")


class SumX:
    """A Reduce: the sum and count of column x."""

    def part(self, batch: pa.RecordBatch) -> tuple[float, int]:
        return float(pa.compute.sum(batch.column("x")).as_py() or 0.0), batch.num_rows

    def combine(self, parts: Any) -> tuple[float, int]:
        return sum(p[0] for p in parts), sum(p[1] for p in parts)


def test_reduce_equals_the_in_process_engine(client: Any, parquet: Path) -> None:
    source = resolve_source(parquet)
    ours = DaskEngine(client=client, parts=7).reduce(source, ["x"], SumX())
    local = LocalEngine().reduce(source, ["x"], SumX())
    assert ours[1] == local[1] == 5_000
    assert ours[0] == pytest.approx(local[0], rel=1e-12)


def test_cli_inspect_and_weights_on_dask(parquet: Path) -> None:
    for command in (["inspect", "--json"], ["weights", "--no-split"]):
        dask = runner.invoke(app, [command[0], str(parquet), *command[1:], "--engine", "dask"])
        local = runner.invoke(app, [command[0], str(parquet), *command[1:]])
        assert dask.exit_code == 0, dask.output
        assert json.loads(dask.stdout) == json.loads(local.stdout)
        assert "started a local Dask cluster; dashboard at" in dask.stderr


def test_what_dask_does_not_run_is_refused(tmp_path: Path, parquet: Path) -> None:
    csv = tmp_path / "m.csv"
    csv.write_text("label\na\nb\n")
    cases = [
        (["inspect", str(csv), "--engine", "dask"], "--engine dask reads Parquet files"),
        (
            ["inspect", str(parquet), "--scheduler", "tcp://x:1"],
            "--scheduler applies with --engine dask",
        ),
        (["inspect", str(parquet), "--engine", "spark"], "--engine 'spark' is not an engine"),
        (["weights", str(parquet), "--engine", "dask", "--sample-weights"], "counts single labels"),
        (["inspect", str(parquet), "--engine", "dask", "--check-files"], "leave out --engine dask"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
    with pytest.raises(RebalanceError, match="resampling on Dask is not there yet"):
        DaskEngine(client=object()).read(resolve_source(parquet))


def test_workers_must_run_this_version() -> None:
    class OtherVersion:
        def run(self, function: Any) -> dict[str, str]:
            return {"tcp://10.0.0.2:4000": "0.0.1"}

    with pytest.raises(
        RebalanceError, match="Dask worker tcp://10.0.0.2:4000 runs rebalance 0.0.1"
    ):
        DaskEngine._check_versions(OtherVersion())


def test_a_real_worker_reports_this_version(client: Any) -> None:
    DaskEngine._check_versions(client)  # no error: the workers import this very package
