"""The image methods' parts: the bad-file scan, ``augment`` and the similarity methods (``cluster``, ``dedup``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance import arrays
from rebalance.errors import RebalanceError
from rebalance.manifest import (
    labels_as_text,
)
from rebalance.plan import Plan
from rebalance.provenance import (
    with_provenance,
)
from rebalance.resampling.request import ResampleRequest, RunHooks
from rebalance.resampling.state import Rows
from rebalance.samplers import random as rnd


def _bad_images(
    table: pa.Table,
    scanned: npt.NDArray[np.bool_],
    path_col: str | None,
    root: str | None,
    workers: int | None,
    where: str,
    *,
    skip_bad: bool,
) -> npt.NDArray[np.bool_]:
    """Per row: its image is missing, unreadable, corrupt or over the pixel limit
    (``inspect --check-files``'s test).

    Only the ``scanned`` rows (those a method reads) are opened. Without ``skip_bad`` any
    bad one is an error that counts them by kind and names the first five; with it, the
    bad rows are returned to be left out, unless no scanned row is left.
    """
    from rebalance.images.files import SHOWN, base_folder, check_files, path_column

    name = path_column(table.column_names, path_col, where=where)
    rows = np.flatnonzero(scanned)
    shown = labels_as_text(table.column(name)).take(pa.array(rows)).to_pylist()
    report = check_files(shown, base=base_folder(None, root), workers=workers)
    bad_paths = (
        set(report.missing) | set(report.unreadable) | set(report.corrupt) | set(report.too_large)
    )
    bad_here = np.fromiter((not p or p in bad_paths for p in shown), dtype=bool, count=len(shown))
    bad = np.zeros(table.num_rows, dtype=bool)
    bad[rows[bad_here]] = True
    n_bad = int(bad_here.sum())
    if not n_bad:
        return bad
    if skip_bad and n_bad < len(rows):
        return bad
    kinds = [
        f"{n:,} {kind}"
        for kind, n in (
            ("missing", len(report.missing)),
            ("unreadable", len(report.unreadable)),
            ("corrupt", len(report.corrupt)),
            ("too large", len(report.too_large)),
            ("without a path", report.empty),
        )
        if n
    ]
    listed = [*report.missing, *report.unreadable, *report.corrupt, *report.too_large]
    first = ", ".join(f"{p} ({report.reasons[p]})" for p in listed[:SHOWN]) or "empty paths"
    more = ", …" if len(listed) > SHOWN else ""
    if skip_bad:
        raise RebalanceError(
            f"{where}: all {len(rows):,} row(s) to resample were skipped as bad images "
            f"({', '.join(kinds)}: {first}{more}); fix the files or the paths (--root), "
            "inspect --check-files lists them all"
        )
    raise RebalanceError(
        f"{where}: {n_bad:,} of {len(rows):,} image file(s) in column {name!r} are bad "
        f"({', '.join(kinds)}): {first}{more}; fix them, or pass --skip-bad "
        "to leave those rows out (inspect --check-files lists them all)"
    )


PARENT = "rebalance_parent"


AUGMENT = "rebalance_augment"


@dataclass
class _NewImages:
    """What ``augment`` makes for each copied row: the file tasks and the new rows' text."""

    tasks: list[Any] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    masks: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)


