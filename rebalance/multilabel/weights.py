"""Loss weights for multi-label training.

* ``pos-weight`` (the default): for each label, negatives / positives = (n − n_l) / n_l, the
  ``pos_weight`` of ``torch.nn.BCEWithLogitsLoss``, in label order (a tensor of length L:
  ``BCEWithLogitsLoss(pos_weight=torch.tensor(vector))``);
* every single-label scheme of :mod:`rebalance.weights` (``balanced``, ``inverse``,
  ``effective``…) applied to the labels' positive counts n_l (so n in those formulas is the
  number of label assignments, Σ n_l), with the same normalizations.

Per-row sample weights combine the weights of a row's labels: their ``mean`` (the default)
or their ``max`` (a row as heavy as its rarest label); a row with no label weighs 1.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.multilabel.labels import LabelSets, read_label_sets

ROW_COMBINE = ("mean", "max")
POS_WEIGHT = "pos-weight"


@dataclass(frozen=True)
class LabelWeights:
    """Weights per label, in label order (the order of the model's outputs)."""

    scheme: str
    normalize: str
    labels: list[str]
    rows: int
    positives: dict[str, int]
    weights: dict[str, float]
    params: dict[str, Any] = field(default_factory=dict)
    split: str | None = None

    def vector(self) -> list[float]:
        """Weights in label order: ``BCEWithLogitsLoss(pos_weight=torch.tensor(vector))``."""
        return [self.weights[label] for label in self.labels]

    def to_dict(self) -> dict[str, Any]:
        return {
            "multi_label": True,
            "scheme": self.scheme,
            "normalize": self.normalize,
            "params": dict(self.params),
            "labels": list(self.labels),
            "rows": self.rows,
            "positives": {label: self.positives[label] for label in self.labels},
            "negatives": {label: self.rows - self.positives[label] for label in self.labels},
            "weights": {label: self.weights[label] for label in self.labels},
            "index": {label: i for i, label in enumerate(self.labels)},
            "split": self.split,
        }


def label_weights(
    sets: LabelSets,
    *,
    scheme: str = POS_WEIGHT,
    beta: float = 0.999,
    c: float = 1.02,
    normalize: str | None = None,
    clip: tuple[float, float] | None = None,
    renormalize: bool = False,
    overrides: Mapping[str, float] | None = None,
) -> LabelWeights:
    """Per-label weights of label sets (see the module docstring for the schemes).

    Raises :class:`RebalanceError` for a label no row has (its weight would be infinite) and,
    for ``pos-weight``, a label every row has (its weight would be 0).
    """
    positives = {n: int(v) for n, v in zip(sets.names, sets.indicator.sum(axis=0), strict=True)}
    rows = sets.rows
    if not positives:
        raise RebalanceError("no labels to weight: every row has an empty label set")
    absent = [n for n, v in positives.items() if v == 0]
    if absent:
        raise RebalanceError(
            f"label(s) on no row of the rows weighed: {_names(absent)}; a weight would be "
            "infinite (leave those columns out of --label-cols, or pick another --from-split)"
        )
    unknown = sorted(set(overrides or {}) - set(positives))
    if unknown:
        raise RebalanceError(f"--override names label(s) not in the data: {_names(unknown)}")
    manual = None
    if scheme == POS_WEIGHT:
        everywhere = [n for n, v in positives.items() if v == rows]
        if everywhere:
            raise RebalanceError(
                f"label(s) on every row: {_names(everywhere)}; their pos_weight would be 0"
            )
        # negatives / positives, then the same normalize, clip and overrides as every scheme
        manual = {n: (rows - v) / v for n, v in positives.items()}
    from rebalance.weights import class_weights

    found = class_weights(
        positives,
        scheme="balanced" if manual is not None else scheme,
        beta=beta,
        c=c,
        normalize=normalize,
        clip=clip,
        renormalize=renormalize,
        overrides=overrides,
        manual=manual,
        classes=list(sets.names),
    )
    weights, how, params = found.weights, found.normalize, found.params
    return LabelWeights(
        scheme=scheme,
        normalize=how,
        labels=list(sets.names),
        rows=rows,
        positives=positives,
        weights=dict(weights),
        params=params,
    )


def row_weights(sets: LabelSets, weights: LabelWeights, *, combine: str = "mean") -> Any:
    """One weight per row: the ``mean`` or ``max`` of its labels' weights; 1 for no label."""
    if combine not in ROW_COMBINE:
        raise RebalanceError(f"--row-weight {combine!r} is not one of: {', '.join(ROW_COMBINE)}")
    vector = np.array([weights.weights[n] for n in sets.names], dtype=float)
    has = sets.indicator
    count = has.sum(axis=1)
    if combine == "mean":
        total = (has * vector).sum(axis=1)
        out = np.divide(total, count, out=np.ones(len(count)), where=count > 0)
    else:
        out = np.where(has, vector, -np.inf).max(axis=1, initial=-np.inf)
        out[count == 0] = 1.0
    return out


def multilabel_weights(
    source: str | os.PathLike[str] | Any,
    *,
    label_col: str | None = None,
    sep: str | None = None,
    label_cols: Sequence[str] | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    from_split: str | None = None,
    strict: bool = False,
    input_format: str | None = None,
    encoding: str = "utf-8",
    **options: Any,
) -> LabelWeights:
    """Per-label weights of a multi-label manifest (a path, ``"-"`` or a table), from the
    ``train`` split (or ``from_split``) when it has a split column. ``options`` go to
    :func:`label_weights`."""
    _, sets, chosen, split = _sets_of(
        source, label_col, sep, label_cols, split_col, detect_split, from_split, strict,
        input_format, encoding,
    )  # fmt: skip
    return replace(label_weights(_rows(sets, chosen), **options), split=split)


def with_row_weights(
    source: str | os.PathLike[str] | Any,
    *,
    label_col: str | None = None,
    sep: str | None = None,
    label_cols: Sequence[str] | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    from_split: str | None = None,
    strict: bool = False,
    combine: str = "mean",
    weight_col: str = "weight",
    input_format: str | None = None,
    encoding: str = "utf-8",
    **options: Any,
) -> tuple[pa.Table, LabelWeights]:
    """The manifest with one more column, each row's weight (see :func:`row_weights`); the
    label weights come from the ``train`` split (or ``from_split``) and weigh every row."""
    if combine not in ROW_COMBINE:  # before any reading
        raise RebalanceError(f"--row-weight {combine!r} is not one of: {', '.join(ROW_COMBINE)}")
    table, sets, chosen, split = _sets_of(
        source, label_col, sep, label_cols, split_col, detect_split, from_split, strict,
        input_format, encoding,
    )  # fmt: skip
    if weight_col in table.column_names:
        raise RebalanceError(f"column {weight_col!r} already exists (choose another --weight-col)")
    weights = replace(label_weights(_rows(sets, chosen), **options), split=split)
    per_row = row_weights(sets, weights, combine=combine)
    return table.append_column(weight_col, pa.array(per_row, pa.float64())), weights


def _rows(sets: LabelSets, chosen: Any) -> LabelSets:
    return sets if chosen is None else replace(sets, indicator=sets.indicator[chosen])


def _sets_of(
    source: Any,
    label_col: str | None,
    sep: str | None,
    label_cols: Sequence[str] | None,
    split_col: str | None,
    detect_split: bool,
    from_split: str | None,
    strict: bool,
    input_format: str | None,
    encoding: str,
) -> tuple[pa.Table, LabelSets, Any, str | None]:
    """The table, its label sets, which rows the weights come from (``None``: all) and
    the split they form."""
    from rebalance.manifest import labels_as_text, load_table
    from rebalance.multilabel.stats import _split_column
    from rebalance.stats import pick_split

    table, where = load_table(source, input_format=input_format, encoding=encoding)
    sets = read_label_sets(
        table, label_col=label_col, sep=sep, label_cols=label_cols, strict=strict, where=where
    )
    split = _split_column(table.column_names, split_col, detect_split, sets, where)
    if split is None:
        if from_split is not None:
            raise RebalanceError(f"{where}: --from-split needs a split column")
        return table, sets, None, None
    values = np.asarray(labels_as_text(table.column(split)).to_pylist(), dtype=object)
    chosen = pick_split(sorted({str(v) for v in values if v is not None}), from_split, where=where)
    return table, sets, values == chosen, chosen


def _names(labels: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(repr(x) for x in list(labels)[:limit])
    return shown + (f", … {len(labels) - limit} more" if len(labels) > limit else "")
