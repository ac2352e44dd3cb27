"""The Dask engine gives the in-process engine's answers, whatever the pieces."""

from __future__ import annotations

import json
import os
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


def _event_loops() -> int:
    import threading

    return sum(t.name == "IO loop" for t in threading.enumerate())


def test_cli_inspect_and_weights_on_dask(parquet: Path) -> None:
    loops = _event_loops()
    for command in (["inspect", "--json"], ["weights", "--no-split"]):
        dask = runner.invoke(app, [command[0], str(parquet), *command[1:], "--engine", "dask"])
        local = runner.invoke(app, [command[0], str(parquet), *command[1:]])
        assert dask.exit_code == 0, dask.output
        assert json.loads(dask.stdout) == json.loads(local.stdout)
        assert "started a local Dask cluster; dashboard at" in dask.stderr
    # the cluster a command starts is closed with it (a leaked one kept its scheduler,
    # workers and event loop alive until the interpreter's exit)
    assert _event_loops() == loops


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


@pytest.mark.parametrize("parts", [1, 3, 7])
@pytest.mark.parametrize(
    "plan", [["--target", "50"], ["--target", "max"], ["--target", "median", "--provenance"]]
)
def test_random_resample_on_dask_writes_the_same_bytes(client: Any, parquet: Path, tmp_path: Path,
                                                       parts: int, plan: list[str]) -> None:  # fmt: skip
    from rebalance.resampling import resample_file

    local = tmp_path / "local.csv"
    dask = tmp_path / "dask.csv"
    options: dict[str, Any] = {
        "seed": 9,
        "only_splits": ["train"],
        "target": plan[1],
        "provenance": "--provenance" in plan,
    }
    resample_file(parquet, local, **options)
    resample_file(parquet, dask, engine=DaskEngine(client=client, parts=parts), **options)
    assert dask.read_bytes() == local.read_bytes()
    assert len(local.read_bytes().splitlines()) > 100


def test_resample_rows_do_not_depend_on_the_partitioning(client: Any, tmp_path: Path) -> None:
    from rebalance.resampling import resample_file

    table = long_tail(seed=2)
    folder = tmp_path / "hive"
    ordered = []
    for split in ("test", "train", "val"):
        part = table.filter(pa.compute.equal(table.column("split"), split)).drop_columns(["split"])
        (folder / f"split={split}").mkdir(parents=True)
        for k, start in enumerate(range(0, part.num_rows, 700)):
            pq.write_table(
                part.slice(start, 700),
                folder / f"split={split}" / f"part-{k}.parquet",
                row_group_size=250,
            )
        ordered.append(part.append_column("split", pa.array([split] * part.num_rows)))
    single = tmp_path / "single.parquet"
    pq.write_table(pa.concat_tables(ordered), single, row_group_size=2_000)
    outputs = []
    for source, parts in ((folder, 3), (single, 1), (single, 7)):
        out = tmp_path / f"out-{len(outputs)}.csv"
        resample_file(
            source,
            out,
            engine=DaskEngine(client=client, parts=parts),
            seed=4,
            target="max",
            only_splits=["train"],
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]


def test_cli_resample_on_dask_and_what_it_refuses(parquet: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.parquet"
    ok = runner.invoke(
        app,
        [
            "resample",
            str(parquet),
            "-o",
            str(out),
            "--only-split",
            "train",
            "--target",
            "100",
            "--engine",
            "dask",
        ],
    )
    assert ok.exit_code == 0, ok.output
    here = tmp_path / "h.parquet"
    runner.invoke(
        app, ["resample", str(parquet), "-o", str(here), "--only-split", "train", "--target", "100"]
    )
    assert pq.read_table(out).equals(pq.read_table(here))
    bad = runner.invoke(app, ["resample", str(parquet), "-o", str(tmp_path / "x.csv"), "--all-splits",
                              "--method", "smote", "--engine", "dask"])  # fmt: skip
    assert bad.exit_code == 2 and "resamples with --method random only" in bad.stderr
    assert not (tmp_path / "x.csv").exists()


def test_a_progress_bar_advances_once_per_piece(
    client: Any, parquet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contextlib import contextmanager

    from rebalance import render

    seen: list[tuple[str, float | None, int]] = []

    @contextmanager
    def recording(description: str, total: float | None = None) -> Any:
        ticks = [0]

        class Tick:
            def advance(self, n: float) -> None:
                ticks[0] += int(n)

        yield Tick()
        seen.append((description, total, ticks[0]))

    monkeypatch.setattr(render, "progress", recording)
    DaskEngine(client=client, parts=5).counts(resolve_source(parquet), "label", None)
    assert seen == [("counting pieces", 5, 5)]


def test_a_folder_output_is_written_by_the_pieces(
    client: Any, parquet: Path, tmp_path: Path
) -> None:
    from rebalance.resampling import resample_file

    options: dict[str, Any] = {"seed": 5, "only_splits": ["train"], "target": 60}
    here = tmp_path / "here.parquet"
    resample_file(parquet, here, **options)
    out = tmp_path / "out"
    result = resample_file(parquet, f"{out}/", engine=DaskEngine(client=client, parts=3), **options)
    assert sorted(os.listdir(out)) == [f"part-{i:05d}.parquet" for i in range(3)]
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []  # staging gone
    ours, local = pq.read_table(out), pq.read_table(here)
    # the workers wrote the paths for the folder one level down (relative to the manifest)
    assert all(p.startswith("../img/") for p in ours.column("path").to_pylist())
    ours = ours.set_column(
        0, "path", pa.array([p[3:] for p in ours.column("path").to_pylist()], pa.string())
    )
    key = [("path", "ascending"), ("x", "ascending")]
    assert ours.sort_by(key).equals(local.sort_by(key))  # the same rows, piece by piece
    assert result.table.num_rows == local.num_rows
    assert sum(result.produced.values()) + result.passthrough_rows == local.num_rows


def test_sort_output_on_dask_is_the_in_process_file(
    client: Any, parquet: Path, tmp_path: Path
) -> None:
    from rebalance.resampling import resample_file

    options: dict[str, Any] = {"seed": 5, "all_splits": True, "target": 80, "id_col": "path",
                               "sort_output": True}  # fmt: skip
    resample_file(parquet, tmp_path / "a.parquet", **options)
    resample_file(
        parquet, tmp_path / "b.parquet", engine=DaskEngine(client=client, parts=7), **options
    )
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_an_engine_made_from_its_name_is_closed_after_the_call(
    parquet: Path, tmp_path: Path
) -> None:
    from rebalance.resampling import resample_file
    from rebalance.stats import inspect

    loops = _event_loops()
    report = inspect(parquet, engine="dask", detect_split=False)
    assert report.overall.rows == pq.read_metadata(parquet).num_rows
    resample_file(parquet, tmp_path / "o.parquet", engine="dask", target="100", detect_split=False)
    assert pq.read_table(tmp_path / "o.parquet").num_rows > 0
    assert _event_loops() == loops


def test_an_engine_object_stays_open_until_its_with_block_ends(parquet: Path) -> None:
    from rebalance.stats import inspect

    loops = _event_loops()
    with DaskEngine() as dask:
        first = inspect(parquet, engine=dask, detect_split=False)
        assert _event_loops() > loops  # the cluster lives on between calls
        again = inspect(parquet, engine=dask, detect_split=False)
        assert first.to_dict() == again.to_dict()
    assert _event_loops() == loops
