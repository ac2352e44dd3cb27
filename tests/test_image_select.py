"""Similarity-aware undersampling (cluster, dedup) on image features and embeddings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

import rebalance
from rebalance.cli import app
from rebalance.images import features as feats
from rebalance.images.select import cluster_keep, dedup_keep
from rebalance.manifest import read_manifest
from tests.shapes import shapes_manifest

runner = CliRunner()


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("REBALANCE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def shapes(tmp_path: Path) -> Path:
    """Circles (60, on random backgrounds) and squares (12), plus two planted near-duplicates."""
    return shapes_manifest(tmp_path, 60, 12)


def coverage(X: np.ndarray, kept: np.ndarray) -> float:
    """Mean distance from every row to its nearest kept row: lower spans the class better."""
    d = np.linalg.norm(X[:, None, :] - X[None, kept, :], axis=2)
    return float(d.min(axis=1).mean())


def test_cluster_spans_the_class_better_than_random() -> None:
    rng = np.random.default_rng(1)
    # one class made of 6 well-separated blobs of very different sizes
    sizes = [200, 100, 40, 20, 10, 5]
    X = np.concatenate(
        [rng.normal(loc=10 * i, scale=0.5, size=(n, 2)) for i, n in enumerate(sizes)]
    )
    codes = np.zeros(len(X), dtype=np.int64)
    kept = cluster_keep(X, codes, {0: 12}, seed=0)
    assert len(kept) == 12 and len(set(kept.tolist())) == 12
    random_cover = np.mean(
        [coverage(X, np.random.default_rng(s).choice(len(X), 12, replace=False)) for s in range(20)]
    )
    assert coverage(X, kept) < 0.5 * random_cover
    # every blob keeps a representative; a random 12 of 375 usually misses the small ones
    blob = np.repeat(np.arange(6), sizes)
    assert set(blob[kept].tolist()) == set(range(6))


def test_dedup_removes_the_planted_duplicates_and_nothing_else(
    shapes: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app, ["resample", str(shapes), "-o", str(out), "--method", "dedup", "--threshold", "0.1"]
    )
    assert result.exit_code == 0, result.output
    paths = read_manifest(out).column("path").to_pylist()
    assert len(paths) == 72 and "img/dup3.jpg" not in paths and "img/dup7.jpg" not in paths
    assert "dedup removed 2 near-duplicate row(s): 'circle' 2" in result.stderr


def test_dedup_keeps_the_first_in_input_order() -> None:
    X = np.array([[0.0], [0.05], [1.0], [0.02], [1.04], [5.0]])
    codes = np.array([0, 0, 0, 0, 0, 1])
    assert dedup_keep(X, codes, 0.1).tolist() == [0, 2, 5]
    assert dedup_keep(X, codes, 0.05).tolist() == [0, 1, 2, 5]  # 0.05 apart is not below D


def test_cluster_on_images_keeps_real_rows(shapes: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    args = [
        "resample",
        str(shapes),
        "-o",
        str(out),
        "--method",
        "cluster",
        "--target",
        "12",
        "--provenance",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = read_manifest(out)
    assert table.num_rows == 24
    assert {v.lower() for v in table.column("rebalance_synthetic").to_pylist()} == {"false"}
    source = read_manifest(shapes)
    for row, src in zip(
        table.to_pylist(), table.column("rebalance_source_row").to_pylist(), strict=True
    ):
        assert source.slice(int(src), 1).to_pylist()[0]["path"] == row["path"]  # exact input rows
    again = tmp_path / "again.csv"
    runner.invoke(app, [*args[:3], str(again), *args[4:]])
    assert again.read_bytes() == out.read_bytes()  # same seed, same bytes


def test_second_run_reads_no_image(shapes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = feats.descriptor

    def counting(path: str) -> np.ndarray:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(feats, "descriptor", counting)
    table = read_manifest(shapes)
    first = rebalance.resample(
        table, method="cluster", target=12, workers=1, root=str(shapes.parent)
    )
    assert len(calls) == 74
    second = rebalance.resample(
        table, method="cluster", target=12, workers=1, root=str(shapes.parent)
    )
    assert len(calls) == 74 and second.table.equals(first.table)
    (shapes.parent / "img/0.png").write_bytes((shapes.parent / "img/1.png").read_bytes())
    rebalance.resample(table, method="cluster", target=12, workers=1, root=str(shapes.parent))
    assert calls[74:] == [str(shapes.parent / "img/0.png")]  # a changed file is read again


def test_worker_processes_give_the_same_features(shapes: Path) -> None:
    paths = [str(shapes.parent / f"img/{i}.png") for i in range(20)]
    one = feats.image_features(paths, workers=1, cache_dir="")
    two = feats.image_features(paths, workers=2, cache_dir="")
    np.testing.assert_array_equal(one, two)


def test_descriptor_reads_every_mode(tmp_path: Path) -> None:
    images = {
        "rgba.png": Image.new("RGBA", (20, 10), (10, 200, 30, 128)),
        "p.png": Image.new("P", (20, 10)),
        "l.png": Image.new("L", (20, 10), 90),
        "deep.png": Image.fromarray(np.arange(200, dtype=np.uint16).reshape(10, 20) * 300),
    }
    for name, im in images.items():
        im.save(tmp_path / name)
        vector = feats.descriptor(str(tmp_path / name))
        assert vector.shape == (feats.DIMENSIONS,) and np.isfinite(vector).all()
    rotated = Image.new("RGB", (40, 20), "red")
    ImageDraw.Draw(rotated).rectangle([0, 0, 9, 19], fill="blue")
    exif = rotated.getexif()
    exif[0x0112] = 6  # orientation: rotate 90° on display
    rotated.save(tmp_path / "exif.jpg", exif=exif)
    upright = rotated.rotate(-90, expand=True)
    upright.save(tmp_path / "upright.jpg")
    a, b = (
        feats.descriptor(str(tmp_path / "exif.jpg")),
        feats.descriptor(str(tmp_path / "upright.jpg")),
    )
    assert np.linalg.norm(a - b) < 0.2


def test_user_embeddings_from_a_list_column(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(50, 8)).astype(np.float32)
    table = pa.table({"label": ["a"] * 40 + ["b"] * 10, "embedding": list(emb), "id": range(50)})
    pq.write_table(table, tmp_path / "emb.parquet")
    out = tmp_path / "out.parquet"
    args = [
        "resample",
        str(tmp_path / "emb.parquet"),
        "-o",
        str(out),
        "--method",
        "cluster",
        "--features",
        "embedding",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    written = pq.read_table(out)
    assert written.num_rows == 20 and written.schema.equals(table.schema)
    ragged = pa.table({"label": ["a", "a", "b"], "embedding": [[1.0], [1.0, 2.0], [3.0]]})
    with pytest.raises(rebalance.RebalanceError, match="vectors of 1 to 2 values"):
        rebalance.resample(ragged, method="cluster", features=["embedding"], target=1)


def test_neighbour_methods_on_images_only_remove_rows(shapes: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    ok = runner.invoke(
        app,
        [
            "resample",
            str(shapes),
            "-o",
            str(out),
            "--method",
            "near-miss",
            "--image-features",
            "builtin",
            "--plan-out",
            str(tmp_path / "p.json"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads((tmp_path / "p.json").read_text())["rows_synthetic"] == 0
    smote = runner.invoke(
        app,
        [
            "resample",
            str(shapes),
            "-o",
            str(out),
            "--method",
            "smote",
            "--image-features",
            "builtin",
        ],
    )
    assert smote.exit_code == 2 and "a synthetic row has no image" in smote.stderr
    missing = runner.invoke(app, ["resample", str(shapes), "-o", str(out), "--method", "dedup"])
    assert missing.exit_code == 2 and "--threshold" in missing.stderr


def test_a_bad_image_is_named(shapes: Path, tmp_path: Path) -> None:
    (shapes.parent / "img/5.png").write_text("broken")
    result = runner.invoke(
        app,
        [
            "resample",
            str(shapes),
            "-o",
            str(tmp_path / "o.csv"),
            "--method",
            "cluster",
            "--target",
            "12",
        ],
    )
    assert (
        result.exit_code == 2 and "img/5.png" in result.stderr and "Traceback" not in result.output
    )


def test_skip_bad_leaves_out_broken_images(shapes: Path, tmp_path: Path) -> None:
    (shapes.parent / "img/5.png").write_text("broken")
    (shapes.parent / "img/6.png").unlink()
    out = tmp_path / "o.csv"
    args = [
        "resample",
        str(shapes),
        "-o",
        str(out),
        "--method",
        "cluster",
        "--target",
        "12",
        "--provenance",
    ]
    result = runner.invoke(app, [*args, "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert "--skip-bad left out 2 row(s)" in result.stderr
    table = read_manifest(out)
    assert not {"img/5.png", "img/6.png"} & set(table.column("path").to_pylist())
    source = read_manifest(shapes).column("path").to_pylist()
    for path, src in zip(
        table.column("path").to_pylist(),
        table.column("rebalance_source_row").to_pylist(),
        strict=True,
    ):
        assert source[int(src)] == path  # provenance still points at input rows
    augment = runner.invoke(
        app,
        [
            "resample",
            str(shapes),
            "-o",
            str(out),
            "--method",
            "augment",
            "--image-dir",
            str(tmp_path / "a"),
        ],
    )
    assert augment.exit_code == 2
    assert "2 of 74 image file(s) in column 'path' are bad (1 missing, 1 corrupt)" in augment.stderr
    assert "--skip-bad" in augment.stderr and not (tmp_path / "a").exists()
    plain = runner.invoke(app, ["resample", str(shapes), "-o", str(out), "--skip-bad"])
    assert plain.exit_code == 2 and "applies to the methods that read images" in plain.stderr


@pytest.mark.parametrize(
    "method",
    [
        ["--method", "cluster", "--target", "12"],
        ["--method", "dedup", "--threshold", "0.05"],
        ["--method", "augment", "--image-dir", "AUG"],
        ["--method", "near-miss", "--image-features", "builtin"],
    ],
    ids=["cluster", "dedup", "augment", "near-miss"],
)
def test_every_image_method_reports_bad_images_the_same_way(
    shapes: Path, tmp_path: Path, method: list[str]
) -> None:
    (shapes.parent / "img/5.png").write_text("broken")
    (shapes.parent / "img/6.png").unlink()
    (shapes.parent / "img/7.png").unlink()
    (shapes.parent / "img/7.png").mkdir()
    out = tmp_path / "o.csv"
    args = [a.replace("AUG", str(tmp_path / "aug")) for a in method]
    result = runner.invoke(app, ["resample", str(shapes), "-o", str(out), *args])
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in result.output
    # scanned first: every bad file counted by kind, the first ones named with why
    assert "3 of 74 image file(s) in column 'path' are bad" in line
    assert "(1 missing, 1 unreadable, 1 corrupt)" in line
    assert "img/6.png (no such file)" in line and "img/7.png (is a folder)" in line
    assert "img/5.png" in line and "pass --skip-bad" in line
    assert not out.exists() and not (tmp_path / "aug").exists()


def test_skip_bad_that_skips_everything_says_so(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("path,label\na.png,x\nb.png,y\nc.png,y\n")
    result = runner.invoke(
        app,
        ["resample", str(tmp_path / "m.csv"), "-o", str(tmp_path / "o.csv"), "--method",
         "cluster", "--target", "1", "--skip-bad"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "all 3 row(s) to resample were skipped as bad images (3 missing" in result.stderr
    assert not (tmp_path / "o.csv").exists()


def test_dry_run_with_skip_bad_says_it_opened_no_image(shapes: Path) -> None:
    (shapes.parent / "img/6.png").unlink()
    result = runner.invoke(
        app, ["resample", str(shapes), "--method", "cluster", "--dry-run", "--skip-bad"]
    )
    assert result.exit_code == 0, result.output
    assert "--dry-run opens no image: the plan counts every row" in result.stderr
