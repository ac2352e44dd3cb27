"""Image manifests: file checks and segmentation-mask pixel counts, on images the tests make."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.errors import RebalanceError
from rebalance.images.files import check_files
from rebalance.images.masks import pixel_counts
from rebalance.manifest import read_manifest
from rebalance.weights import class_weights

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """A manifest of RGB, RGBA, palette and 16-bit images, a corrupt file and a missing one."""
    folder = tmp_path / "data"
    (folder / "img").mkdir(parents=True)
    rows = ["path,label"]
    for i in range(4):
        Image.new("RGB", (32, 24), (60 * i, 10, 10)).save(folder / f"img/rgb{i}.png")
        rows.append(f"img/rgb{i}.png,cat")
    Image.new("RGBA", (16, 16), (1, 2, 3, 4)).save(folder / "img/alpha.png")
    Image.new("P", (8, 8)).save(folder / "img/palette.png")
    Image.fromarray(np.full((5, 7), 40000, dtype=np.uint16)).save(folder / "img/deep.png")
    (folder / "img/broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    (folder / "img/text.png").write_text("not an image")
    rows += ["img/alpha.png,dog", "img/palette.png,dog", "img/deep.png,dog"]
    rows += ["img/broken.png,dog", "img/text.png,dog", "img/gone.png,dog", ",dog"]
    (folder / "images.csv").write_text("\n".join(rows) + "\n")
    return folder / "images.csv"


def test_check_files_finds_every_bad_file(images: Path) -> None:
    result = run("inspect", str(images), "--check-files", "--json")
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["files"]
    assert files["missing"] == ["img/gone.png"]
    assert sorted(files["corrupt"]) == ["img/broken.png", "img/text.png"]
    assert files["ok"] == 7 and files["bad"] == 3 and files["empty_paths"] == 1
    assert files["sizes"]["32x24"] == 4 and files["sizes"]["7x5"] == 1
    assert files["modes"] == {"RGB": 4, "RGBA": 1, "P": 1, "I;16": 1}
    assert "3 of 11 image file(s) are bad" in result.stderr and "img/gone.png" in result.stderr


def test_check_files_table_names_the_first_bad_files(images: Path) -> None:
    result = run("inspect", str(images), "--check-files", "--no-split")
    import re

    assert re.search(r"missing\s+1\s+img/gone\.png", result.stdout)
    assert "RGBA (1)" in result.stdout


def test_paths_resolve_against_root(images: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere.csv"
    moved.write_text(images.read_text())
    lost = check_files(["img/rgb0.png"], base=str(tmp_path))
    assert lost.missing == ["img/rgb0.png"]
    result = run("inspect", str(moved), "--check-files", "--root", str(images.parent), "--json")
    assert json.loads(result.stdout)["files"]["ok"] == 7
    bad_root = run("inspect", str(moved), "--check-files", "--root", str(tmp_path / "nope"))
    assert bad_root.exit_code == 2 and "--root" in bad_root.stderr


def test_unreadable_file(images: Path) -> None:
    import os

    if os.geteuid() == 0:
        folder = images.parent / "img" / "adir.png"
        folder.mkdir()
        report = check_files(["img/adir.png"], base=str(images.parent))
        assert (
            report.unreadable == ["img/adir.png"]
            and report.reasons["img/adir.png"] == "is a folder"
        )


def test_path_column_is_named_or_detected(tmp_path: Path) -> None:
    src = tmp_path / "m.csv"
    src.write_text("picture,label\na.png,x\nb.png,y\n")
    none = run("inspect", str(src), "--check-files")
    assert (
        none.exit_code == 2
        and "no image path column" in none.stderr
        and "--path-col" in none.stderr
    )
    named = run("inspect", str(src), "--check-files", "--path-col", "picture", "--json")
    assert json.loads(named.stdout)["files"]["missing"] == ["a.png", "b.png"]
    typo = run("inspect", str(src), "--check-files", "--path-col", "pictur")
    assert typo.exit_code == 2 and "did you mean 'picture'" in typo.stderr


# ---------------------------------------------------------------- masks


@pytest.fixture
def masks(tmp_path: Path) -> tuple[Path, list[np.ndarray]]:
    """Road/sky masks with a traffic light (id 7) about 800:1, a val split, a 16-bit mask."""
    rng = np.random.default_rng(0)
    (tmp_path / "m").mkdir()
    arrays, rows = [], ["image,mask,split"]
    for i in range(10):
        m = np.where(rng.random((40, 40)) < 0.3, 1, 0).astype(np.uint8)
        if i % 3 == 0:
            m[0, :2] = 7  # 2 pixels in 4 masks: 8 of 16,000
        arrays.append(m)
        Image.fromarray(m, mode="L").save(tmp_path / f"m/{i}.png")
        rows.append(f"img/{i}.jpg,m/{i}.png,{'val' if i == 9 else 'train'}")
    (tmp_path / "seg.csv").write_text("\n".join(rows) + "\n")
    return tmp_path / "seg.csv", arrays


def test_pixel_counts_equal_bincount(masks: tuple[Path, list[np.ndarray]]) -> None:
    manifest, arrays = masks
    folder = manifest.parent
    counts = pixel_counts([str(folder / f"m/{i}.png") for i in range(10)])
    expected = np.bincount(np.concatenate([a.ravel() for a in arrays]))
    assert counts.counts == {str(c): int(n) for c, n in enumerate(expected) if n}
    assert counts.images_with_class["7"] == 4 and counts.images_with_class["0"] == 10
    assert counts.pixels == 16_000
    assert counts.imbalance_ratio == pytest.approx(expected.max() / 8)


def test_inspect_mask_col_without_label_column(
    masks: tuple[Path, list[np.ndarray]], tmp_path: Path
) -> None:
    manifest, _ = masks
    names = tmp_path / "classes.json"
    names.write_text(json.dumps({"0": "road", "1": "sky", "7": "traffic light"}))
    result = run(
        "inspect", str(manifest), "--mask-col", "mask", "--mask-classes", str(names), "--json"
    )
    assert result.exit_code == 0, result.output
    pixels = json.loads(result.stdout)["pixels"]
    assert set(pixels) >= {"counts", "share", "imbalance_ratio", "images_with_class"}
    assert pixels["counts"]["traffic light"] == 8
    assert pixels["share"]["traffic light"] == pytest.approx(8 / 16_000)
    table = run("inspect", str(manifest), "--mask-col", "mask", "--mask-classes", str(names))
    assert "traffic light" in table.stdout and "pixel imbalance ratio" in table.stdout


def test_mask_errors_name_the_file(masks: tuple[Path, list[np.ndarray]]) -> None:
    manifest, _ = masks
    Image.new("RGB", (4, 4)).save(manifest.parent / "m/3.png")
    result = run("inspect", str(manifest), "--mask-col", "mask")
    assert (
        result.exit_code == 2
        and "m/3.png: a mask must hold one class id per pixel" in result.stderr
    )
    names = manifest.parent / "c.json"
    names.write_text('{"0": "road"}')
    Image.fromarray(np.ones((4, 4), np.uint8), mode="L").save(manifest.parent / "m/3.png")
    unnamed = run("inspect", str(manifest), "--mask-col", "mask", "--mask-classes", str(names))
    assert unnamed.exit_code == 2 and "mask value(s) 1, 7 have no name" in unnamed.stderr
    with pytest.raises(RebalanceError, match="no such mask file"):
        pixel_counts([str(manifest.parent / "m/none.png")])


def test_median_frequency_weights_from_pixels(masks: tuple[Path, list[np.ndarray]]) -> None:
    manifest, arrays = masks
    result = run("weights", str(manifest), "--mask-col", "mask", "--scheme", "median")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    train = arrays[:9]  # the train split
    freq = {}
    for c in (0, 1, 7):
        with_c = [a for a in train if (a == c).any()]
        freq[str(c)] = sum(int((a == c).sum()) for a in with_c) / sum(a.size for a in with_c)
    median = float(np.median(list(freq.values())))
    for c, f in freq.items():
        assert doc["weights"][c] == pytest.approx(median / f)
    assert "weights from split 'train'" in result.stderr
    enet = json.loads(
        run("weights", str(manifest), "--mask-col", "mask", "--scheme", "enet").stdout
    )
    counts = enet["counts"]
    total = sum(counts.values())
    assert enet["weights"]["7"] == pytest.approx(1 / np.log(1.02 + counts["7"] / total))
    direct = class_weights(counts, scheme="balanced").weights
    balanced = json.loads(run("weights", str(manifest), "--mask-col", "mask").stdout)["weights"]
    assert balanced == pytest.approx(direct)


def test_repeat_factor_follows_lvis(masks: tuple[Path, list[np.ndarray]], tmp_path: Path) -> None:
    manifest, arrays = masks
    out = tmp_path / "rf.csv"
    args = ["resample", str(manifest), "-o", str(out), "--mask-col", "mask", "--target", "repeat-factor:0.9",
            "--seed", "2", "--provenance", "--plan-out", str(tmp_path / "plan.json")]  # fmt: skip
    result = run(*args)
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "plan.json").read_text())
    # class 7 is in 4 of 10 masks: f = 0.4, r = sqrt(0.9 / 0.4) = 1.5; classes 0 and 1 are everywhere
    assert plan["classes"]["7"] == {"image_frequency": 0.4, "repeat_factor": pytest.approx(1.5)}
    assert plan["classes"]["0"]["repeat_factor"] == 1.0
    rows = read_manifest(out).to_pylist()
    assert len(rows) == plan["rows_after"] and rows[:10] == [
        {**r, "rebalance_source_row": str(i), "rebalance_synthetic": "False"}
        for i, r in enumerate(read_manifest(manifest).to_pylist())
    ]
    copied = [int(r["rebalance_source_row"]) for r in rows[10:]]
    assert set(copied) <= {0, 3, 6, 9}  # only images with the rare class are repeated, at most once
    again = tmp_path / "again.csv"
    run(*args[:3], str(again), *args[4:-2])
    assert again.read_bytes() == out.read_bytes()
    dry = run("resample", str(manifest), "--mask-col", "mask", "--target", "repeat-factor:0.9", "--seed", "2",
              "--dry-run", "--plan-json")  # fmt: skip
    assert json.loads(dry.stdout)["rows_after"] == plan["rows_after"]
    wrong = run("resample", str(manifest), "-o", str(out), "--mask-col", "mask", "--target", "max")
    assert wrong.exit_code == 2 and "repeat-factor:T" in wrong.stderr


def test_repeat_factor_fractions_average_out(tmp_path: Path) -> None:
    from rebalance.images.repeat import repeat_plan

    (tmp_path / "m").mkdir()
    paths = []
    for i in range(400):
        m = np.zeros((4, 4), np.uint8)
        if i % 4 == 0:
            m[0, 0] = 3  # in 25% of the masks: r = sqrt(0.5 / 0.25) = 1.414
        Image.fromarray(m, "L").save(tmp_path / f"m/{i}.png")
        paths.append(str(tmp_path / f"m/{i}.png"))
    plan = repeat_plan(paths, threshold=0.5, seed=0)
    rare = plan.copies[::4]
    assert set(np.unique(plan.copies[1::4])) == {0}
    assert abs(rare.mean() - (np.sqrt(2) - 1)) < 0.1  # the fractional part, drawn per row
