"""``inspect --html``: the report of a manifest as one self-contained page.

The sections follow the data: the key numbers and the gates; the distribution (class
count by rank on a log scale, the ``--min-count`` line, singletons in red) and the
rarest classes; the splits and their drift; for an image manifest a contact sheet,
rarest classes first, the bad files by kind and the sizes, modes and formats; for
masks the pixel share per class on a log scale and overlays of the rarest pixel
classes. Built from the same report the ``--json`` output prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rebalance.visual.charts as charts
import rebalance.visual.page as page
from rebalance.visual.charts import esc
from rebalance.visual.sheet import (
    ImageRows,
    Sheet,
    SheetOptions,
    Tile,
    as_rows,
    class_ids,
    contact_sheet,
    indicator_members,
    mask_overlays,
    single_members,
)

KINDS = ("single", "multi-label", "pixels", "regression")
_IMAGE_EXTENSIONS = frozenset(
    ".jpg .jpeg .png .gif .bmp .tif .tiff .webp .ppm .pgm .pbm .pnm .ico .jp2 .tga .dds".split()
)


@dataclass(frozen=True)
class PageInput:
    """What the page is made from: the report (``to_dict()``, as ``--json`` prints it),
    its kind, the file scan (``ImageScan.to_dict()``), the gates' verdicts, and the
    manifest's images (``None``: not an image manifest)."""

    doc: Mapping[str, Any]
    kind: str = "single"
    scan: Mapping[str, Any] | None = None
    gates: Sequence[tuple[str, str | None]] = ()
    images: ImageRows | None = None
    masks: Sequence[str | None] | None = None  # resolved mask paths, row by row
    mask_names: Sequence[str | None] | None = None  # the same, as the manifest writes them
    mask_ids: Mapping[str, int] | None = None  # pixel class name -> mask value
    examples: Mapping[str, Sequence[int]] | None = None  # pixel class -> rows to overlay


def inspect_html(
    what: PageInput,
    options: SheetOptions | None = None,
    *,
    title: str | None = None,
    step: Callable[[int], None] | None = None,
) -> str:
    """The page: every section the report's kind has (thumbnails made here)."""
    options = options or SheetOptions()
    if what.kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {what.kind!r}")
    doc = what.doc
    source = str(doc.get("source") or "")
    body: list[str] = [_key_numbers(what), page.gates(what.gates)]
    if what.kind == "regression":
        body.append(_regression(doc))
    elif what.kind != "pixels":
        body.append(_distribution(doc, what.kind))
        body.append(_splits(doc, what.kind))
    if what.kind == "multi-label":
        body.append(_multilabel(doc))
    if what.images is not None and what.kind in ("single", "multi-label"):
        sheet = contact_sheet(what.images, doc["counts"], options, step=step)
        body.append(_sheet(sheet, "images" if what.kind == "multi-label" else "rows"))
    scan = what.scan or {}
    if scan.get("files"):
        body.append(_files(scan["files"]))
    if scan.get("pixels"):
        body.append(_pixels(what, scan["pixels"], options))
    body.append(page.raw_json({**doc, **scan}))
    heading = title or f"rebalance inspect · {os.path.basename(source.rstrip('/')) or source}"
    return page.document(heading, source, body)


