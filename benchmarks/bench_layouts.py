"""Image datasets on disk: reading COCO and ImageFolder layouts, next to what users run today.

    python benchmarks/bench_layouts.py                    # COCO 2017-train-shaped + 500k-file tree
    python benchmarks/bench_layouts.py --coco-images 20000 --tree-files 50000   # quicker

* **COCO**: a generated instances file shaped like COCO 2017 train (118,287 images, 860,001
  annotations with a bbox and a 16-point polygon each, 80 categories with COCO's long tail;
  never downloaded). ``rebalance inspect coco.json --json`` (the whole process: parse, image
  files checked to exist, image- and object-level counts, LVIS groups) next to
  ``pycocotools.COCO(path)`` plus counting images and objects per category (where
  pycocotools is installed) and a plain ``json.load`` + counting loop.
* **ImageFolder**: a tree of ``--tree-files`` empty ``.jpg`` files in 1,000 class folders.
  ``rebalance.manifest.read_manifest(root)`` next to torchvision's ``make_dataset`` scan
  where torchvision is installed, else the same scan written plainly (``os.walk`` with
  ``followlinks=True`` per class folder, sorted, extension check — what torchvision does);
  and ``rebalance inspect root --json`` as a whole process.

Each figure is the best of ``--repeat`` runs (child processes; peak RSS of the child).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

from _common import DATA, measure, python, rebalance


def make_coco(images: int, annotations: int, seed: int = 0) -> Path:
    """A COCO instances file of this shape, with empty image files beside it (cached)."""
    import numpy as np

    folder = DATA / f"coco-{images}"
    path = folder / "annotations" / "instances_train.json"
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    (folder / "annotations").mkdir(parents=True, exist_ok=True)
    image_dir = folder / "train"
    image_dir.mkdir(exist_ok=True)
    cats = 80
    weight = 1.0 / np.arange(1, cats + 1) ** 1.2  # person first, a long tail after it
    weight /= weight.sum()
    per_image = rng.multinomial(annotations - images // 100, np.full(images, 1 / images))
    owners = np.repeat(np.arange(images), per_image)
    owners = np.concatenate([owners, rng.integers(0, images, annotations - len(owners))])
    rng.shuffle(owners)
    categories = rng.choice(np.arange(1, cats + 1), size=annotations, p=weight)
    boxes = rng.random((annotations, 4)) * 300
    doc_images = []
    for i in range(images):
        name = f"{i:012d}.jpg"
        doc_images.append({"license": 1, "file_name": name, "coco_url": "", "height": 480,
                           "width": 640, "date_captured": "2013-11-14 17:02:52", "flickr_url": "",
                           "id": int(i) + 1})  # fmt: skip
        (image_dir / name).touch()
    doc_anns = []
    for j in range(annotations):
        x, y, w, h = (round(float(v), 2) for v in boxes[j])
        poly = [round(float(v), 2) for v in rng.random(16) * 300]
        doc_anns.append({"segmentation": [poly], "area": round(w * h, 2), "iscrowd": 0,
                         "image_id": int(owners[j]) + 1, "bbox": [x, y, w, h],
                         "category_id": int(categories[j]), "id": j + 1})  # fmt: skip
    doc = {
        "info": {"description": "generated, shaped like COCO 2017 train", "year": 2026},
        "licenses": [{"id": 1, "name": "generated", "url": ""}],
        "images": doc_images,
        "annotations": doc_anns,
        "categories": [
            {"supercategory": "thing", "id": c, "name": f"category {c:02d}"}
            for c in range(1, cats + 1)
        ],  # fmt: skip
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, path)
    return path


def make_tree(files: int, classes: int = 1000) -> Path:
    """An ImageFolder tree of empty .jpg files, a long tail over ``classes`` folders (cached)."""
    import numpy as np

    root = DATA / f"tree-{files}"
    done = root / ".complete"
    if done.exists():
        return root
    weight = 1.0 / np.arange(1, classes + 1)
    counts = np.maximum(1, np.floor(weight / weight.sum() * files)).astype(int)
    for c, n in enumerate(counts):
        folder = root / f"class_{c:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            (folder / f"{i:07d}.jpg").touch()
    done.touch()
    return root


COCO_PEER = """
import collections, sys
from pycocotools.coco import COCO
c = COCO(sys.argv[1])
images = {c.cats[k]['name']: len(set(c.catToImgs[k])) for k in c.cats}
objects = collections.Counter(a['category_id'] for a in c.dataset['annotations'])
empty = sum(1 for i in c.imgs if not c.imgToAnns.get(i))
"""

PLAIN_COCO = """
import collections, json, sys
doc = json.load(open(sys.argv[1]))
names = {c['id']: c['name'] for c in doc['categories']}
pairs = {(a['image_id'], a['category_id']) for a in doc['annotations']}
images = collections.Counter(names[c] for _, c in pairs)
objects = collections.Counter(names[a['category_id']] for a in doc['annotations'])
empty = len(doc['images']) - len({i for i, _ in pairs})
"""

PLAIN_SCAN = """
import os, sys, time
start = time.perf_counter()
EXT = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')
root = sys.argv[1]
classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
rows = []
for c in classes:
    for folder, _, names in sorted(os.walk(os.path.join(root, c), followlinks=True)):
        for name in sorted(names):
            if name.lower().endswith(EXT):
                rows.append((os.path.join(folder, name), c))
