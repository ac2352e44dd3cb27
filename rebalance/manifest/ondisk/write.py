"""Writing a manifest back in an image dataset's own terms: COCO JSON and image lists.

* **COCO** (``-o out.json``, from a COCO input): the chosen images in output order with
  their annotations; an image chosen again is a new image (a new id, ``rebalance_source_id``
  naming the one it copies) with its annotations copied under new ids. Every other key of
  the input (``info``, ``licenses``, ``categories``…) is kept as it was. When the images do
  not lie in the output's folder, ``rebalance_image_root`` says where they are (relative to
  the output), so that the file is read back from any folder.
* **Image list** (``-o train.txt``): one image path a line, copies as repeated lines — what
  YOLO trainers read. Paths are relative to the list's folder (``./``-prefixed, as
  Ultralytics reads them), or absolute where they would climb out of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import IO, Any

import pyarrow as pa

from rebalance.errors import RebalanceError


def _path_column(table: pa.Table, where: str) -> str:
    from rebalance.manifest.columns import PATH_NAMES

    for name in table.column_names:
        if name.lower() in PATH_NAMES:
            return str(name)
    raise RebalanceError(f"{where}: an image list needs a path column (path, image, file…)")


def write_image_list(tables: Iterable[pa.Table], fh: IO[bytes], out_dir: str) -> None:
    """One path a line, as described in the module docstring."""
    for table in tables:
        name = _path_column(table, "-o (image list)")
        lines = []
        for value in table.column(name).to_pylist():
            if value is None or value == "":
                raise RebalanceError(f"-o (image list): a row has no {name!r}")
            text = str(value)
            if "://" not in text and not os.path.isabs(text):
                if text.startswith("../") or text == "..":
                    text = os.path.normpath(os.path.join(out_dir, text))
                elif not text.startswith("./"):
                    text = "./" + text
            lines.append(text + "\n")
        fh.write("".join(lines).encode("utf-8"))


def coco_document(table: pa.Table, source: Any, out_dir: str) -> dict[str, Any]:
    """The COCO document of the output rows of a COCO ``source`` (see the module docstring)."""
    from rebalance.manifest.ondisk import layout_base
    from rebalance.manifest.ondisk.coco import ROOT_KEY, load_coco

    if source is None or getattr(source, "format", None) != "coco":
        raise RebalanceError(
            "-o *.json writes COCO, from a COCO input only (write the manifest as .csv, "
            ".parquet or .jsonl)"
        )
    if "image_id" not in table.column_names:
        raise RebalanceError(f"{source.name}: the rows to write as COCO have no image_id column")
    doc = load_coco(source.path)
    images = {img["id"]: img for img in doc["images"]}
    by_image: dict[int, list[dict[str, Any]]] = {}
    for ann in doc.get("annotations", []):
        by_image.setdefault(ann["image_id"], []).append(ann)
    next_image = max(images, default=0) + 1
    next_ann = max((a.get("id", 0) for a in doc.get("annotations", [])), default=0) + 1
    out_images: list[dict[str, Any]] = []
    out_anns: list[dict[str, Any]] = []
    used: set[int] = set()
    for image_id in table.column("image_id").to_pylist():
        if image_id not in images:
            raise RebalanceError(f"{source.name}: image id {image_id} is not in the input")
        if image_id not in used:
            used.add(image_id)
            out_images.append(images[image_id])
            out_anns.extend(by_image.get(image_id, []))
            continue
        out_images.append({**images[image_id], "id": next_image, "rebalance_source_id": image_id})
        for ann in by_image.get(image_id, []):
            out_anns.append({**ann, "id": next_ann, "image_id": next_image})
            next_ann += 1
        next_image += 1
    out: dict[str, Any] = {}
    for key, value in doc.items():
        out[key] = out_images if key == "images" else out_anns if key == "annotations" else value
    out.setdefault("annotations", out_anns)
    out.pop(ROOT_KEY, None)
    root = os.path.abspath(layout_base(source))
    if os.path.normpath(root) != os.path.normpath(out_dir):
        out[ROOT_KEY] = os.path.relpath(root, out_dir).replace(os.sep, "/")
    return out


def write_coco(tables: Iterable[pa.Table], fh: IO[bytes], source: Any, out_dir: str) -> None:
    """The output rows as a COCO file (compact JSON, UTF-8, keys in the input's order)."""
    table = pa.concat_tables(list(tables))
    doc = coco_document(table, source, out_dir)
    fh.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
