"""The engine seam: commands get counts, rows and writes from an Engine, never the file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import rebalance
from rebalance.engine import ENGINES, get_engine
from rebalance.engine.local import LocalEngine
from rebalance.errors import RebalanceError
from rebalance.manifest import resolve_destination, resolve_source
from rebalance.stats import LabelCounts


class Recording(LocalEngine):
    """The local engine, noting each call: proof that a command went through the seam."""

    name = "recording"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def columns(self, source):  # type: ignore[no-untyped-def]
        self.calls.append("columns")
        return super().columns(source)

    def counts(self, source, label_col, split_col):  # type: ignore[no-untyped-def]
        self.calls.append("counts")
        return super().counts(source, label_col, split_col)

    def read(self, source, columns=None, *, coded=()):  # type: ignore[no-untyped-def]
        self.calls.append("read")
        return super().read(source, columns, coded=coded)

    def take_write(self, source, positions, output, *, coded=(), number=None):  # type: ignore[no-untyped-def]
        self.calls.append("take_write")
        return super().take_write(source, positions, output, coded=coded, number=number)

    def write(self, parts, output, *, input_path=None):  # type: ignore[no-untyped-def]
        self.calls.append("write")
        return super().write(parts, output, input_path=input_path)


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    labels = rng.choice(["cat", "dog", "01", "emu"], p=[0.7, 0.2, 0.07, 0.03], size=2000)
    split = rng.choice(["train", "val"], p=[0.8, 0.2], size=2000)
    path = tmp_path / "m.parquet"
    pq.write_table(pa.table({"path": [f"{i}.jpg" for i in range(2000)], "label": labels, "split": split}), path, row_group_size=300)  # fmt: skip
    return path


def test_unknown_engine_names_the_choices() -> None:
    with pytest.raises(RebalanceError, match=r"--engine 'spark' is not an engine \(engines: local"):
        get_engine("spark")
    assert isinstance(get_engine(), LocalEngine) and "local" in ENGINES


def test_inspect_and_weights_count_through_the_engine(manifest: Path) -> None:
    engine = Recording()
    report = rebalance.inspect(manifest, engine=engine)
    assert engine.calls == ["columns", "counts"]
    assert report.overall.counts == rebalance.inspect(manifest).overall.counts
    engine.calls.clear()
    rebalance.manifest_weights(manifest, engine=engine)
    assert engine.calls == ["columns", "counts"]


@pytest.mark.parametrize(
    ("options", "calls"),
    [
        ({"target": "min", "mode": "under"}, ["columns", "read", "take_write", "write"]),  # streams
        # the input read whole in a thread while the label column is read and copies chosen
        ({"target": "max"}, ["columns", "read", "read", "write"]),
    ],
)
def test_resample_reads_and_writes_through_the_engine(manifest, tmp_path, options, calls) -> None:  # type: ignore[no-untyped-def]
    engine = Recording()
    out, ref = tmp_path / "out.parquet", tmp_path / "ref.parquet"
    options = {**options, "only_splits": ["train"], "seed": 3}
    rebalance.resample_file(manifest, out, engine=engine, **options)
    assert sorted(engine.calls) == sorted(calls)
    rebalance.resample_file(manifest, ref, **options)
    assert out.read_bytes() == ref.read_bytes()


class CountLabels:
    """A map-reduce job: per-batch Counters, summed."""

    def part(self, batch: pa.RecordBatch) -> Counter[str]:
        return Counter(batch.column("label").to_pylist())

    def combine(self, parts):  # type: ignore[no-untyped-def]
        return sum(parts, Counter())


def test_reduce_over_batches_equals_counts(manifest: Path) -> None:
    engine, source = get_engine(), resolve_source(manifest)
    reduced = engine.reduce(source, ["label"], CountLabels())
    counts: LabelCounts = engine.counts(source, "label", None)
    assert dict(reduced) == counts.counts
    by_split = engine.counts(source, "label", "split").by_split
    assert by_split is not None and sum(sum(c.values()) for c in by_split.values()) == 2000


def test_take_write_keeps_order_and_repeats(manifest: Path, tmp_path: Path) -> None:
    positions = np.array([5, 1999, 5, 0, 700], dtype=np.int64)
    for suffix in ("parquet", "csv"):
        src = manifest if suffix == "parquet" else tmp_path / "m.csv"
        if suffix == "csv":
            rebalance.write_manifest(pq.read_table(manifest), src)
        out = tmp_path / f"taken.{suffix}"
        get_engine().take_write(resolve_source(src), positions, resolve_destination(out))
        got = rebalance.read_manifest(out).column("path").to_pylist()
        assert got == [f"{i}.jpg" for i in positions.tolist()]


def test_a_refused_oversampling_plan_reads_only_the_label_columns(manifest, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Pre-flight before heavy work: the whole input is read only once the plan passed."""
    engine = Recording()
    with pytest.raises(RebalanceError, match="allow-large"):
        rebalance.resample_file(manifest, tmp_path / "o.parquet", engine=engine, target="300000", mode="over", all_splits=True)  # fmt: skip
    assert engine.calls == ["columns", "read"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.parquet"]