def _key_numbers(what: PageInput) -> str:
    doc, kind = what.doc, what.kind
    if kind == "regression":
        items = [
            ("rows", f"{doc['rows']:,}", f"target {doc['target_col']}"),
            ("range", f"{doc['min']:g} … {doc['max']:g}", ""),
            ("mean / median", f"{doc['mean']:.4g} / {doc['median']:.4g}", ""),
            ("skew", f"{doc['skew']:.3g}", "0 is symmetric"),
            ("rare ranges", f"{len(doc['rare_ranges']):,}", "bins far under the mean"),
        ]
    elif kind == "pixels":
        px = (what.scan or {}).get("pixels") or {}
        items = [
            ("masks", f"{px.get('images', 0):,}", ""),
            ("pixels", f"{px.get('pixels', 0):,}", ""),
            ("pixel classes", f"{len(px.get('counts', {})):,}", ""),
            (
                "imbalance ratio",
                f"{px.get('imbalance_ratio', 1.0):,.1f}",
                "largest / smallest class",
            ),
        ]
    elif kind == "multi-label":
        items = [
            ("rows", f"{doc['rows']:,}", f"{doc['empty_rows']:,} without a label"),
            (
                "labels",
                f"{doc['labels']:,}",
                f"{len(doc['small_labels']):,} under {doc['min_count']}",
            ),
            ("MeanIR", f"{doc['mean_ir']:,.2f}", "mean imbalance ratio per label"),
            ("MaxIR", f"{doc['max_ir']:,.1f}", "largest over rarest label"),
            ("cardinality", f"{doc['cardinality']:.3g}", "labels per row"),
        ]
        if "objects" in doc:
            items.append(("objects", f"{doc['objects']:,}", "annotations"))
    else:
        items = [
            ("rows", f"{doc['rows']:,}", f"label column {doc['label_col']}"),
            ("classes", f"{doc['classes']:,}", f"majority {doc['majority']}"),
            ("imbalance ratio", f"{doc['imbalance_ratio'] or 1:,.1f}", "largest / smallest class"),
            ("singletons", f"{len(doc['singletons']):,}", "classes with one row"),
            (
                "small classes",
                f"{len(doc['small_classes']):,}",
                f"under --min-count {doc['min_count']}",
            ),
            ("effective classes", f"{doc['effective_classes'] or 0:,.1f}", "exp(entropy)"),
        ]
        if doc.get("missing_labels"):
            items.append(("no label", f"{doc['missing_labels']:,}", "rows"))
    return page.cards(items)


def _distribution(doc: Mapping[str, Any], kind: str) -> str:
    counts = sorted(doc["counts"].items(), key=lambda kv: (-kv[1], kv[0]))
    what = "images" if kind == "multi-label" else "rows"
    rarest = counts[::-1][:20]
    total = sum(c for _, c in counts) or 1
    return "".join(
        [
            "<h2>Distribution</h2>",
            f'<p class="note">{what.capitalize()} per class by rank, largest first, on a log '
            "scale: the long tail at a glance. Red: singletons. Dashed: --min-count.</p>",
            charts.rank_chart(counts, min_count=doc.get("min_count"), what=what),
            "<h3>Rarest classes</h3>",
            page.table(
                ["class", what, "share"], [(label, c, f"{c / total:.3%}") for label, c in rarest]
            ),
        ]
    )


def _splits(doc: Mapping[str, Any], kind: str) -> str:
    splits = doc.get("splits")
    if not splits:
        return ""
    per_split = {name: d["counts"] for name, d in splits.items()}
    if kind == "multi-label":
        rows: list[tuple[Any, ...]] = [
            (name, d["rows"], d["labels"], d["mean_ir"]) for name, d in splits.items()
        ]
        header = ["split", "rows", "labels", "MeanIR"]
    else:
        rows = [
            (name, d["rows"], d["classes"], d["imbalance_ratio"], len(d["small_classes"]))
            for name, d in splits.items()
        ]
        header = ["split", "rows", "classes", "imbalance ratio", "small classes"]
    out = ["<h2>Splits</h2>", page.table(header, rows)]
    drift = doc.get("split_drift")
    if drift:
        absent = {s: v for s, v in drift["absent_from_split"].items() if v}
        for split, labels in absent.items():
            shown = ", ".join(labels[:20]) + (" …" if len(labels) > 20 else "")
            out.append(
                f'<div class="warn">{len(labels):,} class(es) absent from split '
                f"<b>{esc(split)}</b>: {esc(shown)}</div>"
            )
        if drift.get("max_share_shift_label") is not None:
            a, b = drift["max_share_shift_splits"]
            out.append(
                f'<p class="note">Largest share shift: {drift["max_share_shift"]:.2%} for '
                f"<b>{esc(drift['max_share_shift_label'])}</b> between {esc(a)} and {esc(b)}.</p>"
            )
    out.append('<p class="note">Share of each class per split (the 15 that shift most):</p>')
    out.append(charts.split_shares(per_split, _shifting(per_split, 15)))
    return "".join(out)