print(time.perf_counter() - start)
"""

TORCHVISION_SCAN = """
import sys, time
from torchvision.datasets.folder import find_classes, make_dataset
start = time.perf_counter()
_, index = find_classes(sys.argv[1])
rows = make_dataset(sys.argv[1], index, extensions=('.jpg', '.jpeg', '.png'))
print(time.perf_counter() - start)
"""

REBALANCE_SCAN = """
import sys, time
from rebalance.manifest import read_manifest
start = time.perf_counter()
rows = read_manifest(sys.argv[1])
print(time.perf_counter() - start)
"""


def scan_seconds(argv: list[str], repeat: int) -> float:
    """The best time a child reports for its scan alone (after its imports)."""
    runs = [
        float(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
        for _ in range(repeat)
    ]
    return min(runs)


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def best(argv: list[str], repeat: int) -> tuple[float, float]:
    runs = [measure(argv) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--coco-images", type=int, default=118_287)
    parser.add_argument("--coco-annotations", type=int, default=None)
    parser.add_argument("--tree-files", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    anns = args.coco_annotations or round(args.coco_images * 860_001 / 118_287)
    start = time.perf_counter()
    # made in a child: a child's peak RSS counts this process's memory at fork time
    here = str(Path(__file__).resolve().parent)
    code = (f"import sys; sys.path.insert(0, {here!r}); import bench_layouts as b; "
            f"b.make_coco({args.coco_images}, {anns}); b.make_tree({args.tree_files})")  # fmt: skip
    subprocess.run(python(code), check=True)
    coco = make_coco(args.coco_images, anns)
    tree = make_tree(args.tree_files)
    print(
        f"data ready in {time.perf_counter() - start:.0f} s: {coco} ({coco.stat().st_size / 1e6:.0f} MB), {tree}"
    )

    rows = [
        (
            "rebalance inspect coco.json --json",
            *best(rebalance("inspect", str(coco), "--json"), args.repeat),
        )
    ]
    if _has("pycocotools"):
        rows.append(
            (
                "pycocotools.COCO(path) + counting",
                *best(python(COCO_PEER) + [str(coco)], args.repeat),
            )
        )
    rows.append(
        (
            "json.load + counting (plain Python)",
            *best(python(PLAIN_COCO) + [str(coco)], args.repeat),
        )
    )
    _print(f"COCO: {args.coco_images:,} images, {anns:,} annotations, 80 categories", rows)

    rows = [
        ("rebalance read_manifest(root)", *best(python(REBALANCE_SCAN) + [str(tree)], args.repeat))
    ]
    if _has("torchvision"):
        rows.append(
            (
                "torchvision make_dataset scan",
                *best(python(TORCHVISION_SCAN) + [str(tree)], args.repeat),
            )
        )
    rows.append(
        ("os.walk scan written plainly", *best(python(PLAIN_SCAN) + [str(tree)], args.repeat))
    )
    rows.append(
        (
            "rebalance inspect root --json",
            *best(rebalance("inspect", str(tree), "--json"), args.repeat),
        )
    )
    _print(f"ImageFolder: {args.tree_files:,} files in 1,000 class folders (whole process)", rows)
    tree_arg = [str(tree)]
    scans = [
        (
            "rebalance read_manifest(root)",
            scan_seconds(python(REBALANCE_SCAN) + tree_arg, args.repeat),
            0.0,
        )
    ]
    if _has("torchvision"):
        scans.append(
            (
                "torchvision make_dataset scan",
                scan_seconds(python(TORCHVISION_SCAN) + tree_arg, args.repeat),
                0.0,
            )
        )
    scans.append(
        (
            "os.walk scan written plainly",
            scan_seconds(python(PLAIN_SCAN) + tree_arg, args.repeat),
            0.0,
        )
    )
    _print("the same scans, timed after their imports (listing and building the rows)", scans)


def _print(title: str, rows: list[tuple[str, float, float]]) -> None:
    first = rows[0][1]
    print(f"\n{title}")
    print(f"  {'command':<44} {'wall s':>8} {'× rebalance':>12} {'peak MB':>9}")
    for name, wall, rss in rows:
        print(f"  {name:<44} {wall:>8.2f} {wall / first:>12.2f} {rss:>9.0f}")


if __name__ == "__main__":
    main()
