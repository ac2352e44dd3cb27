"""``rebalance sample``: the epochs of PlanSampler as a table a data pipeline can read."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.sampling import PlanSampler, epochs_table


def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "m.csv"
    rows = [("a", "train")] * 30 + [("b", "train")] * 6 + [("c", "train")] * 2 + [("a", "val")] * 5
    path.write_text("label,split\n" + "".join(f"{label},{split}\n" for label, split in rows))
    return path


def test_sample_writes_each_epochs_positions(tmp_path: Path) -> None:
    source = manifest(tmp_path)
    out = tmp_path / "epochs.parquet"
    result = CliRunner().invoke(
        app, ["sample", str(source), "--target", "median", "--epochs", "3", "--seed", "2", "-o", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rebalance: 3 epoch(s) of 18 rows (median, seed 2)" in result.stderr
    table = pq.read_table(out)
    assert table.column_names == ["epoch", "position", "label"]
    rows = list(csv.DictReader(io.StringIO(source.read_text())))
    sampler = PlanSampler(str(source), target="median", seed=2)
    for epoch in range(3):
        part = table.filter(table.column("epoch").to_numpy() == epoch)
        positions = part.column("position").to_pylist()
        assert positions == sampler.epoch_positions(epoch).tolist()
        assert part.column("label").to_pylist() == [rows[p]["label"] for p in positions]
        assert all(rows[p]["split"] == "train" for p in positions)
        assert Counter(part.column("label").to_pylist()) == {"a": 6, "b": 6, "c": 6}
    assert epochs_table(str(source), epochs=3, target="median", seed=2).equals(table)


def test_sample_to_stdout_in_the_input_format(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sample", str(manifest(tmp_path)), "--from-split", "val",
                                      "--target", "max"])  # fmt: skip
    assert result.exit_code == 2  # one class in the val split: nothing to balance
    assert "only one class" in result.stderr
    result = CliRunner().invoke(app, ["sample", str(manifest(tmp_path))])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "epoch,position,label" and len(lines) == 1 + 90


def test_sample_repeat_factors_of_masks_to_stdout() -> None:
    import os

    root = Path(__file__).resolve().parent.parent / "samples"
    result = CliRunner().invoke(
        app, ["sample", str(root / "street.csv"), "--mask-col", "mask", "--target",
              "repeat-factor:0.5", "--epochs", "2", "-o", "-"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["epoch", "position", "repeat_factor"]
    sampler = PlanSampler(
        os.fspath(root / "street.csv"), target="repeat-factor:0.5", mask_col="mask"
    )
    first = [int(r["position"]) for r in rows if r["epoch"] == "0"]
    assert first == sampler.epoch_positions(0).tolist()
    assert "→ stdout" in result.stderr
    refused = CliRunner().invoke(app, ["sample", str(root / "street.csv"), "--mask-col", "mask"])
    assert refused.exit_code == 2 and "plans repeat factors: give target" in refused.stderr
