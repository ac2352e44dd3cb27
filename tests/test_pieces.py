"""Random resampling in pieces: key histograms give each class's exact cut-off, so any piece
layout (batches, files, Dask tasks) chooses the in-process rows; folder outputs and
``--sort-output``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import rebalance
from rebalance.cli import app
from rebalance.errors import RebalanceError
from rebalance.samplers import cutoff
from rebalance.samplers import random as rnd

runner = CliRunner()


def pieced(
    codes: np.ndarray, keys: rnd.U64, targets: list[int], bounds: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The three passes over pieces cut at ``bounds``; (kept rows, added rows) as ``select``."""
    k = len(targets)
    cuts = cutoff.Cuts.plan(rnd.bincount(codes, k), np.asarray(targets))
    edges = [0, *bounds, len(codes)]
    spans = list(zip(edges[:-1], edges[1:], strict=True))
    if cuts.partial.any():
        hist = sum(cutoff.histogram(codes[a:b], keys[a:b], cuts) for a, b in spans)
        cuts = cuts.from_histogram(np.asarray(hist))
        found = [cutoff.boundary_rows(codes[a:b], keys[a:b], a, cuts) for a, b in spans]
        cuts = cuts.settle(*(np.concatenate([f[i] for f in found]) for i in range(3)))
    kept, added, classes, copies = [], [], [], []
    for a, b in spans:
        chosen = cutoff.choose(codes[a:b], keys[a:b], a, cuts)
        kept.append(np.arange(a, b) if chosen.kept is None else chosen.kept + a)
        added.append(chosen.added + a)
        classes.append(chosen.added_class)
        copies.append(chosen.added_copy)
    order = cutoff.copy_order(np.concatenate(classes), np.concatenate(copies))
    return np.concatenate(kept), np.concatenate(added)[order]


