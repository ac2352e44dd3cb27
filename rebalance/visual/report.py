"""``inspect --html`` in one library call: the report of a manifest file as a page."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from rebalance.visual.inspect_page import PageInput, inspect_html, manifest_images, mask_material
from rebalance.visual.sheet import SheetOptions


def inspect_report_html(
    source: str | os.PathLike[str],
    *,
    label_col: str | None = None,
    split_col: str | None = None,
    min_count: int = 10,
    multi_label: bool = False,
    sep: str | None = None,
    label_cols: Sequence[str] | None = None,
    check_files: bool = False,
    path_col: str | None = None,
    root: str | None = None,
    mask_col: str | None = None,
    mask_classes: str | None = None,
    options: SheetOptions | None = None,
) -> str:
    """The text of the HTML report ``rebalance inspect SOURCE --html`` writes.

    One label per row (``label_col``), label sets (``multi_label``, ``sep`` or
    ``label_cols``), or, with ``mask_col`` and no label column, the mask pixels alone.
    ``check_files`` adds the file checks, ``mask_col`` the pixel counts and overlays;
    ``options`` chooses the pictures (``SheetOptions(seed=3)``) and caps the page.
    """
    from rebalance.images.scan import scan_images
    from rebalance.manifest import LABEL_CANDIDATES, read_columns, resolve_source

    options = options or SheetOptions()
    path = os.fspath(source)
    multi = multi_label or sep is not None or bool(label_cols)
    scan: Any = None
    if check_files or mask_col is not None:
        scan = scan_images(
            path, check=check_files, path_col=path_col, mask_col=mask_col,
            mask_classes=mask_classes, root=root, workers=options.workers,
            examples=options.overlays_per_class, seed=options.seed,
        )  # fmt: skip
    masks: dict[str, Any] = {}
    if scan is not None and scan.pixels is not None:
        from rebalance.images.masks import read_mask_classes

        names = read_mask_classes(mask_classes) if mask_classes else None
        shown, full, ids = mask_material(
            path, mask_col or "", root, names, list(scan.pixels.counts)
        )
        masks = {"masks": full, "mask_names": shown, "mask_ids": ids}
        masks["examples"] = scan.pixels.examples
    columns = read_columns(resolve_source(path))
    pixels_only = mask_col is not None and label_col is None and not multi
    if pixels_only and not any(c.lower() in LABEL_CANDIDATES for c in columns):
        images = manifest_images(path, kind="pixels", label_col=None, path_col=path_col, root=root)
        what = PageInput({"source": path}, "pixels", scan.to_dict(), images=images, **masks)
        return inspect_html(what, options)
    if multi:
        from rebalance.multilabel.stats import inspect_multilabel

        report: Any = inspect_multilabel(
            path, label_col=label_col, sep=sep, label_cols=label_cols, split_col=split_col,
            min_count=min_count,
        )  # fmt: skip
        doc = report.to_dict()
        kind, label = "multi-label", label_col or (doc.get("label_columns") or [None])[0]
    else:
        from rebalance.stats import inspect

        report = inspect(path, label_col=label_col, split_col=split_col, min_count=min_count)
        doc, kind, label = report.to_dict(), "single", report.label_col
    images = manifest_images(
        path, kind=kind, label_col=label, path_col=path_col, root=root,
        labels={"sep": sep, "label_cols": label_cols},
    )  # fmt: skip
    scanned = scan.to_dict() if scan is not None else None
    return inspect_html(PageInput(doc, kind, scanned, images=images, **masks), options)
