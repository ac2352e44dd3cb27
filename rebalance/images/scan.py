"""``inspect --check-files`` and ``--mask-col`` as one library call on a manifest."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rebalance.errors import RebalanceError
from rebalance.images.files import (
    FileCheck,
    base_folder,
    check_files,
    column_paths,
    path_column,
    resolve,
)
from rebalance.images.masks import PixelCounts, pixel_counts, read_mask_classes
from rebalance.manifest import (
    Source,
    as_table,
    detect_column,
    is_table,
    labels_as_text,
    read_columns,
    read_manifest,
    resolve_source,
)


@dataclass
class ImageScan:
    """File checks of the path column and pixel counts of the mask column, as asked."""

    source: str
    path_col: str | None = None
    mask_col: str | None = None
    files: FileCheck | None = None
    pixels: PixelCounts | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.files is not None:
            doc["path_col"] = self.path_col
            doc["files"] = self.files.to_dict()
        if self.pixels is not None:
            doc["mask_col"] = self.mask_col
            doc["pixels"] = self.pixels.to_dict()
        return doc


def _column_text(table: Any, name: str) -> list[str | None]:
    return [
        None if v is None or v == "" else str(v)
        for v in labels_as_text(table.column(name)).to_pylist()
    ]


def scan_images(
    source: str | os.PathLike[str] | Source | Any,
    *,
    check: bool = False,
    path_col: str | None = None,
    mask_col: str | None = None,
    mask_classes: str | None = None,
    root: str | None = None,
    workers: int | None = None,
    input_format: str | None = None,
    encoding: str = "utf-8",
    step: Callable[[int], None] | None = None,
    only_split: tuple[str, str] | None = None,
    examples: int = 0,
    seed: int = 0,
) -> ImageScan:
    """Check the image files (``check``) and count mask pixels (``mask_col``) of a manifest.

    Relative paths resolve against the manifest's folder, or ``root``. A bad mask is an
    error naming it; bad images are listed in the result's ``files``. ``examples``: masks
    kept per pixel class for a report (:attr:`PixelCounts.examples`, row positions, drawn
    from ``seed``).
    """
    if is_table(source):
        table_in = as_table(source, name="source")
        where, names, src = "table", table_in.column_names, None
    else:
        src = (
            source
            if isinstance(source, Source)
            else resolve_source(source, input_format=input_format, encoding=encoding)
        )
        if src.is_stdio and (check or mask_col):
            raise RebalanceError(
                "--check-files and --mask-col read a manifest file, not stdin "
                "(its relative paths start from its folder)"
            )
        table_in, names = None, read_columns(src)
        where = src.name
    base = base_folder(src, root)
    scan = ImageScan(source=where)
    wanted: list[str] = []
    if check:
        scan.path_col = path_column(names, path_col, where=where)
        wanted.append(scan.path_col)
    if mask_col is not None:
        detect_column(names, mask_col, (), where=where, flag="--mask-col")  # exists, or a hint
        scan.mask_col = mask_col
        wanted.append(mask_col)
    if not wanted:
        return scan
    if only_split is not None:
        wanted.append(only_split[0])
    table = table_in if table_in is not None else read_manifest(src, columns=wanted)  # type: ignore[arg-type]
    if only_split is not None:
        import pyarrow.compute as pc

        column, value = only_split
        table = table.filter(pc.equal(labels_as_text(table.column(column)), value))
    if check and scan.path_col is not None:
        scan.files = check_files(
            _column_text(table, scan.path_col), base=base, workers=workers, step=step
        )
    if scan.mask_col is not None:
        shown = column_paths(table, scan.mask_col, what="mask", where=where)
        names_by_id = read_mask_classes(mask_classes) if mask_classes else None
        full = [p for p in resolve(shown, base) if p is not None]
        scan.pixels = pixel_counts(
            full,
            shown=shown,
            names=names_by_id,
            workers=workers,
            step=step,
            examples=examples,
            seed=seed,
        )
    return scan
