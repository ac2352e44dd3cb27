"""Small image datasets in their own layouts (ImageFolder, COCO, YOLO, VOC), made on the fly."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image


def image(path: Path, shade: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 6), (shade % 256, 40, 90)).save(path)
    return path


def make_imagefolder(
    root: Path, classes: Mapping[str, int], splits: Sequence[str] | None = None
) -> Path:
    """``root/<class>/<i>.jpg`` (or ``root/<split>/<class>/<i>.jpg``), ``classes[c]`` images each."""
    for split in splits or [None]:
        base = root / split if split else root
        for c, n in classes.items():
            for i in range(n):
                image(base / c / f"{i}.jpg", i)
    return root


def make_coco(
    folder: Path,
    image_categories: Sequence[Sequence[int]],
    categories: Mapping[int, str],
    *,
    images_dir: str = "images",
    json_name: str = "annotations/instances_train.json",
    files: bool = True,
) -> Path:
    """A COCO instances file: image i has one annotation per entry of ``image_categories[i]``
    (repeats are several objects); images in ``folder/images_dir`` unless ``files`` is false."""
    images, anns = [], []
    for i, cats in enumerate(image_categories):
        name = f"{i:06d}.jpg"
        if files:
            image(folder / images_dir / name, i)
        images.append({"id": 100 + i, "file_name": name, "width": 8, "height": 6})
        for c in cats:
            anns.append({"id": len(anns) + 1, "image_id": 100 + i, "category_id": c,
                         "bbox": [1, 1, 2, 2], "area": 4, "iscrowd": 0})  # fmt: skip
    doc = {
        "info": {"description": "generated", "year": 2026},
        "licenses": [],
        "images": images,
        "annotations": anns,
        "categories": [
            {"id": c, "name": n, "supercategory": "thing"} for c, n in categories.items()
        ],
    }
    path = folder / json_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def make_yolo(
    folder: Path, splits: Mapping[str, Sequence[Sequence[int]]], names: Sequence[str]
) -> Path:
    """A YOLO folder: ``images/<split>/i.jpg``, ``labels/<split>/i.txt`` (none for an image
    without objects), ``data.yaml`` naming the classes by id."""
    for split, rows in splits.items():
        for i, classes in enumerate(rows):
            image(folder / "images" / split / f"{i}.jpg", i)
            if classes:
                label = folder / "labels" / split / f"{i}.txt"
                label.parent.mkdir(parents=True, exist_ok=True)
                label.write_text("".join(f"{c} 0.5 0.5 0.2 0.2\n" for c in classes))
    lines = ["path: .", *(f"{s}: images/{s}" for s in splits), "names:"]
    lines += [f"  {i}: {n}" for i, n in enumerate(names)]
    (folder / "data.yaml").write_text("\n".join(lines) + "\n")
    return folder


def make_voc(
    folder: Path, objects: Sequence[Sequence[str]], splits: Mapping[str, Sequence[int]]
) -> Path:
    """A VOC folder: ``Annotations/<id>.xml`` naming each image's objects, ``JPEGImages/``,
    ``ImageSets/Main/<split>.txt``."""
    for i, names in enumerate(objects):
        stem = f"{2026_000000 + i}"
        image(folder / "JPEGImages" / f"{stem}.jpg", i)
        body = "".join(
            f"<object><name>{n}</name><difficult>0</difficult><bndbox><xmin>1</xmin></bndbox>"
            "</object>"
            for n in names
        )
        xml = (
            f"<annotation>\n<folder>VOC</folder>\n<filename>{stem}.jpg</filename>\n"
            f"<size><width>8</width><height>6</height><depth>3</depth></size>\n{body}\n</annotation>\n"
        )
        path = folder / "Annotations" / f"{stem}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(xml)
    main = folder / "ImageSets" / "Main"
    main.mkdir(parents=True, exist_ok=True)
    for split, rows in splits.items():
        (main / f"{split}.txt").write_text("".join(f"{2026_000000 + i}\n" for i in rows))
    return folder
