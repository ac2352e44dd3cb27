"""Resampling a regression target: random over/under-sampling by bin, and SMOTER.

* ``random``: the target's bins (``bins``, ``binning``) act as classes: the usual plan
  (``target``, ``mode``) and the usual seeded, hash-keyed random selection of
  :func:`rebalance.resampling.resample`; every output row is an exact input row.
* ``smoter`` (Torgo et al. 2013): the rows at or below the ``rare_quantile`` quantile of the
  target, and those at or above the 1 − ``rare_quantile`` one, are rare (each tail on its
  own). Each tail gains ``over`` new rows per row: a seed row of the tail, one of its
  ``k_neighbors`` nearest rows of the same tail (features scaled by their range over all
  rows), x = x_s + u · (x_n − x_s) with u uniform in [0, 1), and the target weighted by
  inverse distance, y = (d_n · y_s + d_s · y_n) / (d_s + d_n) with d_s, d_n the distances
  of x to the two rows (their mean when both are 0). The other rows are kept with
  probability ``under`` (1: all). New rows hold the feature and target columns (and the split
  of their seed row); the other columns are empty, and ``provenance`` marks them with both
  rows they came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.regression.target import make_bins, read_target

METHODS = ("random", "smoter")
PARENTS = "rebalance_parent_rows"


@dataclass
class RegressionResample:
    """The resampled table and what was done."""

    table: pa.Table
    method: str
    seed: int
    target_col: str
    rows_in: int
    synthetic_rows: int = 0
    plan: dict[str, dict[str, int]] = field(default_factory=dict)  # bin or tail -> before/after
    params: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "regression": True,
            "method": self.method,
            "seed": self.seed,
            "target_col": self.target_col,
            "params": dict(self.params),
            "rows_in": self.rows_in,
            "rows_out": self.table.num_rows,
            "synthetic_rows": self.synthetic_rows,
            "plan": {k: dict(v) for k, v in self.plan.items()},
        }


@dataclass(frozen=True)
class RegressionRequest:
    """One resample of a numeric target: the target and split columns, the method and its
    plan (``random``: bins, target, mode; ``smoter``: rare quantile, over, under, k)."""

    label_col: str | None = None
    method: str = "random"
    seed: int = 0
    bins: int = 10
    binning: str = "width"
    target: str | int | None = None
    mode: str | None = None
    rare_quantile: float = 0.1
    over: float = 2.0
    under: float = 1.0
    k_neighbors: int = 5
    features: Sequence[str] | None = None
    provenance: bool = False
    allow_large: bool = False
    split_col: str | None = None
    detect_split: bool = True
    only_splits: Sequence[str] | None = None
    all_splits: bool = False

    def __post_init__(self) -> None:
        from rebalance.validation import check_seed

        check_seed(self.seed)
        if self.method not in METHODS:
            raise RebalanceError(
                f"--method {self.method!r} does not resample a regression target (use one of: "
                f"{', '.join(METHODS)})"
            )


def resample_regression(
    data: Any,
    request: RegressionRequest | None = None,
    *,
    where: str = "manifest",
    **options: Any,
) -> RegressionResample:
    """Resample a table with a numeric target column (see the module docstring). With a
    split column, only the rows of ``only_splits`` are resampled (the others pass through),
    or every row with ``all_splits``, as for classes."""
    from rebalance.manifest import LABEL_CANDIDATES, as_table, detect_column
    from rebalance.resampling import Columns, selected_rows

    if request is None:
        request = RegressionRequest(**options)  # a keyword it does not know is a TypeError
    elif options:
        raise TypeError(f"resample_regression() takes a request or options ({sorted(options)})")
    r = request
    table = as_table(data)
    name = detect_column(
        table.column_names, r.label_col, LABEL_CANDIDATES, where=where, flag="--label-col"
    )
    assert name is not None
    y = read_target(table, name, where=where)
    split = detect_column(
        table.column_names, r.split_col, ("split",) if r.detect_split else (), where=where,
        flag="--split-col", required=False,
    )  # fmt: skip
    chosen = selected_rows(table, Columns(name, split, None, None), only_splits=r.only_splits,
                           all_splits=r.all_splits, where=where)  # fmt: skip
    if r.method == "random":
        return _random(table, y, name, r.seed, r.bins, r.binning, r.target, r.mode,
                       r.provenance, r.allow_large, where, split, r.only_splits,
                       r.all_splits)  # fmt: skip
    return _smoter(table, y, name, r.seed, r.rare_quantile, r.over, r.under, r.k_neighbors,
                   r.features, r.provenance, where, chosen, split)  # fmt: skip


def _random(table: pa.Table, y: Any, name: str, seed: int, bins: int, binning: str,
            target: Any, mode: Any, provenance: bool, allow_large: bool, where: str,
            split: str | None, only_splits: Any, all_splits: bool) -> RegressionResample:  # fmt: skip
    from rebalance.resampling import resample

    edges = make_bins(y, bins, binning)
    which = edges.index(y)
    width = len(str(edges.count - 1))
    labels = [
        f"{i:0{width}d}: {edges.edges[i]:.6g}–{edges.edges[i + 1]:.6g}" for i in range(edges.count)
    ]
    bin_col = "rebalance_bin"
    while bin_col in table.column_names:
        bin_col = "_" + bin_col
    with_bins = table.append_column(bin_col, pa.array([labels[i] for i in which], pa.string()))
    result = resample(
        with_bins,
        target=target,
        mode=mode,
        seed=seed,
        label_col=bin_col,
        split_col=split,
        detect_split=False,
        only_splits=only_splits,
        all_splits=all_splits,
        provenance=provenance,
        allow_large=allow_large,
        where=where,
    )
    plan = {
        label: {"before": result.plan.counts[label], "after": result.produced.get(label, 0)}
        for label in labels
        if label in result.plan.counts
    }
    return RegressionResample(
        table=result.table.drop_columns([bin_col]),
        method="random",
        seed=seed,
        target_col=name,
        rows_in=table.num_rows,
        plan=plan,
        params={"bins": edges.count, "binning": binning, "target": target, "mode": mode},
        messages=list(result.messages),
    )


def _smoter(table: pa.Table, y: npt.NDArray[np.float64], name: str, seed: int, q: float,
            over: float, under: float, k: int, features: Sequence[str] | None,
            provenance: bool, where: str, chosen: Any, split: str | None = None) -> RegressionResample:  # fmt: skip
    from sklearn.neighbors import NearestNeighbors

    from rebalance.resampling import SOURCE_ROW, SYNTHETIC
    from rebalance.resampling.tabular import cast_like
    from rebalance.samplers.tabular import choose_features, feature_matrix

    if not 0.0 < q < 0.5:
        raise RebalanceError(f"--rare-quantile must be in (0, 0.5), got {q:g}")
    if over < 0:
        raise RebalanceError(f"--over must not be negative, got {over:g}")
    if not 0.0 <= under <= 1.0:
        raise RebalanceError(f"--under must be in [0, 1], got {under:g}")
    if k < 1:
        raise RebalanceError(f"--k-neighbors must be at least 1, got {k}")
    columns, categorical = choose_features(table, features, [name], where=where)
    resampled = np.ones(len(y), dtype=bool) if chosen is None else np.asarray(chosen, dtype=bool)
    if categorical:
        raise RebalanceError(
            f"{where}: smoter interpolates numbers; {', '.join(map(repr, categorical))} is text"
        )
    X = np.asarray(feature_matrix(table, columns, [], where=where).matrix, dtype=np.float64)
    span = X.max(axis=0) - X.min(axis=0)
    scaled = X / np.where(span > 0, span, 1.0)
    low, high = np.quantile(y[resampled], [q, 1 - q])
    tails = {
        "low": np.flatnonzero(resampled & (y <= low)),
        "high": np.flatnonzero(resampled & (y >= high)),
    }
    rare = resampled & ((y <= low) | (y >= high))
    rng = np.random.default_rng(seed)
    new_x, new_y, parents = [], [], []
    plan: dict[str, dict[str, int]] = {}
    for tail, rows in tails.items():
        wanted = int(round(over * len(rows)))
        plan[tail] = {"before": len(rows), "after": len(rows)}
        if wanted == 0:
            continue
        if len(rows) < 2:
            raise RebalanceError(
                f"{where}: the {tail} tail has {len(rows)} row(s) at the {q:g} quantile: smoter "
                "needs 2 or more (raise --rare-quantile)"
            )
        kk = min(k, len(rows) - 1)
        nn = NearestNeighbors(n_neighbors=kk + 1).fit(scaled[rows])
        neighbours = nn.kneighbors(scaled[rows], return_distance=False)[:, 1:]
        order = rng.permutation(len(rows))
        seeds = order[np.arange(wanted) % len(rows)]
        picks = neighbours[seeds, rng.integers(0, kk, wanted)]
        u = rng.random(wanted)[:, None]
        xs, xn = X[rows[seeds]], X[rows[picks]]
        x = xs + u * (xn - xs)
        ds = np.linalg.norm((x - xs) / np.where(span > 0, span, 1.0), axis=1)
        dn = np.linalg.norm((x - xn) / np.where(span > 0, span, 1.0), axis=1)
        ys, yn = y[rows[seeds]], y[rows[picks]]
        total = ds + dn
        yy = np.where(
            total > 0, (dn * ys + ds * yn) / np.where(total > 0, total, 1.0), (ys + yn) / 2
        )
        new_x.append(x)
        new_y.append(yy)
        parents.append(np.column_stack([rows[seeds], rows[picks]]))
        plan[tail]["after"] += wanted
    normal = np.flatnonzero(resampled & ~rare)
    keep_normal = normal[rng.random(len(normal)) < under] if under < 1.0 else normal
    plan["normal"] = {"before": len(normal), "after": len(keep_normal)}
    kept = np.sort(np.concatenate([np.flatnonzero(rare | ~resampled), keep_normal]))
    out = table.take(pa.array(kept))
    synthetic = 0
    if new_x:
        Xn = np.vstack(new_x)
        yn_all = np.concatenate(new_y)
        synthetic = len(yn_all)
        arrays = []
        for field_ in table.schema:
            if field_.name in columns:
                arrays.append(cast_like(Xn[:, columns.index(field_.name)], field_.type))
            elif field_.name == name:
                arrays.append(cast_like(yn_all, field_.type))
            elif field_.name == split:
                # a new row belongs to the split of the row it grew from
                seeds_all = np.vstack(parents)[:, 0]
                arrays.append(table.column(split).take(pa.array(seeds_all)).combine_chunks())
            else:
                arrays.append(pa.nulls(synthetic, field_.type))
        out = pa.concat_tables([out, pa.Table.from_arrays(arrays, schema=table.schema)])
    if provenance:
        sources = np.concatenate([kept, np.full(synthetic, -1)])
        out = out.append_column(SOURCE_ROW, pa.array(sources, pa.int64(), mask=sources < 0))
        out = out.append_column(
            SYNTHETIC, pa.array(np.arange(out.num_rows) >= len(kept), pa.bool_())
        )
        pairs = np.vstack(parents) if parents else np.empty((0, 2), dtype=np.int64)
        lists = [None] * len(kept) + [[int(a), int(b)] for a, b in pairs]
        out = out.append_column(PARENTS, pa.array(lists, pa.list_(pa.int64())))
    return RegressionResample(
        table=out,
        method="smoter",
        seed=seed,
        target_col=name,
        rows_in=table.num_rows,
        synthetic_rows=synthetic,
        plan=plan,
        params={
            "rare_quantile": q,
            "over": over,
            "under": under,
            "k_neighbors": k,
            "features": columns,
            "low_threshold": float(low),
            "high_threshold": float(high),
        },  # fmt: skip
    )
