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


def _lengths(lists: pa.Array) -> Any:
    """Each row's list length (0 for a null list), from the offsets."""
    import numpy as np

    from rebalance import arrays

    offsets = np.frombuffer(
        lists.buffers()[1], dtype=np.int32 if pa.types.is_list(lists.type) else np.int64
    )
    start = lists.offset
    sizes = np.diff(offsets[start : start + len(lists) + 1]).astype(np.int64)
    sizes[~arrays.valid(lists)] = 0
    return sizes


def object_counts(table: pa.Table, label_col: str, where: str = "data") -> ObjectCounts | None:
    """The object counts of a detection manifest, or ``None`` when it has no ``instances``
    list beside its label list. A row whose two lists differ in length is an error."""
    if INSTANCES not in table.column_names or label_col not in table.column_names:
        return None
    kinds = (table.schema.field(label_col).type, table.schema.field(INSTANCES).type)
    if not all(pa.types.is_list(t) or pa.types.is_large_list(t) for t in kinds):
        return None
    import numpy as np

    from rebalance import arrays

    # plain list buffers and numpy: pyarrow.compute would import pandas (a second)
    labels = table.column(label_col).combine_chunks()
    counts = table.column(INSTANCES).combine_chunks()
    sizes = _lengths(labels)
    numbers = _lengths(counts)
    differ = np.flatnonzero(sizes != numbers)
    if len(differ):
        row = int(differ[0])
        raise RebalanceError(
            f"{where}: data row {row + 1} has {int(sizes[row])} label(s) but "
            f"{int(numbers[row])} {INSTANCES!r} count(s)"
        )
    position: dict[str, int] = {}
    codes = np.fromiter(
        (position.setdefault(str(v), len(position)) for v in labels.flatten().to_pylist()),
        dtype=np.int64,
    )
    names = list(position)
    per = arrays.integers(counts.flatten(), null=0)
    object_sums = np.bincount(codes, weights=per.astype(np.float64), minlength=len(names))
    image_sums = np.bincount(codes, minlength=len(names))
    objects = {str(n): int(round(v)) for n, v in zip(names, object_sums.tolist(), strict=True)}
    images = {str(n): int(v) for n, v in zip(names, image_sums.tolist(), strict=True)}
    empty = int((sizes == 0).sum())
    return ObjectCounts(objects=objects, images=images, images_without_objects=empty)
