"""Random resampling of multi-label rows (Charte et al., 2015). Every output row is an exact
input row: a kept row, or a copy of one.

* ``ml-ros``: the labels whose IRLbl is above MeanIR are the minority labels; in turn, each
  gets a copy of a random row that has it, until the budget is spent; a label leaves the
  minority once its IRLbl (counted again after each copy) is no longer above MeanIR.
* ``ml-rus``: the labels whose IRLbl is below MeanIR are the majority labels; in turn, each
  loses a random row that has it and no minority label (removing those would deepen the
  imbalance), until the budget is spent; a label leaves the majority once its IRLbl is no
  longer below MeanIR.
* ``lp-ros`` / ``lp-rus``: each distinct label set is a class (label powerset). The label
  sets with fewer rows than the mean gain copies (more rows: lose rows), the smallest (the
  largest) first, each up to the mean and at most its share of the budget; what a set cannot
  take passes to the next.

The budget is ``percentage`` % of the rows (Charte et al.'s P), or, for ``ml-ros`` and
``ml-rus``, as many rows as it takes to bring MeanIR down to ``target_meanir``: then MeanIR
and the minority (majority) labels are counted again each round, and the run stops at the
target or when no label is left to copy (remove); an ``ml-ros`` run that would need more than
10× the input rows is refused unless ``allow_large`` (then it stops at 100×).

``repeat-factor`` (``--target repeat-factor:T``, detection data: COCO, YOLO, VOC) repeats
images as LVIS and detectron2's ``RepeatFactorTrainingSampler`` do: f(c) is the fraction of
images whose label set holds c, r(c) = max(1, sqrt(T / f(c))), an image's r the max over its
labels (1 without any); it appears floor(r) times, plus once more with probability
r − floor(r), drawn from a seeded hash of the row (:mod:`rebalance.images.repeat`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.multilabel.labels import LabelSets

METHODS = ("ml-ros", "ml-rus", "lp-ros", "lp-rus", "mlsmote", "repeat-factor")
PARENTS = "rebalance_parent_rows"
# a target MeanIR run may copy at most this many times the input rows unless allowed
GROWTH_LIMIT = 10


@dataclass
class MultiLabelResample:
    """Which input rows the output holds, in order, and what the run did."""

    rows: npt.NDArray[np.int64]  # input row of each output row
    copies: int
    removed: int
    method: str
    seed: int
    mean_ir_before: float | None
    mean_ir_after: float | None
    params: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    synthetic: int = 0
    labels: dict[str, dict[str, int]] = field(default_factory=dict)  # label -> before/after

    def to_dict(self) -> dict[str, Any]:
        return {
            "multi_label": True,
            "method": self.method,
            "seed": self.seed,
            "params": dict(self.params),
            "rows_out": len(self.rows) + self.synthetic,
            "copies": self.copies,
            "removed": self.removed,
            "synthetic": self.synthetic,
            "mean_ir_before": self.mean_ir_before,
            "mean_ir_after": self.mean_ir_after,
            "labels": {k: dict(v) for k, v in self.labels.items()},
        }


def mean_ir(counts: npt.NDArray[Any]) -> float | None:
    """MeanIR over the labels present."""
    present = counts[counts > 0]
    if not len(present):
        return None
    return float(np.mean(present.max() / present))


def _mean_ir(counts: npt.NDArray[Any]) -> float:
    """MeanIR of counts with a label present (inside the ROS/RUS loops)."""
    return mean_ir(counts) or 0.0


def _irlbl(counts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    with np.errstate(divide="ignore"):
        out: npt.NDArray[np.float64] = np.where(counts > 0, counts.max() / counts, 0.0)
    return out


def plan_rows(
    sets: LabelSets,
    *,
    method: str,
    percentage: float | None = None,
    target_meanir: float | None = None,
    seed: int = 0,
    allow_large: bool = False,
    threshold: float | None = None,
) -> MultiLabelResample:
    """The output rows of a multi-label resampling (see the module docstring); ``threshold``
    is T of ``repeat-factor``."""
    from rebalance.validation import check_seed

    check_seed(seed)
    if method not in METHODS:
        raise RebalanceError(
            f"--method {method!r} does not resample multi-label rows (use one of: "
            f"{', '.join(METHODS)})"
        )
    if method == "mlsmote":
        raise RebalanceError("mlsmote makes new rows: call resample_multilabel")
    if method == "repeat-factor":
        return _repeat_rows(sets, threshold, seed, allow_large)
    if threshold is not None:
        raise RebalanceError(f"--target repeat-factor:T repeats images: {method} takes no --target")
    if (percentage is None) == (target_meanir is None):
        raise RebalanceError("give one of --percentage P and --target-meanir M")
    if target_meanir is not None and method.startswith("lp-"):
        raise RebalanceError(f"--target-meanir applies to ml-ros and ml-rus, not {method}")
    if percentage is not None and not 0 < percentage <= (100 if method.endswith("rus") else 1e6):
        raise RebalanceError(f"--percentage must be in (0, 100] for {method}, got {percentage:g}")
    if target_meanir is not None and target_meanir < 1:
        raise RebalanceError(f"--target-meanir must be at least 1, got {target_meanir:g}")
    indicator = sets.indicator
    n = sets.rows
    counts = indicator.sum(axis=0).astype(np.int64)
    before = mean_ir(counts)
    if before is None:
        raise RebalanceError("no row has a label: nothing to resample")
    rng = np.random.default_rng(seed)
    budget = None if percentage is None else int(round(n * percentage / 100))
    if (
        budget is not None
        and method.endswith("ros")
        and budget > GROWTH_LIMIT * n
        and not allow_large
    ):
        raise RebalanceError(
            f"--percentage {percentage:g} would copy {budget:,} rows, over {GROWTH_LIMIT}× the "
            f"{n:,} input rows; pass --allow-large to run it"
        )
    if method == "ml-ros":
        added, stop = _ml_ros(
            indicator, counts.astype(float), budget, target_meanir, n, allow_large, rng
        )
        rows = np.concatenate([np.arange(n), added])
        removed = 0
    elif method == "ml-rus":
        dropped, stop = _ml_rus(indicator, counts.astype(float), budget, target_meanir, rng)
        keep = np.ones(n, dtype=bool)
        keep[dropped] = False
        rows = np.flatnonzero(keep)
        added = np.empty(0, dtype=np.int64)
        removed = len(dropped)
    else:
        change = _label_powerset(indicator, method, int(budget or 0), rng)
        stop = None
        if method == "lp-ros":
            added = change
            rows = np.concatenate([np.arange(n), added])
            removed = 0
        else:
            keep = np.ones(n, dtype=bool)
            keep[change] = False
            rows = np.flatnonzero(keep)
            added = np.empty(0, dtype=np.int64)
            removed = len(change)
    after = mean_ir(indicator[rows].sum(axis=0).astype(np.int64))
    messages = [stop] if stop else []
    return MultiLabelResample(
        rows=rows.astype(np.int64),
        copies=len(added),
        removed=removed,
        method=method,
        seed=seed,
        mean_ir_before=before,
        mean_ir_after=after,
        params={"percentage": percentage, "target_meanir": target_meanir},
        messages=messages,
    )


def _ml_ros(indicator: Any, counts: npt.NDArray[np.float64], budget: int | None,
            target: float | None, n: int, allow_large: bool, rng: Any) -> tuple[Any, str | None]:  # fmt: skip
    bags = [np.flatnonzero(indicator[:, j]) for j in range(indicator.shape[1])]
    start_mean = _mean_ir(counts)
    minority = [j for j in np.flatnonzero(_irlbl(counts) > start_mean) if len(bags[j])]
    added: list[int] = []
    limit = budget if budget is not None else GROWTH_LIMIT * n * (10 if allow_large else 1)
    while minority and len(added) < limit:
        level = start_mean
        if target is not None:
            # towards a target: the minority is counted again each round, against today's MeanIR
            level = _mean_ir(counts)
            if level <= target:
                break
            minority = [j for j in np.flatnonzero(_irlbl(counts) > level) if len(bags[j])]
        for j in list(minority):
            if len(added) >= limit:
                break
            row = int(bags[j][rng.integers(len(bags[j]))])
            added.append(row)
            counts += indicator[row]
            if _irlbl(counts)[j] <= level:
                minority.remove(j)
    reached = _mean_ir(counts)
    stop = None
    if target is not None and reached > target:
        if len(added) >= limit and not allow_large:
            raise RebalanceError(
                f"reaching MeanIR {target:g} takes more than {GROWTH_LIMIT}× the {n:,} input rows "
                f"(MeanIR {reached:.3g} after {len(added):,} copies): pass --allow-large to go "
                "on, or aim at a higher --target-meanir"
            )
        why = (
            f"the {GROWTH_LIMIT * 10}× size limit"
            if len(added) >= limit
            else "the point where no copy lowers it (labels that always come together)"
        )
        stop = f"MeanIR {reached:.3g} after {len(added):,} copies, not {target:g}: stopped at {why}"
    return np.asarray(added, dtype=np.int64), stop


def _ml_rus(indicator: Any, counts: npt.NDArray[np.float64], budget: int | None,
            target: float | None, rng: Any) -> tuple[Any, str | None]:  # fmt: skip
    n = indicator.shape[0]
    ir = _irlbl(counts)
    start_mean = _mean_ir(counts)
    minority_labels = ir > start_mean
    protected = indicator[:, minority_labels].any(axis=1)  # rows with a minority label stay
    alive = ~protected
    majority = list(np.flatnonzero((ir < start_mean) & (counts > 0)))
    removed: list[int] = []
    limit = budget if budget is not None else n
    while majority and len(removed) < limit:
        level = start_mean
        if target is not None:
            level = _mean_ir(counts)
            if level <= target:
                break
            ir = _irlbl(counts)
            majority = list(np.flatnonzero((ir < level) & (counts > 0)))
        for j in list(majority):
            if len(removed) >= limit:
                break
            candidates = np.flatnonzero(alive & indicator[:, j])
            if not len(candidates):
                majority.remove(j)
                continue
            row = int(candidates[rng.integers(len(candidates))])
            alive[row] = False
            removed.append(row)
            counts -= indicator[row]
            if _irlbl(counts)[j] >= level:
                majority.remove(j)
    reached = _mean_ir(counts)
    stop = None
    if target is not None and reached > target:
        stop = (
            f"MeanIR {reached:.3g} after removing {len(removed):,} rows, not {target:g}: no "
            "majority label has a row without a minority label left to remove"
        )
    return np.asarray(sorted(removed), dtype=np.int64), stop


def _label_powerset(indicator: Any, method: str, budget: int, rng: Any) -> Any:
    bags: dict[bytes, list[int]] = defaultdict(list)
    for i, row in enumerate(indicator):
        bags[np.packbits(row).tobytes()].append(i)
    sizes = {key: len(rows) for key, rows in bags.items()}
    mean_size = float(np.mean(list(sizes.values())))
    grow = method == "lp-ros"
    chosen = [k for k, v in sizes.items() if (v < mean_size if grow else v > mean_size)]
    if not chosen:
        return np.empty(0, dtype=np.int64)
    # the smallest (for copies) or largest (for removals) label sets first; ties by first row
    chosen.sort(key=lambda k: ((sizes[k] if grow else -sizes[k]), bags[k][0]))
    share = budget / len(chosen)
    out: list[int] = []
    for position, key in enumerate(chosen):
        room = (mean_size - sizes[key]) if grow else (sizes[key] - mean_size)
        take = int(min(room, share))
        members = np.asarray(bags[key])
        if grow:
            out.extend(members[rng.integers(len(members), size=take)].tolist())
        else:
            out.extend(rng.choice(members, size=take, replace=False).tolist())
        left = len(chosen) - position - 1
        if left:
            share += (share - take) / left
    return np.asarray(sorted(out) if not grow else out, dtype=np.int64)


def _repeat_rows(
    sets: LabelSets, threshold: float | None, seed: int, allow_large: bool
) -> MultiLabelResample:
    """Every row once, then the copies its repeat factor draws (copy round by round)."""
    from rebalance.images.repeat import plan_from_presence
    from rebalance.resampling import growth_limit

    if threshold is None:
        raise RebalanceError("repeat-factor needs its threshold: --target repeat-factor:T")
    indicator = sets.indicator
    n = sets.rows
    present = [np.flatnonzero(row).astype(np.int64) for row in indicator]
    plan = plan_from_presence(
        present, threshold=threshold, seed=seed, names=dict(enumerate(sets.names))
    )
    if not allow_large and plan.rows_after > growth_limit(n):
        raise RebalanceError(
            f"the plan writes {plan.rows_after:,} rows ({plan.rows_after / n:,.0f}× the {n:,} "
            "input rows); pass --allow-large to confirm, or choose a lower T"
        )
    rounds = int(plan.copies.max()) if n else 0
    rows = [np.arange(n, dtype=np.int64)]
    rows += [np.flatnonzero(plan.copies >= r).astype(np.int64) for r in range(1, rounds + 1)]
    out = np.concatenate(rows)
    doc = plan.to_dict()
    return MultiLabelResample(
        rows=out,
        copies=len(out) - n,
        removed=0,
        method="repeat-factor",
        seed=seed,
        mean_ir_before=mean_ir(indicator.sum(axis=0).astype(np.int64)),
        mean_ir_after=mean_ir(indicator[out].sum(axis=0).astype(np.int64)),
        params={
            "target": doc["target"],
            "image_repeat_factor": doc["image_repeat_factor"],
            "labels": doc["classes"],
        },  # fmt: skip
    )


@dataclass(frozen=True)
class MultiLabelRequest:
    """One resample of label sets: the label column(s), the method and how far it goes,
    the split resampled, and MLSMOTE's features and neighbours."""

    method: str = "ml-ros"
    label_col: str | None = None
    sep: str | None = None
    label_cols: Any = None
    percentage: float | None = None
    target_meanir: float | None = None
    seed: int = 0
    split_col: str | None = None
    detect_split: bool = True
    only_splits: Any = None
    all_splits: bool = False
    provenance: bool = False
    allow_large: bool = False
    features: Sequence[str] | None = None
    k_neighbors: int = 5
    label_mode: str = "ranking"
    target: str | None = None  # repeat-factor:T (method repeat-factor)

    def __post_init__(self) -> None:
        if self.target is not None:
            from rebalance.images.repeat import parse_threshold

            if parse_threshold(self.target) is None:
                raise RebalanceError(
                    f"--target {self.target}: multi-label rows take --target repeat-factor:T "
                    "(or --percentage / --target-meanir with ml-ros, ml-rus, lp-ros, lp-rus)"
                )
            if self.method not in ("ml-ros", "repeat-factor"):
                raise RebalanceError(
                    f"--target repeat-factor:T repeats images: leave out --method {self.method}"
                )
            object.__setattr__(self, "method", "repeat-factor")
        if self.method == "mlsmote" and (
            self.percentage is not None or self.target_meanir is not None
        ):
            raise RebalanceError(
                "mlsmote makes one new row per row of each minority label: it takes no "
                "--percentage or --target-meanir"
            )


