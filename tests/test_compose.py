"""Every output feeds the next command: paths follow the manifest, provenance chains,
gates on bad files, and destinations that name folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.manifest import read_manifest

runner = CliRunner()


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REBALANCE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """A/m.csv: 30 'big' and 6 'small' images in A/img/, with masks, and a split column."""
    rng = np.random.default_rng(1)
    folder = tmp_path / "A"
    (folder / "img").mkdir(parents=True)
    (folder / "mask").mkdir()
    rows = ["path,mask,label,split"]
    for i in range(36):
        label = "big" if i < 30 else "small"
        pixels = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img/{i}.png")
        Image.fromarray((pixels[:, :, 0] > 128).astype(np.uint8)).save(folder / f"mask/{i}.png")
        split = "val" if i % 6 == 5 else "train"
        rows.append(f"img/{i}.png,mask/{i}.png,{label},{split}")
    (folder / "m.csv").write_text("\n".join(rows) + "\n")
    return folder / "m.csv"


def run(args: list[str], cwd: Path) -> object:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, args)
    finally:
        os.chdir(old)


def test_cluster_then_augment_then_inspect_from_three_folders(images: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "B").mkdir()
    (tmp_path / "C").mkdir()
    cluster = run(
        ["resample", "../A/m.csv", "-o", "../B/c.csv", "--only-split", "train",
         "--method", "cluster", "--target", "10", "--provenance"],
        work,
    )  # fmt: skip
    assert cluster.exit_code == 0, cluster.output
    augment = run(
        ["resample", "../B/c.csv", "-o", "../C/aug.parquet", "--only-split", "train",
         "--method", "augment", "--target", "max", "--image-dir", "../C/aug", "--provenance"],
        work,
    )  # fmt: skip
    assert augment.exit_code == 0, augment.output
    third = tmp_path / "elsewhere"
    third.mkdir()
    check = run(
        ["inspect", str(tmp_path / "C/aug.parquet"), "--check-files", "--fail-on-bad-files",
         "--json"],
        third,
    )  # fmt: skip
    assert check.exit_code == 0, check.output
    files = json.loads(check.stdout)["files"]
    out = read_manifest(tmp_path / "C/aug.parquet")
    assert files["ok"] == files["rows"] == out.num_rows and files["bad"] == 0
    # every path and mask resolves against the output's own folder
    for column in ("path", "mask"):
        for p in out.column(column).to_pylist():
            assert (tmp_path / "C" / p).is_file(), p
    rows = out.to_pylist()
    new = [r for r in rows if r["rebalance_augment"] is not None]
    assert new and all(r["rebalance_synthetic"] for r in new)
    assert all(not r["rebalance_synthetic"] for r in rows if r["rebalance_augment"] is None)
    # lineage: source rows point into B/c.csv, origin rows into A/m.csv
    middle = read_manifest(tmp_path / "B/c.csv").to_pylist()
    first = read_manifest(images).to_pylist()
    for r in rows:
        parent = middle[r["rebalance_source_row"]]
        assert r["label"] == parent["label"]
        origin = first[r["rebalance_origin_row"]]
        assert int(parent["rebalance_source_row"]) == r["rebalance_origin_row"]
        if r["rebalance_augment"] is None:
            assert (tmp_path / "C" / r["path"]).resolve() == (
                images.parent / origin["path"]
            ).resolve()
        else:
            parent_file = (tmp_path / "C" / r["rebalance_parent"]).resolve()
            assert parent_file == (images.parent / origin["path"]).resolve()


def test_a_resample_of_a_resample_chains_provenance_without_the_flag(
    images: Path, tmp_path: Path
) -> None:
    first = tmp_path / "one.csv"
    result = runner.invoke(
        app, ["resample", str(images), "-o", str(first), "--all-splits", "--provenance"]
    )
    assert result.exit_code == 0, result.output
    second = tmp_path / "two.csv"
    result = runner.invoke(
        app,
        ["resample", str(first), "-o", str(second), "--all-splits", "--method", "augment",
         "--target", "40", "--image-dir", str(tmp_path / "aug")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "the input carries provenance" in result.stderr
    out = read_manifest(second).to_pylist()
    one = read_manifest(first).to_pylist()
    augmented = [r for r in out if r["rebalance_augment"]]
    assert augmented and all(r["rebalance_synthetic"] == "True" for r in augmented)
    for r in out:
        assert (
            r["rebalance_origin_row"] == one[int(r["rebalance_source_row"])]["rebalance_source_row"]
        )


def test_a_synthetic_row_stays_synthetic(tmp_path: Path) -> None:
    from rebalance.provenance import SYNTHETIC
    from rebalance.resampling import resample

    table = pa.table(
        {
            "x": [float(i) for i in range(8)],
            "label": ["a"] * 6 + ["b"] * 2,
            "rebalance_source_row": pa.array([0, 1, 2, 3, 4, None, 6, 7], pa.int64()),
            SYNTHETIC: [False, False, False, False, False, True, False, False],
        }
    )
    out = resample(table, target="max", seed=3).table
    flags = out.column(SYNTHETIC).to_pylist()
    sources = out.column("rebalance_source_row").to_pylist()
    origins = out.column("rebalance_origin_row").to_pylist()
    assert out.column_names[-3:] == ["rebalance_source_row", SYNTHETIC, "rebalance_origin_row"]
    assert [f for s, f in zip(sources, flags, strict=True) if s == 5] == [True]
    assert origins[:8] == [0, 1, 2, 3, 4, None, 6, 7]
    # copies of row 6 and 7 (class b, 2 -> 6 rows) keep their origin
    assert sorted(origins[8:]) == [6, 6, 7, 7]


@pytest.mark.parametrize(
    "mode,expect",
    [("relative", "../A/img/"), ("absolute", None), ("as-is", "img/")],
)
def test_paths_modes(images: Path, tmp_path: Path, mode: str, expect: str | None) -> None:
    out = tmp_path / "B" / "o.csv"
    out.parent.mkdir()
    result = runner.invoke(
        app, ["resample", str(images), "-o", str(out), "--all-splits", "--paths", mode]
    )
    assert result.exit_code == 0, result.output
    paths = read_manifest(out).column("path").to_pylist()
    masks = read_manifest(out).column("mask").to_pylist()
    if expect is None:
        assert all(p.startswith(str(images.parent / "img")) for p in paths)
        assert all(os.path.isabs(m) for m in masks)
    else:
        assert all(p.startswith(expect) for p in paths)


def test_paths_on_stdout_are_as_read_and_said(images: Path) -> None:
    result = runner.invoke(app, ["resample", str(images), "-o", "-", "--all-splits"])
    assert result.exit_code == 0, result.output
    assert "img/0.png,mask/0.png" in result.stdout
    assert "are written as read, relative to" in result.stderr


def test_parquet_fast_paths_rewrite_paths_too(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    n = 50
    table = pa.table(
        {
            "path": [f"img/{i}.png" for i in range(n)],
            "label": ["a"] * 40 + ["b"] * 10,
            "absolute": [f"/data/{i}.png" for i in range(n)],
        }
    )
    pq.write_table(table, tmp_path / "data" / "m.parquet")
    for target in ("max", "10"):  # streamed oversampling, streamed row choice
        out = tmp_path / f"o{target}.parquet"
        result = runner.invoke(
            app, ["resample", str(tmp_path / "data/m.parquet"), "-o", str(out), "--target", target]
        )
        assert result.exit_code == 0, result.output
        written = pq.read_table(out)
        assert all(p.startswith("data/img/") for p in written.column("path").to_pylist())
        assert written.schema == table.schema


def test_fail_on_bad_files_is_a_gate(images: Path) -> None:
    ok = runner.invoke(app, ["inspect", str(images), "--check-files", "--fail-on-bad-files"])
    assert ok.exit_code == 0, ok.output
    (images.parent / "img/3.png").unlink()
    bad = runner.invoke(app, ["inspect", str(images), "--check-files", "--fail-on-bad-files"])
    assert bad.exit_code == 1
    assert "gate failed: 1 bad image file(s) of 36" in bad.stderr
    assert "img/3.png" in bad.stderr
    plain = runner.invoke(app, ["inspect", str(images), "--check-files"])
    assert plain.exit_code == 0
    alone = runner.invoke(app, ["inspect", str(images), "--fail-on-bad-files"])
    assert alone.exit_code == 2 and "give --check-files too" in alone.stderr


def test_an_existing_folder_needs_a_trailing_slash(images: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    result = runner.invoke(app, ["resample", str(images), "-o", str(folder), "--all-splits"])
    assert result.exit_code == 2
    assert "is a folder; -o needs a file name" in result.stderr
    assert f"write {folder}/ for a folder of Parquet parts" in result.stderr
    assert list(folder.iterdir()) == []
    parts = runner.invoke(app, ["resample", str(images), "-o", f"{folder}/", "--all-splits"])
    assert parts.exit_code == 0, parts.output
    assert [p.name for p in folder.iterdir()] == ["part-00000.parquet"]


def test_smote_with_features_on_a_path_manifest_says_paths_are_empty(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = ["path,label,f1,f2"]
    for i in range(40):
        label = "a" if i < 30 else "b"
        rows.append(f"img/{i}.png,{label},{rng.normal():.4f},{rng.normal():.4f}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "o.csv"
    result = runner.invoke(
        app,
        ["resample", str(tmp_path / "m.csv"), "-o", str(out), "--method", "smote",
         "--features", "f*", "--provenance"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "their 'path' is empty (for new images use --method augment)" in result.stderr
    written = read_manifest(out).to_pylist()
    synthetic = [r for r in written if r["rebalance_synthetic"] == "True"]
    assert len(synthetic) == 20 and all(not r["path"] for r in synthetic)


def test_sample_weights_written_elsewhere_keep_paths_that_resolve(
    images: Path, tmp_path: Path
) -> None:
    out = tmp_path / "B" / "weighted.csv"
    out.parent.mkdir()
    result = runner.invoke(app, ["weights", str(images), "--sample-weights", "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = read_manifest(out)
    for p in table.column("path").to_pylist():
        assert (out.parent / p).is_file(), p
    check = runner.invoke(app, ["inspect", str(out), "--check-files", "--fail-on-bad-files"])
    assert check.exit_code == 0, check.output
