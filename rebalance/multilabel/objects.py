"""Object-level counts of detection data (COCO, YOLO, VOC): how many objects of each
category, beside how many images hold it, and LVIS's frequency groups.

A detection manifest's label column lists the categories of each image; its
``instances`` column (a list of the same length) counts the objects of each. The groups
follow the issue's reading of LVIS (Gupta et al., 2019): **rare** categories are in fewer
than 10 images, **common** in 10 to 100, **frequent** in more than 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from rebalance.errors import RebalanceError

INSTANCES = "instances"
RARE_BELOW = 10  # images
FREQUENT_ABOVE = 100  # images


def frequency_group(images: int) -> str:
    """``rare``, ``common`` or ``frequent``, from the number of images with a category."""
    if images < RARE_BELOW:
        return "rare"
    return "frequent" if images > FREQUENT_ABOVE else "common"


@dataclass(frozen=True)
class ObjectCounts:
    """Objects per category, the images holding each, and the LVIS groups."""

    objects: dict[str, int]
    images: dict[str, int]
    images_without_objects: int

    @property
    def total(self) -> int:
        return sum(self.objects.values())

    def groups(self) -> dict[str, list[str]]:
        """The categories of each frequency group, by name."""
        out: dict[str, list[str]] = {"rare": [], "common": [], "frequent": []}
        for name in sorted(self.images):
            out[frequency_group(self.images[name])].append(name)
        return out

    def to_dict(self) -> dict[str, Any]:
        groups = self.groups()
        return {
            "objects": self.total,
            "objects_per_label": dict(sorted(self.objects.items(), key=lambda kv: (-kv[1], kv[0]))),
            "images_without_objects": self.images_without_objects,
            "frequency_groups": {
                "rule": f"rare: in fewer than {RARE_BELOW} images; common: {RARE_BELOW} to "
                f"{FREQUENT_ABOVE}; frequent: more than {FREQUENT_ABOVE}",
                **{name: {"labels": len(v), "names": v} for name, v in groups.items()},
            },
        }


def object_counts(table: pa.Table, label_col: str, where: str = "data") -> ObjectCounts | None:
    """The object counts of a detection manifest, or ``None`` when it has no ``instances``
    list beside its label list. A row whose two lists differ in length is an error."""
    if INSTANCES not in table.column_names or label_col not in table.column_names:
        return None
    kinds = (table.schema.field(label_col).type, table.schema.field(INSTANCES).type)
    if not all(pa.types.is_list(t) or pa.types.is_large_list(t) for t in kinds):
        return None
    objects: dict[str, int] = {}
    images: dict[str, int] = {}
    empty = 0
    labels = table.column(label_col).to_pylist()
    counts = table.column(INSTANCES).to_pylist()
    for row, (names, numbers) in enumerate(zip(labels, counts, strict=True)):
        names, numbers = names or [], numbers or []
        if len(names) != len(numbers):
            raise RebalanceError(
                f"{where}: data row {row + 1} has {len(names)} label(s) but {len(numbers)} "
                f"{INSTANCES!r} count(s)"
            )
        if not names:
            empty += 1
        for name, number in zip(names, numbers, strict=True):
            objects[name] = objects.get(name, 0) + int(number or 0)
            images[name] = images.get(name, 0) + 1
    return ObjectCounts(objects=objects, images=images, images_without_objects=empty)