def resample_multilabel(
    data: Any,
    request: MultiLabelRequest | None = None,
    *,
    where: str = "manifest",
    **options: Any,
) -> tuple[pa.Table, MultiLabelResample]:
    """Resample a multi-label table: its rows (all columns, original types) in input order,
    copies after them; with ``provenance`` the ``rebalance_source_row`` and
    ``rebalance_synthetic`` (always false) columns. With a split column, only the rows of
    ``only_splits`` are resampled (the others pass through), or every row with
    ``all_splits``, as for single labels. ``mlsmote`` adds synthetic rows after the input rows
    (see :mod:`rebalance.multilabel.smote`; ``features``, ``k_neighbors``, ``label_mode``):
    features and labels filled, other columns empty, and with ``provenance`` the two rows
    each came from in ``rebalance_parent_rows``."""
    from dataclasses import replace

    from rebalance.manifest import as_table
    from rebalance.multilabel.labels import read_label_sets
    from rebalance.multilabel.stats import _split_column
    from rebalance.resampling import SOURCE_ROW, SYNTHETIC, Columns, selected_rows

    if request is None:
        request = MultiLabelRequest(**options)  # a keyword it does not know is a TypeError
    elif options:
        raise TypeError(f"resample_multilabel() takes a request or options ({sorted(options)})")
    r = request
    table = as_table(data)
    sets = read_label_sets(
        table, label_col=r.label_col, sep=r.sep, label_cols=r.label_cols, where=where
    )
    split = _split_column(table.column_names, r.split_col, r.detect_split, sets, where)
    mask = selected_rows(
        table,
        Columns(sets.columns[0], split, None, None),
        only_splits=r.only_splits,
        all_splits=r.all_splits,
        where=where,
    )
    n = sets.rows
    subset = np.arange(n) if mask is None else np.flatnonzero(mask)
    if r.method == "mlsmote":
        return _mlsmote(table, sets, subset, r.features, r.k_neighbors, r.label_mode, r.seed,
                        r.provenance, where, split)  # fmt: skip
    from rebalance.images.repeat import parse_threshold

    result = plan_rows(
        replace(sets, indicator=sets.indicator[subset]),
        method=r.method,
        percentage=r.percentage,
        target_meanir=r.target_meanir,
        seed=r.seed,
        allow_large=r.allow_large,
        threshold=parse_threshold(r.target),
    )
    chosen = subset[result.rows]
    originals = len(chosen) - result.copies
    keep = np.ones(n, dtype=bool)
    keep[subset] = False
    keep[chosen[:originals]] = True
    result.rows = np.concatenate([np.flatnonzero(keep), chosen[originals:]]).astype(np.int64)
    result.labels = _label_plan(sets.names, sets.indicator[subset], sets.indicator[chosen])
    out = table.take(pa.array(result.rows))
    if r.provenance:
        out = out.append_column(SOURCE_ROW, pa.array(result.rows, pa.int64()))
        out = out.append_column(SYNTHETIC, pa.array(np.zeros(len(result.rows), dtype=bool)))
    return out, result