def augment_rows(
    rows: Rows,
    kept: npt.NDArray[np.int64] | None,
    added: npt.NDArray[np.int64],
    request: ResampleRequest,
    hooks: RunHooks,
    notes: list[str],
) -> tuple[pa.Table, list[Any]]:
    """The output of ``augment``: the kept rows, then one new row per new image, whose files
    are written here. A new row is its parent row with the new path (and mask), its parent's
    path in ``rebalance_parent`` and the transform as JSON in ``rebalance_augment``; and the
    new images (:class:`rebalance.resampling.choice.NewImage`)."""
    from rebalance.images.files import path_column

    images, where = request.images, hooks.where
    table = rows.table
    name = path_column(table.column_names, images.path_col, where=where)
    # an augmented manifest augmented again: its rows keep their parent and transform
    earlier = {
        c: labels_as_text(table.column(c)) for c in (PARENT, AUGMENT) if c in table.column_names
    }
    table = table.drop_columns(list(earlier))
    if images.mask_col is not None and images.mask_col not in table.column_names:
        from rebalance.manifest import column_error

        raise column_error(where, images.mask_col, table.column_names)
    n_kept = table.num_rows if kept is None else len(kept)
    new = _new_images(table, name, rows, added, n_kept, request, where)
    _write_new_images(new, request, hooks, notes)
    head = table if kept is None else arrays.take(table, kept)
    copies = _set_text(arrays.take(table, added), name, new.paths)
    if images.mask_col is not None:
        copies = _set_text(copies, images.mask_col, new.masks)
    out = pa.concat_tables([head, copies])
    head_rows = np.arange(head.num_rows) if kept is None else kept
    for column, values in ((PARENT, new.parents), (AUGMENT, new.params)):
        before = earlier.get(column)
        kept_values = (
            [None] * head.num_rows
            if before is None
            else before.take(pa.array(head_rows, pa.int64())).to_pylist()
        )
        out = out.append_column(column, pa.array(kept_values + values, type=pa.string()))
    if request.provenance:
        sources = np.concatenate([head_rows, added]).astype(np.int64)
        if rows.positions is not None:
            sources = rows.positions[sources]
        flags = np.concatenate([np.zeros(head.num_rows, bool), np.ones(len(added), bool)])
        out = with_provenance(out, sources, flags)
    from rebalance.resampling.choice import NewImage

    made = [
        NewImage(int(row), shown, task.target, params)
        for row, shown, task, params in zip(
            added.tolist(), new.paths, new.tasks, new.params, strict=True
        )
    ]
    return out, made


def _new_images(
    table: pa.Table,
    name: str,
    rows: Rows,
    added: npt.NDArray[np.int64],
    n_kept: int,
    request: ResampleRequest,
    where: str,
) -> _NewImages:
    """One file task per copied row: its source image (and mask), target and transform."""
    from rebalance.images.augment import Task, draw, file_name, params_json, parse_augment
    from rebalance.images.files import base_folder, resolve

    images = request.images
    spec = parse_augment(images.augment)
    base = base_folder(None, images.root)
    shown = labels_as_text(table.column(name)).take(pa.array(added)).to_pylist()
    mask_col = images.mask_col
    masks = None
    if mask_col is not None:
        masks = labels_as_text(table.column(mask_col)).take(pa.array(added)).to_pylist()
    folder = os.path.abspath(images.image_dir or "")
    new = _NewImages()
    copy_number: dict[int, int] = {}
    for j, (row, parent) in enumerate(zip(added.tolist(), shown, strict=True)):
        if not parent:
            raise RebalanceError(
                f"{where}: data row {row + 1} has no image path in column {name!r}"
            )
        copy_number[row] = copy_number.get(row, 0) + 1
        label = rows.dictionary[int(rows.codes[row])]
        ext = os.path.splitext(parent)[1] or ".png"
        target = os.path.join(folder, file_name(label, parent, copy_number[row], ext))
        params = draw(spec, request.seed, n_kept + j)
        mask_source = mask_target = None
        if masks is not None:
            mask_parent = masks[j]
            if not mask_parent:
                raise RebalanceError(
                    f"{where}: data row {row + 1} has no mask in column {mask_col!r}"
                )
            mask_ext = os.path.splitext(mask_parent)[1] or ".png"
            mask_source = resolve([mask_parent], base)[0]
            mask_target = target[: -len(ext)] + "__mask" + mask_ext
            new.masks.append(os.path.relpath(mask_target, base))
        source = resolve([parent], base)[0] or ""
        new.tasks.append(Task(source, target, params, mask_source, mask_target))
        new.paths.append(os.path.relpath(target, base))
        new.parents.append(parent)
        new.params.append(params_json(params))
    return new