def _shifting(per_split: Mapping[str, Mapping[str, int]], limit: int) -> list[str]:
    """The labels whose share differs most between splits."""
    totals = {s: sum(c.values()) or 1 for s, c in per_split.items()}
    labels = sorted({label for c in per_split.values() for label in c})
    shift = {
        label: max(c.get(label, 0) / totals[s] for s, c in per_split.items())
        - min(c.get(label, 0) / totals[s] for s, c in per_split.items())
        for label in labels
    }
    return sorted(labels, key=lambda label: (-shift[label], label))[:limit]


def _multilabel(doc: Mapping[str, Any]) -> str:
    out = ["<h2>Label sets</h2>"]
    groups = doc.get("frequency_groups")
    if groups:
        out.append(f'<p class="note">{esc(groups["rule"])}</p>')
        out.append(
            page.table(
                ["group", "labels", "names"],
                [
                    (g, groups[g]["labels"], ", ".join(groups[g]["names"][:12]))
                    for g in ("rare", "common", "frequent")
                ],
            )
        )
    if doc.get("objects_per_label"):
        objects = sorted(doc["objects_per_label"].items(), key=lambda kv: (kv[1], kv[0]))
        out.append("<h3>Objects per label (fewest first)</h3>")
        out.append(charts.bars(dict(objects), title="objects", limit=20))
    out.append("<h3>Most common label sets</h3>")
    out.append(
        page.table(
            ["labels", "rows"],
            [(", ".join(s["labels"]) or "(none)", s["rows"]) for s in doc["top_label_sets"]],
        )
    )
    return "".join(out)


def _regression(doc: Mapping[str, Any]) -> str:
    out = [
        "<h2>Distribution of the target</h2>",
        charts.histogram(doc["bin_edges"], doc["bin_rows"]),
    ]
    if doc["rare_ranges"]:
        out.append("<h3>Rare ranges</h3>")
        out.append(
            page.table(list(doc["rare_ranges"][0]), [list(r.values()) for r in doc["rare_ranges"]])
        )
    return "".join(out)


def _sheet(sheet: Sheet, what: str) -> str:
    out = [
        "<h2>Images per class (rarest first)</h2>",
        "<p class=\"note\">A seeded draw of each class's images (--seed); the tail's handful "
        "can be checked by eye.</p>",
    ]
    out += [f'<div class="warn">{esc(n)}</div>' for n in sheet.notes]
    for label, count, tiles in sheet.classes:
        out.append(
            f'<div class="cls"><div class="name"><b>{esc(label)}</b><br>'
            f'<span class="muted">{count:,} {what}</span></div><div class="tiles">'
            + "".join(page.tile(t) for t in tiles)
            + "</div></div>"
        )
    return "".join(out)


def _files(files: Mapping[str, Any]) -> str:
    out = [
        "<h2>Files</h2>",
        page.cards(
            [
                ("images", f"{files['rows']:,}", ""),
                ("readable", f"{files['ok']:,}", ""),
                ("bad", f"{files['bad']:,}", "missing, unreadable, corrupt, too large"),
            ]
        ),
    ]
    reasons = files.get("reasons", {})
    for kind in ("missing", "unreadable", "corrupt", "too_large"):
        paths = files.get(kind) or []
        if not paths:
            continue
        shown = paths[:200]
        out.append(f"<h3>{kind.replace('_', ' ')} ({len(paths):,})</h3>")
        out.append(page.table(["file", "why"], [(p, reasons.get(p, "")) for p in shown]))
        if len(paths) > len(shown):
            out.append(f'<p class="note">… {len(paths) - len(shown):,} more in --json</p>')
    out.append('<div class="grid">')
    for key in ("sizes", "modes", "formats"):
        if files.get(key):
            out.append(charts.bars(files[key], title=key))
    out.append("</div>")
    return "".join(out)