def _mlsmote(table: pa.Table, sets: LabelSets, subset: Any, features: Sequence[str] | None,
             k: int, label_mode: str, seed: int, provenance: bool, where: str,
             split: str | None = None) -> tuple[pa.Table, MultiLabelResample]:  # fmt: skip
    from rebalance.multilabel.smote import mlsmote
    from rebalance.resampling import SOURCE_ROW, SYNTHETIC
    from rebalance.resampling.tabular import cast_like
    from rebalance.samplers.tabular import choose_features, feature_matrix
    from rebalance.validation import check_seed

    check_seed(seed)
    columns, categorical = choose_features(table, features, list(sets.columns), where=where)
    if categorical:
        raise RebalanceError(
            f"{where}: mlsmote interpolates numbers; {', '.join(map(repr, categorical))} is text"
        )
    X = np.asarray(feature_matrix(table, columns, [], where=where).matrix, dtype=np.float64)
    before = mean_ir(sets.indicator[subset].sum(axis=0).astype(np.int64))
    made = mlsmote(
        X[subset], sets.indicator[subset], sets.names, k=k, seed=seed, label_mode=label_mode
    )
    m = len(made.labels)
    arrays = []
    for field_ in table.schema:
        if field_.name in columns:
            arrays.append(cast_like(made.features[:, columns.index(field_.name)], field_.type))
        elif field_.name in sets.columns:
            arrays.append(_label_values(sets, field_, made.labels))
        elif field_.name == split and m:
            # a new row belongs to the split of the row it grew from
            seeds = subset[made.parents[:, 0]]
            arrays.append(table.column(split).take(pa.array(seeds)).combine_chunks())
        else:
            arrays.append(pa.nulls(m, field_.type))
    out = pa.concat_tables([table, pa.Table.from_arrays(arrays, schema=table.schema)])
    if provenance:
        sources = np.concatenate([np.arange(table.num_rows), np.full(m, -1)])
        out = out.append_column(SOURCE_ROW, pa.array(sources, pa.int64(), mask=sources < 0))
        out = out.append_column(SYNTHETIC, pa.array(np.arange(out.num_rows) >= table.num_rows))
        parents = subset[made.parents]
        lists = [None] * table.num_rows + [[int(a), int(b)] for a, b in parents]
        out = out.append_column(PARENTS, pa.array(lists, pa.list_(pa.int64())))
    every = np.concatenate([sets.indicator[subset], made.labels])
    result = MultiLabelResample(
        rows=np.arange(table.num_rows, dtype=np.int64),
        copies=0,
        removed=0,
        method="mlsmote",
        seed=seed,
        mean_ir_before=before,
        mean_ir_after=mean_ir(every.sum(axis=0).astype(np.int64)),
        params={"k_neighbors": k, "label_mode": label_mode, "features": columns},
        messages=list(made.messages),
    )
    result.synthetic = m
    result.labels = _label_plan(sets.names, sets.indicator[subset], every)
    return out, result


