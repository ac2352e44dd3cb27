"""LVIS-style repeat factors for segmentation manifests (Gupta et al. 2019).

For each class c, f(c) is the fraction of images (masks) in which it appears and
r(c) = max(1, sqrt(T / f(c))). An image is repeated by the factor of its rarest
class, r(i) = max over the classes in its mask of r(c): it appears floor(r(i)) times,
plus once more with probability frac(r(i)), decided by a seeded hash of the row (so
the same seed gives the same rows, whatever the order of the work).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance import arrays
from rebalance.cpus import usable_cpus
from rebalance.errors import RebalanceError
from rebalance.images.masks import check_named, read_mask
from rebalance.samplers import random as rnd


@dataclass
class RepeatPlan:
    """Per-class image frequency and repeat factor, and each row's number of copies."""

    threshold: float
    frequency: dict[str, float]  # fraction of images with the class
    factor: dict[str, float]
    copies: npt.NDArray[np.int64] = field(repr=False)  # extra copies per row (0: once)
    row_factor: npt.NDArray[np.float64] = field(repr=False)

    @property
    def rows_before(self) -> int:
        return len(self.copies)

    @property
    def rows_after(self) -> int:
        return int(len(self.copies) + self.copies.sum())

    def to_dict(self) -> dict[str, Any]:
        order = sorted(self.frequency, key=lambda c: (self.frequency[c], c))
        return {
            "target": f"repeat-factor:{self.threshold:g}",
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
            "rows_added": self.rows_after - self.rows_before,
            "image_repeat_factor": {
                "min": float(self.row_factor.min()) if len(self.row_factor) else None,
                "mean": float(self.row_factor.mean()) if len(self.row_factor) else None,
                "max": float(self.row_factor.max()) if len(self.row_factor) else None,
            },
            "classes": {
                c: {"image_frequency": self.frequency[c], "repeat_factor": self.factor[c]}
                for c in order
            },
        }


def _present(item: tuple[str, str]) -> npt.NDArray[np.int64]:
    full, shown = item
    return np.flatnonzero(np.bincount(read_mask(full, shown)))


def repeat_plan(
    masks: Sequence[str],
    *,
    threshold: float,
    seed: int,
    shown: Sequence[str] | None = None,
    names: Mapping[int, str] | None = None,
    workers: int | None = None,
    step: Callable[[int], None] | None = None,
) -> RepeatPlan:
    """Repeat factors of the images whose masks are ``masks`` (resolved paths)."""
    if not 0 < threshold <= 1:
        raise RebalanceError(f"repeat-factor:{threshold:g}: T must be in (0, 1], e.g. 0.001")
    shown = list(shown) if shown is not None else list(masks)
    with ThreadPoolExecutor(max_workers=workers or usable_cpus()) as pool:
        present: list[npt.NDArray[np.int64]] = []
        for ids in pool.map(_present, zip(masks, shown, strict=True)):
            present.append(ids)
            if step is not None:
                step(1)
    return plan_from_presence(present, threshold=threshold, seed=seed, names=names)


def plan_from_presence(
    present: Sequence[npt.NDArray[np.int64]],
    *,
    threshold: float,
    seed: int,
    names: Mapping[int, str] | None = None,
) -> RepeatPlan:
    """Repeat factors from the class ids present in each image (masks, or the categories
    of a detection image): r(c) = max(1, sqrt(T / f(c))), an image's the max over its
    classes (1 for an image without any), and its copies drawn from a seeded hash."""
    if not 0 < threshold <= 1:
        raise RebalanceError(f"repeat-factor:{threshold:g}: T must be in (0, 1], e.g. 0.001")
    n = len(present)
    if n == 0:
        raise RebalanceError("no images to plan repeat factors from")
    seen = np.bincount(np.concatenate(present)) if any(len(p) for p in present) else np.zeros(0)
    ids = np.flatnonzero(seen)
    check_named(ids, names)
    frequency = seen / n
    factor_by_id = np.ones(len(seen))
    factor_by_id[ids] = np.maximum(1.0, np.sqrt(threshold / frequency[ids]))
    row_factor = np.array(
        [float(factor_by_id[p].max()) if len(p) else 1.0 for p in present], dtype=np.float64
    )
    whole = np.floor(row_factor)
    # the fractional part: one more copy when the row's seeded uniform falls under it
    u = rnd.row_keys(n, seed, stream=3).astype(np.float64) / 2.0**64
    copies = (whole - 1 + (u < row_factor - whole)).astype(np.int64)

    def name(c: int) -> str:
        return names[c] if names is not None else str(c)

    return RepeatPlan(
        threshold=threshold,
        frequency={name(int(c)): float(frequency[c]) for c in ids},
        factor={name(int(c)): float(factor_by_id[c]) for c in ids},
        copies=copies,
        row_factor=row_factor,
    )


