"""Random choice of rows (plain, by whole groups, with replacement) and the assembly of the output table."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from rebalance import arrays
from rebalance.manifest import (
    labels_as_text,
)
from rebalance.provenance import (
    with_provenance,
)
from rebalance.resampling.roles import Columns
from rebalance.samplers import random as rnd


def _warn_group_leakage(
    table: pa.Table, columns: Columns, selected: npt.NDArray[np.bool_], messages: list[str]
) -> None:
    assert columns.group is not None
    groups = labels_as_text(table.column(columns.group))
    inside = set(pc.filter(groups, pa.array(selected)).to_pylist())
    outside = set(pc.filter(groups, pa.array(~selected)).to_pylist())
    shared = sorted(str(g) for g in (inside & outside) if g is not None)
    if shared:
        shown = ", ".join(map(repr, shared[:5])) + (
            f", … {len(shared) - 5} more" if len(shared) > 5 else ""
        )
        messages.append(
            f"leakage: {len(shared):,} group(s) of {columns.group!r} are in the resampled split and in another split: {shown}"
        )


def _random(
    table: pa.Table,
    columns: Columns,
    codes: npt.NDArray[np.int64],
    keys: rnd.RowKeys,
    targets: list[int],
    seed: int,
    messages: list[str],
    dictionary: list[str],
) -> tuple[npt.NDArray[np.int64] | None, npt.NDArray[np.int64]]:
    if columns.group is None:
        selection = rnd.select(codes, keys, targets)
        return selection.kept, selection.added
    # undersampled classes keep or drop whole groups; oversampled ones copy rows as usual
    sizes = np.bincount(codes[codes >= 0], minlength=len(targets))
    under = [i for i, t in enumerate(targets) if t < sizes[i]]
    encoded = pc.dictionary_encode(labels_as_text(table.column(columns.group)))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    group_codes = np.asarray(
        pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    group_keys = rnd.splitmix64(
        rnd.text_hashes(pc.fill_null(encoded.dictionary, "")) ^ rnd.seed_mix(seed, stream=2)
    )
    under_targets = [targets[i] if i in under else int(sizes[i]) for i in range(len(targets))]
    keep, achieved = rnd.select_groups(codes, group_codes, group_keys, under_targets)
    short = [
        f"{dictionary[i]!r} {achieved[i]:,} of {targets[i]:,}"
        for i in under
        if achieved[i] != targets[i]
    ]
    if short:
        messages.append(
            f"whole groups of {columns.group!r} kept, so {len(short)} class(es) end below their target: "
            + ", ".join(short[:10])
        )
    selection = rnd.select(np.where(np.isin(codes, under), -1, codes), keys, targets)
    if selection.kept is None:
        return np.flatnonzero(keep).astype(np.int64), selection.added
    return selection.kept[keep[selection.kept]], selection.added


def _with_replacement(
    codes: npt.NDArray[np.int64], keys: rnd.RowKeys, targets: list[int], seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Random resampling where classes above their target are drawn with replacement.

    Those classes draw exactly as imbalanced-learn's ``RandomUnderSampler(replacement=True,
    random_state=seed)``: one ``RandomState(seed)``, ``choice`` per class in class order.
    A row's first draw is kept (input order), its later draws are copies; the other
    classes are resampled as usual.
    """
    k = len(targets)
    sizes = rnd.bincount(codes, k)
    under = [c for c in range(k) if targets[c] < sizes[c]]
    others = rnd.select(np.where(np.isin(codes, under), -1, codes), keys, targets)
    kept = np.arange(len(codes)) if others.kept is None else others.kept
    kept = kept[~np.isin(codes[kept], under)]
    draws = np.random.RandomState(seed)
    added_by_class: dict[int, npt.NDArray[np.int64]] = {}
    drawn_kept = [kept]
    for c in under:
        rows = np.flatnonzero(codes == c)
        drawn = rows[draws.choice(int(sizes[c]), size=targets[c], replace=True)]
        unique, times = np.unique(drawn, return_counts=True)
        drawn_kept.append(unique)
        rounds = [unique[times >= r] for r in range(2, int(times.max(initial=1)) + 1)]
        added_by_class[c] = np.concatenate([np.empty(0, np.int64), *rounds])
    added_classes = codes[others.added]
    added = [
        added_by_class[c] if c in added_by_class else others.added[added_classes == c]
        for c in range(k)
    ]
    return (
        np.sort(np.concatenate(drawn_kept)).astype(np.int64),
        np.concatenate([np.empty(0, np.int64), *added]).astype(np.int64),
    )


def _assemble(
    table: pa.Table,
    codes: npt.NDArray[np.int64],
    k: int,
    kept: npt.NDArray[np.int64] | None,
    added: npt.NDArray[np.int64],
    synthetic: pa.Table | None,
    synthetic_rank: npt.NDArray[np.int64],
    provenance: bool,
    positions: npt.NDArray[np.int64] | None = None,
) -> pa.Table:
    n = table.num_rows
    # an oversample-only plan keeps every row: no need to copy the table
    if kept is None:
        kept_rows = n
        parts = [table]
    else:
        kept_rows = len(kept)
        parts = [arrays.take(table, kept)]
    sources: list[npt.NDArray[np.int64]] = [
        kept if kept is not None else np.arange(n if provenance else 0, dtype=np.int64)
    ]
    flags = [np.zeros(kept_rows, dtype=bool)]
    n_syn = 0 if synthetic is None else synthetic.num_rows
    if n_syn:
        # interleave copies and synthetic rows class by class (copies come first in a class)
        copy_rank = codes[added] if len(added) else np.empty(0, dtype=np.int64)
        ranks = np.concatenate([copy_rank, synthetic_rank[:n_syn]])
        order = np.argsort(ranks, kind="stable")
        assert synthetic is not None
        extra = pa.concat_tables([arrays.take(table, added), synthetic]).take(
            arrays.to_arrow(order)
        )
        parts.append(extra)
        sources.append(np.concatenate([added, np.full(n_syn, -1, dtype=np.int64)])[order])
        flags.append(
            np.concatenate([np.zeros(len(added), dtype=bool), np.ones(n_syn, dtype=bool)])[order]
        )
    elif len(added):
        parts.append(arrays.take(table, added))  # already in class / copy / position order
        sources.append(added)
        flags.append(np.zeros(len(added), dtype=bool))
    out = pa.concat_tables(parts)
    if provenance:
        source_all = np.concatenate(sources)
        if positions is not None:
            source_all = np.where(source_all < 0, -1, positions[np.maximum(source_all, 0)])
        out = with_provenance(out, source_all, np.concatenate(flags))
    return out