@settings(max_examples=150, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 60), min_size=1, max_size=6),
    targets=st.lists(st.integers(0, 150), min_size=6, max_size=6),
    cuts=st.lists(st.integers(0, 400), max_size=5),
    passthrough=st.integers(0, 20),
    crowded=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_any_piece_layout_chooses_the_rows_of_select(
    sizes: list[int],
    targets: list[int],
    cuts: list[int],
    passthrough: int,
    crowded: bool,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    codes = np.concatenate([np.repeat(np.arange(len(sizes)), sizes), np.full(passthrough, -1)])
    codes = rng.permutation(codes).astype(np.int32)
    n = len(codes)
    # crowded: few distinct ids, so many rows share a key (ties settle by position)
    ids = rng.integers(0, 3, n).astype(np.uint64) if crowded else None
    keys = rnd.RowKeys(seed % 1000, ids).at(np.arange(n, dtype=np.int64))
    wanted = targets[: len(sizes)]
    bounds = sorted({c % (n + 1) for c in cuts})
    kept, added = pieced(codes, keys, wanted, bounds)
    expected = rnd.select(codes, keys, wanted)
    assert np.array_equal(kept, np.arange(n) if expected.kept is None else expected.kept)
    assert np.array_equal(added, expected.added)


def test_large_classes_cut_exactly_with_few_boundary_rows() -> None:
    rng = np.random.default_rng(0)
    codes = rng.choice(3, size=200_000, p=[0.9, 0.09, 0.01]).astype(np.int32)
    keys = rnd.row_keys(len(codes), seed=5)
    targets = [1_000, 30_000, 4_321]
    kept, added = pieced(codes, keys, targets, [50_000, 120_000, 120_001])
    expected = rnd.select(codes, keys, targets)
    assert expected.kept is not None
    assert np.array_equal(kept, expected.kept) and np.array_equal(added, expected.added)
    # the boundary bucket holds a sliver of each cut class, not the class
    cuts = cutoff.Cuts.plan(rnd.bincount(codes, 3), np.asarray(targets))
    cuts = cuts.from_histogram(cutoff.histogram(codes, keys, cuts))
    boundary = cutoff.boundary_rows(codes, keys, 0, cuts)[0]
    assert 0 < len(boundary) < 0.02 * len(codes)


def long_tail(n: int = 6_000, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    labels = rng.zipf(1.5, n).astype(str).astype(object)
    labels[rng.random(n) < 0.01] = None  # rows without a label
    return pa.table({
        "path": [f"img/{i:05d}.jpg" for i in range(n)],
        "label": pa.array(labels, pa.string()),
        "split": rng.choice(["train", "val"], n, p=[0.8, 0.2]),
        "x": rng.normal(size=n),
    })  # fmt: skip


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    """The same rows as one file and as a hive-partitioned folder (by file, split apart)."""
    table = long_tail()
    single = tmp_path / "all.parquet"
    pq.write_table(table, single, row_group_size=700)
    folder = tmp_path / "ds"
    for i, start in enumerate(range(0, table.num_rows, 1_700)):
        (folder / f"batch={i}").mkdir(parents=True)
        pq.write_table(table.slice(start, 1_700), folder / f"batch={i}" / "p.parquet")
    return single, folder


PLANS = [
    {"target": 40, "all_splits": True},
    {"target": 400, "all_splits": True, "id_col": "path"},
    {"target": "median", "only_splits": ["train"]},
    {"target": "max", "only_splits": ["train"], "provenance": True},
    {"target": 75, "mode": "under", "all_splits": True, "missing": "drop"},
]


@pytest.mark.parametrize("plan", PLANS)
def test_a_folder_resamples_to_the_rows_of_the_file(
    data: tuple[Path, Path], tmp_path: Path, plan: dict
) -> None:
    single, folder = data
    one = rebalance.resample_file(single, tmp_path / "a.parquet", seed=4, **plan)
    many = rebalance.resample_file(folder, tmp_path / "b.parquet", seed=4, **plan)
    a = pq.read_table(tmp_path / "a.parquet")
    b = pq.read_table(tmp_path / "b.parquet").drop_columns(["batch"])
    assert a.equals(b)
    assert one.produced == many.produced and one.passthrough_rows == many.passthrough_rows
    assert many.table.num_rows == b.num_rows
    assert set(many.table.column_names) >= {"label", "split"}


def test_a_folder_output_is_published_whole(data: tuple[Path, Path], tmp_path: Path) -> None:
    single, _ = data
    out = tmp_path / "balanced"
    # as read: the folder and the file then hold the same bytes (paths follow the folder
    # by default, one level down: tests/test_compose.py)
    args = ["--target", "300", "--all-splits", "--seed", "2", "--paths", "as-is"]
    result = runner.invoke(app, ["resample", str(single), "-o", f"{out}/", *args])
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(out)) == ["part-00000.parquet"]
    file = runner.invoke(app, ["resample", str(single), "-o", str(tmp_path / "f.parquet"), *args])
    assert file.exit_code == 0
    assert pq.read_table(out).equals(pq.read_table(tmp_path / "f.parquet"))
    # never into a folder that holds files; nothing else is left beside it
    again = runner.invoke(app, ["resample", str(single), "-o", f"{out}/", *args])
    assert again.exit_code == 2
    assert "not empty" in again.output and "Traceback" not in again.output
    assert sorted(os.listdir(tmp_path)) == ["all.parquet", "balanced", "ds", "f.parquet"]
    wrong = runner.invoke(app, ["resample", str(single), "-o", f"{tmp_path}/x/", "--output-format", "csv", *args])  # fmt: skip
    assert wrong.exit_code == 2 and "Parquet files" in wrong.output


def test_a_failed_folder_write_leaves_nothing(
    data: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rebalance.resampling import pieces as resample_pieces

    _, folder = data
    calls = {"n": 0}
    real = resample_pieces.cutoff.choose

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(resample_pieces.cutoff, "choose", failing)
    out = tmp_path / "out"
    with pytest.raises(
        RebalanceError, match=rf"^{out}/part-00000.parquet: cannot write \(No space"
    ):
        rebalance.resample_file(folder, f"{out}/", target=50, all_splits=True)
    assert sorted(os.listdir(tmp_path)) == ["all.parquet", "ds"]


def test_sort_output_is_one_file_for_any_partitioning(
    data: tuple[Path, Path], tmp_path: Path
) -> None:
    single, folder = data
    table = pq.read_table(single)
    # the same rows, other files, other order
    other = tmp_path / "other"
    other.mkdir()
    pq.write_table(table.slice(2_500), other / "a.parquet", row_group_size=999)
    pq.write_table(table.slice(0, 2_500).take(np.arange(2_499, -1, -1)), other / "b.parquet")
    args = ["--target", "120", "--all-splits", "--seed", "9", "--id-col", "path", "--sort-output"]
    outs = []
    for i, source in enumerate([single, other]):
        out = tmp_path / f"s{i}.parquet"
        result = runner.invoke(app, ["resample", str(source), "-o", str(out), *args])
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    plain = runner.invoke(app, ["resample", str(other), "-o", str(tmp_path / "p.parquet"), *args[:-1]])  # fmt: skip
    assert plain.exit_code == 0
    assert (tmp_path / "p.parquet").read_bytes() != outs[0]  # input order otherwise
    labels = pq.read_table(tmp_path / "s0.parquet").column("label").to_pylist()
    present = [x for x in labels if x is not None]
    assert present == sorted(present)  # label order (codes follow sorted labels)
    refused = runner.invoke(app, ["resample", str(single), "-o", str(tmp_path / "q.parquet"),
                                  "--method", "smote", "--sort-output", "--all-splits"])  # fmt: skip
    assert refused.exit_code == 2 and "--sort-output" in refused.output


def test_folder_memory_is_bounded_by_a_piece(data: tuple[Path, Path], tmp_path: Path) -> None:
    """The folder path never reads the whole manifest: it asks the engine for pieces only."""
    from rebalance.engine.local import LocalEngine

    seen: list[int] = []

    class Pieces(LocalEngine):
        def read(self, source, columns=None, *, coded=()):  # type: ignore[no-untyped-def]
            raise AssertionError("the whole manifest was read")

        def map_pieces(self, source, columns, fn, *, coded=()):  # type: ignore[no-untyped-def]
            def noted(table, first_row):  # type: ignore[no-untyped-def]
                seen.append(table.num_rows)
                return fn(table, first_row)

            return super().map_pieces(source, columns, noted, coded=coded)

    _, folder = data
    rebalance.resample_file(
        folder, tmp_path / "o.parquet", target=50, all_splits=True, engine=Pieces()
    )
    assert seen and max(seen) <= 1_700


def test_an_existing_empty_folder_takes_the_output(data: tuple[Path, Path], tmp_path: Path) -> None:
    _, folder = data
    out = tmp_path / "empty"
    out.mkdir()
    args = ["--target", "30", "--all-splits", "--seed", "3", "--paths", "as-is"]
    bare = runner.invoke(app, ["resample", str(folder), "-o", str(out), *args])
    assert bare.exit_code == 2 and "is a folder" in bare.stderr  # a folder is written as out/
    result = runner.invoke(app, ["resample", str(folder), "-o", f"{out}/", *args])
    assert result.exit_code == 0, result.output
    assert os.listdir(out) == ["part-00000.parquet"]
    file = runner.invoke(app, ["resample", str(folder), "-o", str(tmp_path / "f.parquet"), *args])
    assert file.exit_code == 0
    assert pq.read_table(out / "part-00000.parquet").equals(pq.read_table(tmp_path / "f.parquet"))
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".rebalance-")]


def test_a_failed_command_publishes_no_folder(
    data: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside a command the folder is published only once everything else succeeded: a
    --plan-out that fails after the rows are written leaves no folder and no staging one."""
    from rebalance import output

    def failing(path, text, **kwargs):  # type: ignore[no-untyped-def]
        raise RebalanceError(f"{path}: cannot write (disk full)")

    monkeypatch.setattr(output, "write_text", failing)
    single, _ = data
    out = tmp_path / "out"
    result = runner.invoke(app, ["resample", str(single), "-o", f"{out}/", "--target", "30",
                                 "--all-splits", "--plan-out", str(tmp_path / "p.json")])  # fmt: skip
    assert result.exit_code == 2 and "disk full" in result.output
    assert not out.exists() and not [p for p in os.listdir(tmp_path) if p.startswith(".rebalance-")]