def repeated(table: pa.Table, copies: npt.NDArray[np.int64], *, provenance: bool) -> pa.Table:
    """Every row once, then the extra copies: copy round by copy round, in input order."""
    rounds = int(copies.max()) if len(copies) else 0
    parts = [table]
    sources = [np.arange(table.num_rows, dtype=np.int64)]
    for r in range(1, rounds + 1):
        rows = np.flatnonzero(copies >= r).astype(np.int64)
        parts.append(arrays.take(table, rows))
        sources.append(rows)
    out = pa.concat_tables(parts)
    if provenance:
        from rebalance.provenance import with_provenance

        src = np.concatenate(sources)
        out = with_provenance(out, src, np.zeros(len(src), dtype=bool))
    return out


def parse_threshold(target: str | None) -> float | None:
    """T of ``repeat-factor:T``, or None for any other target."""
    if target is None or not target.strip().lower().startswith("repeat-factor:"):
        return None
    raw = target.split(":", 1)[1].strip()
    try:
        value = float(raw)
    except ValueError:
        raise RebalanceError(f"--target {target}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise RebalanceError(f"--target {target}: T must be a number in (0, 1]")
    return value


def repeat_file(
    source: Any,
    output: Any,
    *,
    mask_col: str,
    threshold: float,
    seed: int = 0,
    root: str | None = None,
    mask_classes: str | None = None,
    workers: int | None = None,
    provenance: bool = False,
    allow_large: bool = False,
    output_format: str | None = None,
    dry_run: bool = False,
    step: Callable[[int], None] | None = None,
    paths: str = "relative",
) -> RepeatPlan:
    """``rebalance resample --mask-col COL --target repeat-factor:T``: plan, check the size, write.

    Relative mask paths resolve against the manifest's folder (or ``root``). With
    ``dry_run`` nothing is written. The output is every input row, then the copies, with
    relative paths written for the output's folder (``paths``, :mod:`rebalance.relocate`).
    """
    from rebalance.images.files import base_folder, column_paths, resolve
    from rebalance.images.masks import read_mask_classes
    from rebalance.manifest import (
        Source,
        column_error,
        read_manifest,
        resolve_destination,
        resolve_source,
        write_manifest,
    )
    from rebalance.provenance import refuse_provenance_columns
    from rebalance.resampling import growth_limit
    from rebalance.validation import check_seed

    check_seed(seed)
    src = source if isinstance(source, Source) else resolve_source(source)
    if src.is_stdio:
        raise RebalanceError(
            "--mask-col reads a manifest file, not stdin (its mask paths start from its folder)"
        )
    table = read_manifest(src)
    if mask_col not in table.column_names:
        raise column_error(src.name, mask_col, table.column_names)
    if provenance:
        refuse_provenance_columns(table.column_names, src.name)
    shown = column_paths(table, mask_col, what="mask", where=src.name)
    full = [p or "" for p in resolve(shown, base_folder(src, root))]
    names = read_mask_classes(mask_classes) if mask_classes else None
    plan = repeat_plan(
        full, threshold=threshold, seed=seed, shown=shown, names=names, workers=workers, step=step
    )
    if not allow_large and plan.rows_after > growth_limit(plan.rows_before):
        raise RebalanceError(
            f"the plan writes {plan.rows_after:,} rows ({plan.rows_after / plan.rows_before:,.0f}× the "
            f"{plan.rows_before:,} input rows); pass --allow-large to confirm, or choose a lower T"
        )
    if not dry_run:
        from rebalance.relocate import relocate_table

        dest = resolve_destination(output, output_format=output_format)
        rows, _ = relocate_table(
            repeated(table, plan.copies, provenance=provenance),
            src.path,
            dest.path,
            mode=paths,
            root=root,
            mask_col=mask_col,
        )
        write_manifest(rows, dest, input_path=src.path)
    return plan
