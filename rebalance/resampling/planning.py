"""The plan of a resample (how many rows each class gets), apart from the method that carries it out."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from rebalance.counts import LabelCounts
from rebalance.errors import RebalanceError
from rebalance.manifest import (
    Source,
    resolve_source,
)
from rebalance.plan import Plan, Target, cleaning_plan, parse_target, plan_targets
from rebalance.resampling.roles import _choose_splits
from rebalance.samplers.registry import method_kind


def default_target(method: str) -> str:
    """``max`` for random and oversampling methods, ``min`` for undersampling ones."""
    kind = method_kind(method)
    return "min" if kind in ("select", "generate") else "max"


def _method_mode(method: str, mode: str | None, target: Target) -> str | None:
    kind = method_kind(method)
    natural = {
        "over": "over",
        "combine": "over",
        "augment": "over",
        "select": "under",
        "generate": "under",
    }.get(kind)
    if natural is None:
        return mode
    if mode is not None and mode != natural:
        raise RebalanceError(
            f"--method {method} only {'adds' if natural == 'over' else 'removes'} rows: --mode {mode} "
            f"is not possible (use --mode {natural}, or --method random)"
        )
    return natural


def plan_from_counts(
    counts: LabelCounts,
    *,
    target: str | int | None = None,
    method: str = "random",
    mode: str | None = None,
    min_per_class: int | None = None,
    max_per_class: int | None = None,
    per_class: Mapping[str, int] | None = None,
    only_splits: Sequence[str] | None = None,
    all_splits: bool = False,
    split_col: str | None = None,
    where: str = "manifest",
    cleaning: Any = None,
) -> Plan:
    """The plan a resample would follow, from streamed counts (for ``--dry-run``);
    ``cleaning`` is a cleaning method's ``sampling_strategy``."""
    if counts.by_split is not None:
        if only_splits:
            unknown = [s for s in only_splits if s not in counts.by_split]
            if unknown:
                raise RebalanceError(
                    f"{where}: no split {unknown[0]!r} in column {split_col!r} "
                    f"(splits: {', '.join(sorted(counts.by_split))})"
                )
            merged: dict[str, int] = {}
            for s in only_splits:
                for label, n in counts.by_split[s].items():
                    merged[label] = merged.get(label, 0) + n
            table = merged
        elif all_splits:
            table = counts.counts
        else:
            raise _choose_splits(where, split_col, sorted(counts.by_split))
    else:
        if only_splits:
            raise RebalanceError(f"{where}: --only-split needs a split column (--split-col)")
        table = counts.counts
    return _plan(table, target, method, mode, min_per_class, max_per_class, per_class, cleaning)


def _plan(
    counts: Mapping[str, int],
    target: str | int | None,
    method: str,
    mode: str | None,
    min_per_class: int | None,
    max_per_class: int | None,
    per_class: Mapping[str, int] | None,
    cleaning: Any = None,
) -> Plan:
    """The plan for a method: its default target, and the only direction it can move."""
    if method_kind(method) == "clean":
        if per_class or min_per_class is not None or max_per_class is not None:
            raise RebalanceError(
                f"--method {method} removes the noisy rows it finds and follows no per-class "
                "targets: --plan, --min-per-class and --max-per-class do not apply"
            )
        if mode not in (None, "under"):
            raise RebalanceError(
                f"--method {method} only removes rows: --mode {mode} is not possible"
            )
        return cleaning_plan(counts, method, "auto" if cleaning is None else cleaning)
    parsed = parse_target(target if target is not None else default_target(method))
    return plan_targets(
        counts,
        parsed,
        mode=_method_mode(method, mode, parsed),
        min_per_class=min_per_class,
        max_per_class=max_per_class,
        per_class=per_class,
    )


def plan_manifest(
    source: str | os.PathLike[str] | Source,
    *,
    label_col: str | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    missing: str = "keep",
    only_splits: Sequence[str] | None = None,
    all_splits: bool = False,
    **plan_options: Any,
) -> tuple[Plan, int]:
    """The plan a resample of a manifest file would follow, from its streamed label counts.

    Reads only the label (and split) columns: this is ``--dry-run``. Returns the plan
    and the number of input rows. ``plan_options`` are those of :func:`plan_from_counts`.
    """
    from rebalance.stats import apply_missing_policy, count_labels

    if not isinstance(source, Source):
        source = resolve_source(source)
    counts, label, split = count_labels(
        source, label_col=label_col, split_col=split_col, detect_split=detect_split
    )
    counts = apply_missing_policy(counts, missing, where=source.name, label_col=label)
    plan = plan_from_counts(
        counts,
        only_splits=only_splits,
        all_splits=all_splits,
        split_col=split,
        where=source.name,
        **plan_options,
    )
    return plan, counts.rows
