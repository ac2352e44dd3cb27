"""Image datasets as they lie on disk (ImageFolder, COCO, YOLO, VOC) on every command.

Each format: read (rows, labels verbatim, paths from the image folder), resample, write
(a manifest, COCO, an image list) and read back: the same images with the same labels.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.errors import RebalanceError
from rebalance.manifest import read_manifest, resolve_source
from rebalance.manifest.ondisk import layout_reading
from tests.layouts import image, make_coco, make_imagefolder, make_voc, make_yolo

runner = CliRunner()
CATS = {1: "person", 3: "car", 7: "traffic light"}


def rows_of(path: Path | str, **kw: object) -> list[tuple[str, tuple[str, ...]]]:
    """(absolute image path, labels) of every row of a manifest or dataset, in row order."""
    from rebalance.images.files import base_folder

    source = resolve_source(str(path), **kw)  # type: ignore[arg-type]
    table = read_manifest(source)
    base = base_folder(source, None)
    label = "labels" if "labels" in table.column_names else "label"
    out = []
    for p, labels in zip(
        table.column("path").to_pylist(), table.column(label).to_pylist(), strict=True
    ):
        if isinstance(labels, str) and labels.startswith("["):
            labels = json.loads(labels)
        full = os.path.realpath(os.path.join(base, p))
        out.append((full, tuple(labels) if isinstance(labels, list) else (labels,)))
    return out


def run(*args: str) -> object:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


# ---------------------------------------------------------------- ImageFolder


def test_imagefolder_rows_labels_verbatim_and_paths_from_the_root(tmp_path: Path) -> None:
    root = make_imagefolder(tmp_path / "flowers", {"daisy": 3, "01": 1, "rose petals": 2})
    (root / "daisy" / "README.md").write_text("not an image")
    (root / ".hidden").mkdir()
    image(root / ".hidden" / "x.jpg")
    image(root / "daisy" / ".x.jpg")
    image(root / "daisy" / "nested" / "deep.png")
    table = read_manifest(str(root))
    assert table.column_names == ["path", "label"]
    assert table.column("label").to_pylist() == ["01", "daisy", "daisy", "daisy", "daisy",
                                                 "rose petals", "rose petals"]  # fmt: skip
    assert table.column("path").to_pylist()[:5] == [
        "01/0.jpg", "daisy/0.jpg", "daisy/1.jpg", "daisy/2.jpg", "daisy/nested/deep.png"
    ]  # fmt: skip


def test_imagefolder_split_layout_and_non_images_said_once(tmp_path: Path) -> None:
    root = make_imagefolder(tmp_path / "ds", {"cat": 4, "dog": 1}, splits=["train", "val"])
    (root / "train" / "cat" / "labels.csv").write_text("x")
    result = runner.invoke(app, ["inspect", str(root), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["counts"] == {"cat": 8, "dog": 2}
    assert doc["splits"]["train"]["counts"] == {"cat": 4, "dog": 1}
    notes = [line for line in result.stderr.splitlines() if "not images left out" in line]
    assert notes == [f"rebalance: warning: {root}: 1 file(s) that are not images left out "
                     "(first: train/cat/labels.csv)"]  # fmt: skip


def test_imagefolder_symlinked_folder_read_once(tmp_path: Path) -> None:
    root = make_imagefolder(tmp_path / "ds", {"cat": 2, "dog": 1})
    os.symlink(root / "dog", root / "cat" / "also-dogs")  # followed, as torchvision does
    os.symlink(root, root / "dog" / "loop")  # a link back up (a loop) is not followed
    os.symlink(root / "cat", root / "cat" / "again")  # nor a link to the class itself
    table = read_manifest(str(root))
    assert Counter(table.column("label").to_pylist()) == {"cat": 3, "dog": 1}
    assert table.column("path").to_pylist() == [
        "cat/0.jpg", "cat/1.jpg", "cat/also-dogs/0.jpg", "dog/0.jpg"
    ]  # fmt: skip


def test_imagefolder_round_trip_through_resample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_imagefolder(
        tmp_path / "ds", {"cat": 6, "dog": 2, "007": 1}, splits=["train", "val"]
    )
    out = tmp_path / "elsewhere" / "balanced.csv"
    out.parent.mkdir()
    run("resample", root, "-o", out, "--only-split", "train", "--target", "max", "--seed", "3")
    before = rows_of(root)
    after = rows_of(out)
    assert set(after) == set(before)  # every image, with its label; copies of train rows
    train = Counter(lab for (p, lab) in after if "/train/" in p)
    assert train == {("cat",): 6, ("dog",): 6, ("007",): 6}
    # and it is an input again, from another folder
    monkeypatch.chdir(tmp_path)
    run("inspect", "elsewhere/balanced.csv", "--check-files", "--fail-on-bad-files")


def test_imagefolder_with_no_images_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ds" / "cat").mkdir(parents=True)
    (tmp_path / "ds" / "cat" / "a.txt").write_text("x")
    result = runner.invoke(app, ["inspect", str(tmp_path / "ds")])
    assert result.exit_code == 2 and "no images in class folders" in result.stderr


# ---------------------------------------------------------------- COCO


def coco_fixture(tmp_path: Path) -> Path:
    # image 3 has no annotation; image 0 has two people and a car
    return make_coco(tmp_path / "coco", [[1, 1, 3], [1], [1, 7], [], [1], [3]], CATS)


def test_coco_rows_labels_and_instances(tmp_path: Path) -> None:
    table = read_manifest(str(coco_fixture(tmp_path)))
    assert table.column_names == ["image_id", "path", "width", "height", "labels", "instances"]
    assert table.column("image_id").to_pylist() == [100, 101, 102, 103, 104, 105]
    assert table.column("path").to_pylist()[0] == "000000.jpg"
    assert table.column("labels").to_pylist() == [
        ["person", "car"], ["person"], ["person", "traffic light"], [], ["person"], ["car"]
    ]  # fmt: skip
    assert table.column("instances").to_pylist() == [[2, 1], [1], [1, 1], [], [1], [1]]


def test_coco_image_folder_is_found(tmp_path: Path) -> None:
    # the COCO 2017 layout: annotations/instances_val2017.json beside val2017/
    path = make_coco(tmp_path, [[1], [3]], CATS, images_dir="val2017",
                     json_name="annotations/instances_val2017.json")  # fmt: skip
    from rebalance.images.files import base_folder

    assert base_folder(resolve_source(str(path)), None) == str(tmp_path / "val2017")
    # elsewhere: --root names it
    other = make_coco(tmp_path / "b", [[1], [3]], CATS, images_dir="pics")
    refused = runner.invoke(app, ["inspect", str(other)])
    assert refused.exit_code == 2 and "image 000000.jpg is missing" in refused.stderr
    run("inspect", other, "--root", tmp_path / "b" / "pics")


def test_coco_inspect_reports_objects_and_lvis_groups(tmp_path: Path) -> None:
    # person in 120 images (frequent), car in 30 (common), light in 3 (rare), 7 empty images
    cats = [[1, 1] for _ in range(90)] + [[1, 3] for _ in range(30)] + [[7]] * 3 + [[]] * 7
    path = make_coco(tmp_path, cats, CATS, files=False)
    result = runner.invoke(app, ["inspect", str(path), "--json", "--root", str(tmp_path)])
    # the images were not written: reading them is the file check's job, not inspect's
    assert result.exit_code == 2 and "is missing" in result.stderr
    with layout_reading(missing="keep"):
        from rebalance.multilabel.stats import inspect_multilabel

        doc = inspect_multilabel(str(path)).to_dict()
    assert doc["counts"] == {"car": 30, "person": 120, "traffic light": 3}
    assert doc["objects_per_label"] == {"person": 210, "car": 30, "traffic light": 3}
    assert doc["objects"] == 243 and doc["images_without_objects"] == 7 and doc["empty_rows"] == 7
    groups = doc["frequency_groups"]
    assert (groups["rare"]["names"], groups["common"]["names"], groups["frequent"]["names"]) == (
        ["traffic light"],
        ["car"],
        ["person"],
    )


def test_coco_frequency_group_edges() -> None:
    from rebalance.multilabel.objects import frequency_group

    assert [frequency_group(n) for n in (1, 9, 10, 100, 101)] == [
        "rare", "rare", "common", "common", "frequent"
    ]  # fmt: skip


def detectron2_repeat_factors(doc: dict, threshold: float) -> dict[int, float]:
    """detectron2's RepeatFactorTrainingSampler.repeat_factors_from_category_frequency, as it
    is written there (category ids per image, frequency over all images), per image id."""
    anns: dict[int, set[int]] = {img["id"]: set() for img in doc["images"]}
    for ann in doc["annotations"]:
        anns[ann["image_id"]].add(ann["category_id"])
    freq: dict[int, int] = {}
    for cats in anns.values():
        for c in cats:
            freq[c] = freq.get(c, 0) + 1
    n = len(doc["images"])
    rep = {c: max(1.0, math.sqrt(threshold / (v / n))) for c, v in freq.items()}
    return {i: max((rep[c] for c in cats), default=1.0) for i, cats in anns.items()}


def test_repeat_factors_match_lvis_formula_on_coco(tmp_path: Path) -> None:
    cats = [[1, 1]] * 60 + [[1, 3]] * 15 + [[3]] * 5 + [[7]] * 2 + [[7, 1]] + [[]] * 17
    path = make_coco(tmp_path, cats, CATS)
    doc = json.loads(path.read_text())
    expected = detectron2_repeat_factors(doc, 0.3)
    plan = tmp_path / "plan.json"
    out = tmp_path / "out.parquet"
    run("resample", path, "-o", out, "--target", "repeat-factor:0.3", "--plan-out", plan,
        "--provenance")  # fmt: skip
    params = json.loads(plan.read_text())["params"]
    names = {v: k for k, v in CATS.items()}
    for name, entry in params["labels"].items():
        images = sum(1 for cs in cats if names[name] in cs)
        assert entry["image_frequency"] == pytest.approx(images / len(cats))
        assert entry["repeat_factor"] == pytest.approx(
            max(1.0, math.sqrt(0.3 / (images / len(cats))))
        )
    # each image appears floor(r) or ceil(r) times; the mean count is r in expectation
    table = pq.read_table(out)
    ids = Counter(table.column("image_id").to_pylist())
    r = [expected[i] for i in sorted(expected)]
    for image_id, factor in expected.items():
        assert ids[image_id] in (math.floor(factor), math.ceil(factor))
    assert params["image_repeat_factor"]["mean"] == pytest.approx(sum(r) / len(r))
    draws = []
    for seed in range(40):
        seeded = tmp_path / f"s{seed}.parquet"
        run("resample", path, "-o", seeded, "--target", "repeat-factor:0.3", "--seed", seed)
        draws.append(pq.read_table(seeded).num_rows)
    assert sum(draws) / len(draws) == pytest.approx(sum(r), rel=0.05)


def test_coco_round_trip_as_coco_from_another_folder(tmp_path: Path) -> None:
    path = coco_fixture(tmp_path)
    out = tmp_path / "out" / "balanced.json"
    out.parent.mkdir()
    run("resample", path, "-o", out, "--target", "repeat-factor:0.6", "--seed", "1")
    written = json.loads(out.read_text())
    source = json.loads(path.read_text())
    assert written["categories"] == source["categories"] and written["info"] == source["info"]
    ids = [img["id"] for img in written["images"]]
    assert len(ids) == len(set(ids)) and len(ids) > len(source["images"])
    assert len({a["id"] for a in written["annotations"]}) == len(written["annotations"])
    copies = [img for img in written["images"] if "rebalance_source_id" in img]
    for copy in copies:  # a copy's annotations are its original's, under new ids
        orig = [a for a in source["annotations"] if a["image_id"] == copy["rebalance_source_id"]]
        mine = [a for a in written["annotations"] if a["image_id"] == copy["id"]]
        strip = lambda a: {k: v for k, v in a.items() if k not in ("id", "image_id")}  # noqa: E731
        assert [strip(a) for a in mine] == [strip(a) for a in orig]
    assert Counter(rows_of(out)) >= Counter(rows_of(path))  # every image, same labels
    assert set(rows_of(out)) == set(rows_of(path))
    # byte-identical on a rerun with the same seed
    again = tmp_path / "out" / "again.json"
    run("resample", path, "-o", again, "--target", "repeat-factor:0.6", "--seed", "1")
    assert again.read_bytes().replace(b"again", b"") == out.read_bytes().replace(b"again", b"")


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_coco_round_trip_as_a_manifest(tmp_path: Path, suffix: str) -> None:
    path = coco_fixture(tmp_path)
    out = tmp_path / f"manifest.{suffix}"
    run("resample", path, "-o", out, "--target", "repeat-factor:0.5")
    multi = ["--multi-label"] if suffix != "parquet" else []
    result = run("inspect", out, *multi, "--json", "--check-files", "--fail-on-bad-files")
    doc = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert doc["files"]["missing"] == []
    assert set(rows_of(out)) == set(rows_of(path))


def test_coco_weights_and_evaluate_on_the_label_sets(tmp_path: Path) -> None:
    path = coco_fixture(tmp_path)
    result = run("weights", path, "--format", "json")
    doc = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert doc["multi_label"] is True and doc["positives"] == {
        "car": 2,
        "person": 4,
        "traffic light": 1,
    }
    preds = tmp_path / "preds.parquet"
    import pyarrow as pa

    table = read_manifest(str(path))
    pq.write_table(
        pa.table({"labels": table.column("labels"),
                  "p_person": [0.9, 0.8, 0.7, 0.1, 0.6, 0.2], "p_car": [0.8, 0.1, 0.2, 0.1, 0.3, 0.9],
                  "p_traffic light": [0.1, 0.1, 0.9, 0.2, 0.1, 0.1]}),
        preds,
    )  # fmt: skip
    evaluated = run("evaluate", preds, "--multi-label", "--proba-prefix", "p_", "--json")
    report = json.loads(evaluated.stdout)  # type: ignore[attr-defined]
    assert set(report["per_label"]) == {"car", "person", "traffic light"}


# ---------------------------------------------------------------- YOLO


def yolo_fixture(tmp_path: Path) -> Path:
    return make_yolo(
        tmp_path / "yolo",
        {"train": [[0, 0, 1], [0], [2], [], [0]], "val": [[0], [1]]},
        ["person", "car", "traffic light"],
    )


def test_yolo_rows_splits_and_names(tmp_path: Path) -> None:
    table = read_manifest(str(yolo_fixture(tmp_path)))
    assert table.column_names == ["path", "split", "labels", "instances"]
    assert table.column("path").to_pylist()[:2] == ["images/train/0.jpg", "images/train/1.jpg"]
    assert table.column("split").to_pylist() == ["train"] * 5 + ["val"] * 2
    assert table.column("labels").to_pylist()[:4] == [["person", "car"], ["person"],
                                                      ["traffic light"], []]  # fmt: skip
    assert table.column("instances").to_pylist()[0] == [2, 1]


def test_yolo_names_as_a_list_and_the_yaml_given(tmp_path: Path) -> None:
    folder = yolo_fixture(tmp_path)
    (folder / "data.yaml").write_text(
        "train: images/train\nval: [images/val]\nnames: ['person', 'car', 'traffic light']\n"
    )
    assert len(read_manifest(str(folder / "data.yaml"))) == 7


def test_yolo_round_trip_as_an_image_list(tmp_path: Path) -> None:
    folder = yolo_fixture(tmp_path)
    out = tmp_path / "lists" / "train.txt"
    out.parent.mkdir()
    result = run("resample", folder, "-o", out, "--only-split", "train",
                 "--target", "repeat-factor:0.5", "--seed", "2")  # fmt: skip
    assert "lists the train split only" in result.stderr  # type: ignore[attr-defined]
    lines = out.read_text().splitlines()
    assert all(line.startswith("./") or os.path.isabs(line) for line in lines) or all(
        os.path.isabs(line) for line in lines
    )
    train = [r for r in rows_of(folder) if "/train/" in r[0]]
    back = rows_of(out)  # labels found beside the images, names from the data.yaml above them
    assert set(back) == set(train) and len(back) > len(train)
    # an image list is a YOLO input again, and a data.yaml may name it
    (folder / "data2.yaml").write_text(f"train: {out}\nnames: [person, car, traffic light]\n")
    assert read_manifest(str(folder / "data2.yaml")).num_rows == len(lines)


def test_yolo_list_inside_the_dataset_uses_dot_slash_paths(tmp_path: Path) -> None:
    folder = yolo_fixture(tmp_path)
    out = folder / "train-balanced.txt"
    run("resample", folder, "-o", out, "--only-split", "train", "--target", "repeat-factor:0.5")
    assert out.read_text().splitlines()[0] == "./images/train/0.jpg"


# ---------------------------------------------------------------- VOC


def test_voc_rows_splits_and_round_trip(tmp_path: Path) -> None:
    folder = make_voc(tmp_path / "VOC2012", [["dog", "dog", "cat"], ["cat"], ["bird"], ["person"]],
                      {"train": [0, 1], "val": [2]})  # fmt: skip
    table = read_manifest(str(folder))
    assert table.column_names == ["path", "split", "width", "height", "labels", "instances"]
    assert table.column("path").to_pylist()[0] == "JPEGImages/2026000000.jpg"
    assert table.column("split").to_pylist() == ["train", "train", "val", None]
    assert table.column("labels").to_pylist()[0] == ["cat", "dog"]
    assert table.column("instances").to_pylist()[0] == [1, 2]
    out = tmp_path / "voc.parquet"
    run("resample", folder, "-o", out, "--only-split", "train", "--target", "repeat-factor:1")
    assert set(rows_of(out)) == set(rows_of(folder))


# ---------------------------------------------------------------- detection and formats


def test_input_format_overrides_detection(tmp_path: Path) -> None:
    folder = yolo_fixture(tmp_path)
    assert resolve_source(str(folder)).format == "yolo"
    assert resolve_source(str(folder), input_format="imagefolder").format == "imagefolder"
    with pytest.raises(RebalanceError, match="not a VOC folder"):
        read_manifest(str(folder), input_format="voc")
    coco = coco_fixture(tmp_path)
    assert resolve_source(str(coco)).format == "coco"


def test_a_text_file_that_is_not_an_image_list_is_still_unknown(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("label\tx\na\t1\n")
    with pytest.raises(RebalanceError, match="unknown file extension .txt"):
        resolve_source(str(path))


def test_skip_bad_leaves_missing_images_out(tmp_path: Path) -> None:
    path = coco_fixture(tmp_path)
    (tmp_path / "coco" / "images" / "000002.jpg").unlink()
    refused = runner.invoke(app, ["resample", str(path), "-o", str(tmp_path / "o.csv"),
                                  "--target", "repeat-factor:0.5"])  # fmt: skip
    assert refused.exit_code == 2 and "image 000002.jpg is missing" in refused.stderr
    assert not (tmp_path / "o.csv").exists()
    result = run("resample", path, "-o", tmp_path / "o.csv", "--target", "repeat-factor:0.5",
                 "--skip-bad")  # fmt: skip
    assert "1 missing image(s) left out (first: 000002.jpg)" in result.stderr  # type: ignore[attr-defined]
    checked = runner.invoke(app, ["inspect", str(path), "--check-files", "--json"])
    assert checked.exit_code == 0 and json.loads(checked.stdout)["files"]["missing"] == [
        "000002.jpg"
    ]


def test_json_output_needs_a_coco_input(tmp_path: Path) -> None:
    root = make_imagefolder(tmp_path / "ds", {"a": 3, "b": 1})
    result = runner.invoke(app, ["resample", str(root), "-o", str(tmp_path / "o.json"),
                                 "--target", "max"])  # fmt: skip
    assert result.exit_code == 2 and "writes COCO, from a COCO input only" in result.stderr
    assert not (tmp_path / "o.json").exists()


def test_image_methods_and_advise_find_an_imagefolders_images(tmp_path: Path) -> None:
    root = make_imagefolder(tmp_path / "ds", {"cat": 6, "dog": 3})
    out = tmp_path / "out" / "aug.csv"
    out.parent.mkdir()
    run("resample", root, "-o", out, "--method", "augment", "--target", "max",
        "--image-dir", tmp_path / "out" / "new")  # fmt: skip
    run("inspect", out, "--check-files", "--fail-on-bad-files")
    run("resample", root, "-o", tmp_path / "cl.csv", "--method", "cluster", "--target", "3")
    assert set(rows_of(tmp_path / "cl.csv")) <= set(rows_of(root))
    result = run("advise", root, "--image-features", "builtin", "--folds", "2", "--repeats", "1",
                 "--remedies", "balanced-weights", "--json")  # fmt: skip
    assert json.loads(result.stdout)["rows"] == 9  # type: ignore[attr-defined]


def test_object_counts_need_one_count_per_label() -> None:
    import pyarrow as pa

    from rebalance.multilabel.objects import object_counts

    table = pa.table({"labels": pa.array([["a", "b"], None, ["a"]]),
                      "instances": pa.array([[2, 1], None, [5]], pa.list_(pa.int32()))})  # fmt: skip
    counts = object_counts(table, "labels")
    assert counts is not None
    assert (counts.objects, counts.images, counts.images_without_objects) == (
        {"a": 7, "b": 1}, {"a": 2, "b": 1}, 1
    )  # fmt: skip
    bad = table.set_column(1, "instances", pa.array([[2], None, [5]], pa.list_(pa.int32())))
    with pytest.raises(RebalanceError, match="data row 1 has 2 label\\(s\\) but 1 'instances'"):
        object_counts(bad, "labels", "x.parquet")