def _pixels(what: PageInput, px: Mapping[str, Any], options: SheetOptions) -> str:
    shares = [(label, px["share"][label], n) for label, n in px["counts"].items()]
    shares.sort(key=lambda item: (-item[2], item[0]))
    out = [
        "<h2>Pixels per class</h2>",
        '<p class="note">Share of all mask pixels, log scale: a class 800 times rarer still shows.</p>',
        charts.log_share_bars(shares),
    ]
    if what.masks is not None and what.examples and what.mask_ids is not None:
        overlays = mask_overlays(
            what.examples,
            px["share"],
            what.images,
            what.masks,
            what.mask_ids,
            options,
            captions=what.mask_names,
        )
        out.append(
            "<h3>The rarest pixel classes over their images</h3>"
            '<p class="note">The class in red, boxed in yellow; the other classes lightly '
            "tinted.</p>"
        )
        for label, share, tiles in overlays:
            out.append(
                f'<div class="cls"><div class="name"><b>{esc(label)}</b><br>'
                f'<span class="muted">{share:.4%} of pixels</span></div><div class="tiles">'
                + "".join(page.tile(t, wide=True) for t in tiles)
                + "</div></div>"
            )
    return "".join(out)


def image_column(names: Sequence[str], given: str | None) -> str | None:
    """The column that may hold image paths: ``given``, or the first named like a path."""
    from rebalance.images.files import PATH_CANDIDATES

    if given is not None:
        return given
    return next((c for c in names if c.lower() in PATH_CANDIDATES), None)


def _image_paths(paths: Any) -> bool:
    """Whether a path column holds images: its first value has an image extension."""
    from rebalance.manifest import labels_as_text

    first = next((v for v in labels_as_text(paths.slice(0, 1000)).to_pylist() if v), None)
    return os.path.splitext(str(first or ""))[1].lower() in _IMAGE_EXTENSIONS


def manifest_images(
    source: Any,
    *,
    kind: str,
    label_col: str | None,
    path_col: str | None,
    root: str | None,
    labels: Mapping[str, Any] | None = None,
    input_format: str | None = None,
    encoding: str = "utf-8",
) -> ImageRows | None:
    """The images of a manifest and each row's classes (``labels``: the multi-label
    spelling, ``sep`` / ``label_cols``), or ``None`` when it holds no image paths. The
    path and label columns are read once each."""
    from rebalance.images.files import base_folder
    from rebalance.manifest import labels_as_text, read_columns, read_manifest, resolve_source

    src = (
        resolve_source(source, input_format=input_format, encoding=encoding)
        if isinstance(source, str | os.PathLike)
        else source
    )
    if src.is_stdio:
        return None
    name = image_column(read_columns(src), path_col)
    if name is None:
        return None
    paths = read_manifest(src, columns=[name]).column(name)
    if path_col is None and not _image_paths(paths):
        return None
    base = base_folder(src, root)
    if kind == "multi-label":
        from rebalance.multilabel.labels import read_label_sets

        spec = dict(labels or {})
        columns = None if spec.get("label_cols") or label_col is None else [label_col]
        sets = read_label_sets(
            read_manifest(src, columns=columns),
            label_col=None if spec.get("label_cols") else label_col, sep=spec.get("sep"),
            label_cols=spec.get("label_cols"), where=src.name,
        )  # fmt: skip
        return as_rows(paths, base, indicator_members(sets.names, sets.indicator))
    if label_col is None:  # masks without labels: the overlays need the images, no classes
        return as_rows(paths, base, _no_members)
    column = read_manifest(src, columns=[label_col]).column(label_col)
    return as_rows(paths, base, single_members(labels_as_text(column)))


def _no_members(label: str) -> Any:
    import numpy as np

    return np.empty(0, dtype=np.int64)


def mask_material(
    source: Any,
    mask_col: str,
    root: str | None,
    mask_classes: Mapping[int, str] | None,
    names: Sequence[str],
    *,
    input_format: str | None = None,
    encoding: str = "utf-8",
) -> tuple[list[str | None], list[str | None], dict[str, int]]:
    """Each row's mask as written and resolved, and the mask value of each pixel class name."""
    from rebalance.images.files import base_folder, resolve
    from rebalance.manifest import labels_as_text, read_manifest, resolve_source

    src = (
        resolve_source(source, input_format=input_format, encoding=encoding)
        if isinstance(source, str | os.PathLike)
        else source
    )
    shown = labels_as_text(read_manifest(src, columns=[mask_col]).column(mask_col)).to_pylist()
    return shown, resolve(shown, base_folder(src, root)), class_ids(names, mask_classes)


__all__ = ["PageInput", "SheetOptions", "Tile", "inspect_html", "manifest_images", "mask_material"]