def _label_plan(names: Sequence[str], before: Any, after: Any) -> dict[str, dict[str, int]]:
    """Rows with each label among the rows resampled, before and after."""
    b, a = before.sum(axis=0), after.sum(axis=0)
    return {n: {"before": int(b[j]), "after": int(a[j])} for j, n in enumerate(names)}


def _label_values(sets: LabelSets, field_: pa.Field, labels: Any) -> pa.Array:
    """The synthetic rows' labels in the shape of the label column(s)."""
    if len(sets.columns) > 1 or (sets.sep is None and not _is_list(field_.type)):
        j = sets.names.index(field_.name)
        ones = labels[:, j]
        if pa.types.is_boolean(field_.type):
            return pa.array(ones, pa.bool_())
        if pa.types.is_integer(field_.type) or pa.types.is_floating(field_.type):
            return pa.array(ones.astype(np.int64)).cast(field_.type)
        return pa.array(np.where(ones, "1", "0").tolist(), pa.string()).cast(field_.type)
    rows = [[sets.names[j] for j in np.flatnonzero(r)] for r in labels]
    if sets.sep is not None:
        return pa.array([sets.sep.join(r) for r in rows], pa.string()).cast(field_.type)
    return pa.array(rows, pa.list_(pa.string())).cast(field_.type)


def _is_list(type_: pa.DataType) -> bool:
    return bool(pa.types.is_list(type_) or pa.types.is_large_list(type_))
