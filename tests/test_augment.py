"""Augmentation oversampling: new image files, reproducible, safe names, masks aligned."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image
from typer.testing import CliRunner

import rebalance
from rebalance.cli import app
from rebalance.images import augment as aug
from rebalance.manifest import read_manifest

runner = CliRunner()


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """10 'ok' and 3 'rare' images in five modes: RGB, L, RGBA, P and 16-bit."""
    rng = np.random.default_rng(0)
    (tmp_path / "img").mkdir()
    rows = ["path,label,note"]
    for i in range(10):
        Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(
            tmp_path / f"img/ok{i}.png"
        )
        rows.append(f"img/ok{i}.png,ok,n{i}")
    Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).convert("RGBA").save(
        tmp_path / "img/r0.png"
    )
    Image.fromarray(rng.integers(0, 255, (20, 30), dtype=np.uint8)).save(
        tmp_path / "img/r1.jpg", quality=90
    )
    Image.fromarray(rng.integers(0, 255, (20, 30), dtype=np.uint8)).convert("P").save(
        tmp_path / "img/r2.png"
    )
    rows += ["img/r0.png,rare,a", "img/r1.jpg,rare,b", "img/r2.png,rare,c"]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    return tmp_path / "m.csv"


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_augment_writes_new_images_up_to_the_target(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = run("resample", str(photos), "-o", str(out), "--method", "augment",
                 "--image-dir", str(tmp_path / "aug"), "--provenance")  # fmt: skip
    assert result.exit_code == 0, result.output
    table = read_manifest(out)
    assert table.num_rows == 20
    new = table.slice(13)
    assert set(new.column("label").to_pylist()) == {"rare"}
    assert new.column("rebalance_synthetic").to_pylist() == ["True"] * 7
    assert sorted(set(new.column("rebalance_parent").to_pylist())) == [
        "img/r0.png",
        "img/r1.jpg",
        "img/r2.png",
    ]
    for row in new.to_pylist():
        path = tmp_path / row["path"]  # relative to the manifest's folder, like the input paths
        parent = tmp_path / row["rebalance_parent"]
        with Image.open(path) as im, Image.open(parent) as original:
            assert (im.mode, im.format, im.size) == (original.mode, original.format, original.size)
        assert '"angle"' in row["rebalance_augment"]
        assert row["note"] == table.column("note").to_pylist()[int(row["rebalance_source_row"])]
    assert "images/s" in result.stderr


def test_rerun_writes_byte_identical_files(photos: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        result = run("resample", str(photos), "-o", str(tmp_path / f"{name}.csv"), "--method", "augment",
                     "--image-dir", str(tmp_path / name), "--seed", "4", "--workers", "2" if name == "a" else "1")  # fmt: skip
        assert result.exit_code == 0, result.output
    files_a = sorted(os.listdir(tmp_path / "a"))
    assert files_a == sorted(os.listdir(tmp_path / "b")) and len(files_a) == 7
    for f in files_a:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert (tmp_path / "a.csv").read_text().replace("a/", "b/") == (tmp_path / "b.csv").read_text()


def test_existing_files_are_never_overwritten(photos: Path, tmp_path: Path) -> None:
    args = [
        "resample",
        str(photos),
        "-o",
        str(tmp_path / "o.csv"),
        "--method",
        "augment",
        "--image-dir",
        str(tmp_path / "aug"),
    ]
    assert run(*args).exit_code == 0
    before = {f: (tmp_path / "aug" / f).read_bytes() for f in os.listdir(tmp_path / "aug")}
    again = run(*args[:3], str(tmp_path / "o2.csv"), *args[4:], "--seed", "9")
    assert again.exit_code == 2 and "already exists; augmentation never overwrites" in again.stderr
    assert {f: (tmp_path / "aug" / f).read_bytes() for f in os.listdir(tmp_path / "aug")} == before
    assert not (tmp_path / "o2.csv").exists()


@pytest.mark.parametrize(
    "label", ["../../etc", "/abs/olute", "a\\b", "nul\x00byte", "CON", ".hidden", "..", ""]
)
def test_labels_never_escape_the_image_dir(tmp_path: Path, label: str) -> None:
    img = tmp_path / "p.png"
    Image.new("RGB", (8, 8), "red").save(img)
    labels = [label or "_", "big", "big", "big"]
    table = pa.table({"path": [str(img)] * 4, "label": labels})
    folder = tmp_path / "out"
    rebalance.resample(table, method="augment", image_dir=str(folder), target=3)
    written = os.listdir(folder)
    assert written and all(os.path.dirname(os.path.join(folder, w)) == str(folder) for w in written)
    assert all(
        "/" not in w and "\\" not in w and "\x00" not in w and not w.startswith(".")
        for w in written
    )
    assert set(os.listdir(tmp_path)) == {"p.png", "out"}


def test_file_names_differ_for_labels_that_sanitise_alike() -> None:
    assert aug.file_name("a/b", "x.png", 1, ".png") != aug.file_name("a_b", "x.png", 1, ".png")
    assert aug.safe_part("CON") == "_CON" and aug.safe_part("..") == "_"


def test_mask_stays_aligned_with_its_image(tmp_path: Path) -> None:
    classes = np.zeros((60, 80), dtype=np.uint8)
    classes[10:30, 15:50] = 1
    classes[35:55, 50:75] = 2
    image = Image.fromarray(classes * 100, "L")
    mask = Image.fromarray(classes, "L")
    spec = aug.parse_augment("rotate=40,flip,vflip,zoom=0.3,skew=0.2")
    for position in range(12):
        params = aug.draw(spec, 3, position)
        moved_image = np.asarray(aug.transform(image, params)).astype(int)
        moved_mask = np.asarray(aug.transform(mask, params, mask=True)).astype(int)
        # where a mask pixel and its 8 neighbours agree, the image shows that class's grey
        core = np.ones_like(moved_mask, dtype=bool)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                core[1:-1, 1:-1] &= (
                    moved_mask[1 + dy : 59 + dy, 1 + dx : 79 + dx] == moved_mask[1:-1, 1:-1]
                )
        core[[0, -1], :] = core[:, [0, -1]] = False
        assert np.abs(moved_image[core] - moved_mask[core] * 100).max() <= 1
        assert set(np.unique(moved_mask)) <= {0, 1, 2}  # nearest neighbour: no new class ids


def test_augment_transforms_masks_with_their_images(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    rows = ["path,mask,label"]
    for i in range(4):
        Image.new("RGB", (16, 12), (i * 50, 0, 0)).save(tmp_path / f"m/{i}.png")
        Image.fromarray(np.full((12, 16), i % 2, np.uint8), "L").save(tmp_path / f"m/{i}_mask.png")
        rows.append(f"m/{i}.png,m/{i}_mask.png,{'a' if i else 'b'}")
    (tmp_path / "seg.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out.csv"
    result = run("resample", str(tmp_path / "seg.csv"), "-o", str(out), "--method", "augment",
                 "--image-dir", str(tmp_path / "aug"), "--mask-col", "mask", "--augment", "flip")  # fmt: skip
    assert result.exit_code == 0, result.output
    new = read_manifest(out).slice(4).to_pylist()
    assert len(new) == 2
    for row in new:
        assert row["mask"].endswith("__mask.png") and (tmp_path / row["mask"]).exists()
        with Image.open(tmp_path / row["mask"]) as m:
            assert m.mode == "L" and m.size == (16, 12)


def test_preflight_refuses_too_many_files(
    photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aug, "MAX_FILES", 5)
    args = [
        "resample",
        str(photos),
        "-o",
        str(tmp_path / "o.csv"),
        "--method",
        "augment",
        "--image-dir",
        str(tmp_path / "aug"),
    ]
    refused = run(*args)
    assert (
        refused.exit_code == 2
        and "would write 7 files" in refused.stderr
        and "--allow-large" in refused.stderr
    )
    assert not (tmp_path / "aug").exists()
    assert run(*args, "--allow-large").exit_code == 0


def test_bad_augment_options() -> None:
    for text, message in [("spin=3", "unknown transform"), ("rotate=500", "rotate must be in"),
                          ("zoom=x", "needs a number"), ("flip=1", "takes no value")]:  # fmt: skip
        with pytest.raises(rebalance.RebalanceError, match=message):
            aug.parse_augment(text)
    table = pa.table({"path": ["a.png", "b.png"], "label": ["x", "y"]})
    with pytest.raises(rebalance.RebalanceError, match="needs --image-dir"):
        rebalance.resample(table, method="augment")


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    im = Image.new("RGB", (40, 20), "red")
    exif = im.getexif()
    exif[0x0112] = 6  # shown rotated by 90°: 20 wide, 40 high
    im.save(tmp_path / "turned.jpg", exif=exif)
    identity = aug.draw(aug.parse_augment("zoom=0"), 0, 0)
    [(path, data)] = aug.render(
        aug.Task(str(tmp_path / "turned.jpg"), str(tmp_path / "o.jpg"), identity)
    )
    (tmp_path / "o.jpg").write_bytes(data)
    with Image.open(tmp_path / "o.jpg") as out:
        assert out.size == (20, 40) and out.getexif().get(0x0112, 1) == 1


def test_image_dir_is_checked_before_any_work(photos: Path, tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    out = tmp_path / "o.csv"
    result = run(
        "resample", str(photos), "-o", str(out), "--method", "augment", "--image-dir", str(afile)
    )
    assert result.exit_code == 2 and "is a file, not a folder" in result.stderr and not out.exists()
    nested = tmp_path / "new" / "deeper"
    ok = run(
        "resample", str(photos), "-o", str(out), "--method", "augment", "--image-dir", str(nested)
    )
    assert ok.exit_code == 0, ok.output
    assert len(os.listdir(nested)) == 7  # made, parents and all
