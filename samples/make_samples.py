"""Regenerate the samples shipped in samples/ (deterministic: same bytes every run).

python samples/make_samples.py
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent


def fraud(path: Path, rows: int = 2000, frauds: int = 40) -> None:
    """Tabular transactions: six numeric features, a categorical channel, 2% fraud (49:1)."""
    rng = random.Random(7)
    out = []
    labels = ["fraud"] * frauds + ["ok"] * (rows - frauds)
    rng.shuffle(labels)
    for i, label in enumerate(labels):
        shift = 1.8 if label == "fraud" else 0.0
        features = [round(rng.gauss(shift * (k % 3 == 0), 1.0), 4) for k in range(6)]
        amount = round(math.exp(rng.gauss(5.5 if label == "fraud" else 3.5, 1.0)), 2)
        channel = rng.choice(["web", "app", "pos"] if label == "ok" else ["web", "web", "app"])
        out.append([f"t{i:05d}", *features, amount, channel, label])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["id", "v1", "v2", "v3", "v4", "v5", "v6", "amount", "channel", "class"])
        writer.writerows(out)


def longtail(path: Path, classes: int = 150) -> None:
    """An image manifest with a Zipf-like long tail, singletons and a train/val/test split."""
    rng = random.Random(11)
    out = []
    i = 0
    for rank in range(1, classes + 1):
        n = max(1, round(600 / rank**1.3))
        name = f"species_{rank:03d}"
        for _ in range(n):
            u = rng.random()
            split = "train" if u < 0.8 else "val" if u < 0.9 else "test"
            out.append([f"images/{name}/{i:06d}.jpg", name, split])
            i += 1
    rng.shuffle(out)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["path", "label", "split"])
        writer.writerows(out)


def fraud_predictions(path: Path, rows: int = 2000) -> None:
    """Predictions of a fraud model on a held-out set: true label, predicted label, probabilities."""
    rng = random.Random(23)
    out = []
    for _ in range(rows):
        label = "fraud" if rng.random() < 0.03 else "ok"
        p = rng.betavariate(5, 2) if label == "fraud" else rng.betavariate(1.2, 7)
        p = round(min(max(p, 0.0), 1.0), 4)
        out.append([label, "fraud" if p >= 0.5 else "ok", p, round(1 - p, 4)])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["y_true", "y_pred", "p_fraud", "p_ok"])
        writer.writerows(out)


def street(folder: Path, images: int = 24) -> None:
    """Street scenes with segmentation masks: road (0), building (1), sky (2), and a traffic
    light (7) in a few images at hundreds-to-one pixels; labelled day (20) or night (4)."""
    import numpy as np
    from PIL import Image

    rng = random.Random(31)
    (folder / "img").mkdir(parents=True, exist_ok=True)
    (folder / "mask").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(images):
        night = i % 6 == 5
        mask = np.zeros((48, 64), dtype=np.uint8)
        horizon = rng.randint(16, 24)
        mask[:horizon, :] = 2
        left, right = rng.randint(0, 20), rng.randint(40, 63)
        mask[horizon - rng.randint(4, 12) : 32, left:right] = 1
        if i % 5 == 0:
            x, y = rng.randint(2, 58), rng.randint(4, 20)
            mask[y : y + 3, x : x + 2] = 7
        colours = np.array(
            [[90, 90, 90], [150, 100, 70], [120, 170, 230]] + [[0, 0, 0]] * 4 + [[230, 40, 30]],
            np.uint8,
        )
        rgb = colours[mask] // (3 if night else 1)
        Image.fromarray(rgb, "RGB").save(folder / "img" / f"{i:03d}.png")
        Image.fromarray(mask, "L").save(folder / "mask" / f"{i:03d}.png")
        split = "val" if i % 8 == 7 else "train"
        rows.append(
            [
                f"street/img/{i:03d}.png",
                f"street/mask/{i:03d}.png",
                "night" if night else "day",
                split,
            ]
        )
    with open(folder.parent / "street.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["path", "mask", "label", "split"])
        writer.writerows(rows)
    (folder.parent / "street-classes.json").write_text(
        '{"0": "road", "1": "building", "2": "sky", "7": "traffic light"}\n', encoding="utf-8"
    )


def _shape(path: Path, kind: str, shade: int) -> None:
    """A 24x24 PNG of one shape (circle, square or triangle) on a plain background."""
    from PIL import Image, ImageDraw

    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.new("RGB", (24, 24), (20 + shade * 9 % 200, 60, 90))
    draw = ImageDraw.Draw(im)
    if kind == "circle":
        draw.ellipse([4, 4, 19, 19], fill=(240, 220, 60))
    elif kind == "square":
        draw.rectangle([5, 5, 18, 18], fill=(60, 220, 120))
    else:
        draw.polygon([(12, 3), (21, 20), (3, 20)], fill=(230, 80, 200))
    im.save(path)


def shapes_imagefolder(root: Path) -> None:
    """A class-folder tree (torchvision ImageFolder): train/ and val/, circles common,
    triangles rare."""
    for split, counts in (("train", {"circle": 12, "square": 5, "triangle": 2}),
                          ("val", {"circle": 3, "square": 2, "triangle": 1})):  # fmt: skip
        for kind, n in counts.items():
            for i in range(n):
                _shape(root / split / kind / f"{i:02d}.png", kind, i)


# each image's objects (category ids): people everywhere, a few bicycles, one traffic light
_DETECTIONS = [[1, 1], [1], [1, 2], [1, 1, 1], [], [1], [1, 2], [1], [1, 1], [3, 1],
               [1], [], [2], [1], [1, 1], [1]]  # fmt: skip
_CATEGORIES = {1: "person", 2: "bicycle", 3: "traffic light"}
_DRAWN = {1: "circle", 2: "square", 3: "triangle"}


def shapes_coco(folder: Path) -> None:
    """A COCO instances file (annotations/instances_train.json) over images/."""
    import json

    images, annotations = [], []
    for i, objects in enumerate(_DETECTIONS):
        name = f"{i:04d}.png"
        _shape(folder / "images" / name, _DRAWN[objects[0]] if objects else "square", i)
        images.append({"id": i + 1, "file_name": name, "width": 24, "height": 24})
        for j, category in enumerate(objects):
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1,
                                "category_id": category, "bbox": [2 + j, 2, 10, 10],
                                "area": 100, "iscrowd": 0})  # fmt: skip
    doc = {
        "info": {"description": "rebalance sample: shapes as detections", "year": 2026},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [
            {"id": k, "name": v, "supercategory": "thing"} for k, v in _CATEGORIES.items()
        ],
    }
    (folder / "annotations").mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=1) + "\n"
    (folder / "annotations" / "instances_train.json").write_text(text, encoding="utf-8")


def shapes_yolo(folder: Path) -> None:
    """A YOLO dataset: data.yaml, images/{train,val}/, labels/{train,val}/ (class ids from 0)."""
    for i, objects in enumerate(_DETECTIONS):
        split = "val" if i % 4 == 3 else "train"
        _shape(
            folder / "images" / split / f"{i:04d}.png",
            _DRAWN[objects[0]] if objects else "square",
            i,
        )
        if objects:
            label = folder / "labels" / split / f"{i:04d}.txt"
            label.parent.mkdir(parents=True, exist_ok=True)
            lines = [
                f"{c - 1} {0.3 + 0.1 * j:.3f} 0.500 0.400 0.400\n" for j, c in enumerate(objects)
            ]
            label.write_text("".join(lines), encoding="utf-8")
    names = "".join(f"  {k - 1}: {v}\n" for k, v in _CATEGORIES.items())
    (folder / "data.yaml").write_text(
        f"path: .\ntrain: images/train\nval: images/val\nnames:\n{names}", encoding="utf-8"
    )


if __name__ == "__main__":
    fraud(HERE / "fraud.csv")
    longtail(HERE / "longtail.csv")
    fraud_predictions(HERE / "fraud-predictions.csv")
    street(HERE / "street")
    shapes_imagefolder(HERE / "shapes")
    shapes_coco(HERE / "shapes-coco")
    shapes_yolo(HERE / "shapes-yolo")