def _write_new_images(
    new: _NewImages, request: ResampleRequest, hooks: RunHooks, notes: list[str]
) -> None:
    """Write the new images (after the size pre-flight of their files), and say so."""
    import time

    from rebalance.images.augment import plan_files, write_images
    from rebalance.output import atomic_write

    images = request.images
    estimate = plan_files(new.tasks, allow_large=request.plan.allow_large)
    if not new.tasks:
        return
    os.makedirs(os.path.abspath(images.image_dir or ""), exist_ok=True)
    started = time.perf_counter()

    def write(path: str, data: bytes) -> None:
        def put(fh: Any) -> None:
            fh.write(data)

        atomic_write(path, put)

    write_images(
        new.tasks, workers=images.workers, write=hooks.write_file or write,
        step=hooks.image_progress,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    files = len(new.tasks) * (2 if images.mask_col is not None else 1)
    notes.append(
        f"augment wrote {files:,} file(s) into {images.image_dir} "
        f"(about {estimate / 1024**2:,.1f} MB) in {seconds:.1f} s, "
        f"{len(new.tasks) / max(seconds, 1e-9):,.0f} images/s"
    )


def _set_text(table: pa.Table, name: str, values: list[str]) -> pa.Table:
    """The table with column ``name`` replaced by ``values`` (as the column's text type)."""
    i = table.column_names.index(name)
    field = table.schema.field(i)
    kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
    array = pa.array(values, type=kind if pa.types.is_large_string(kind) else pa.string())
    if pa.types.is_dictionary(field.type):
        array = array.dictionary_encode().cast(field.type)
    return table.set_column(i, field, array)


def _similar_rows(
    method: str,
    matrix: npt.NDArray[np.float32],
    codes: npt.NDArray[np.int64],
    dictionary: list[str],
    plan: Plan,
    seed: int,
    threshold: float | None,
    messages: list[str],
) -> tuple[npt.NDArray[np.int64], tuple[Any, Any] | None]:
    """Rows kept by ``cluster`` (k-means per class to its target) or ``dedup``, and for
    ``dedup`` each removed row's kept neighbour and distance."""
    from rebalance.images.select import cluster_keep, dedup_pairs

    code_of = {label: i for i, label in enumerate(dictionary)}
    if method == "cluster":
        targets = {code_of[label]: t for label, t in plan.targets.items() if t < plan.counts[label]}
        kept = cluster_keep(matrix, codes, targets, seed=seed)
        pairs = None
    else:
        assert threshold is not None
        kept, duplicate_of, distance = dedup_pairs(matrix, codes, threshold)
        pairs = (duplicate_of, distance)
        gone = rnd.bincount(codes, len(dictionary)) - rnd.bincount(codes[kept], len(dictionary))
        removed = {dictionary[i]: int(n) for i, n in enumerate(gone) if n > 0}
        shown = ", ".join(
            f"{label!r} {n:,}" for label, n in sorted(removed.items(), key=lambda kv: -kv[1])[:10]
        )
        messages.append(
            f"dedup removed {sum(removed.values()):,} near-duplicate row(s)"
            + (f": {shown}" if removed else "")
        )
    unlabelled = np.flatnonzero(codes < 0)
    return np.union1d(kept[codes[kept] >= 0], unlabelled).astype(np.int64), pairs


def image_choice(rows: Rows, request: ResampleRequest, where: str, **decided: Any) -> Any:
    """What the image method did (:class:`rebalance.resampling.choice.ImageChoice`), or
    ``None`` when the rows have no path column (features given as columns)."""
    from rebalance.images.files import base_folder, path_column, resolve
    from rebalance.resampling.choice import ImageChoice

    try:
        name = path_column(rows.table.column_names, request.images.path_col, where=where)
    except RebalanceError:
        return None
    shown = [
        None if v is None or v == "" else str(v)
        for v in labels_as_text(rows.table.column(name)).to_pylist()
    ]
    labels = [rows.dictionary[c] if c >= 0 else None for c in rows.codes.tolist()]
    full = resolve(shown, base_folder(None, request.images.root))
    return ImageChoice(request.method.method, shown, full, labels, **decided)
