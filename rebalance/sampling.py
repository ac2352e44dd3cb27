"""Balanced epochs at training time: a sampler that follows the plan (no torch needed).

:class:`PlanSampler` draws, every epoch, exactly the planned number of rows of each class
(the same plans as ``rebalance resample``: ``max``, ``min``, ``median``, ``N``,
``ratio:R``, ``sqrt``, ``power:Q``, a per-class file):

* a class above its target gives a different subset each epoch, without repeats: the
  epochs walk through one seeded permutation of the class, so every row is seen once
  every ⌈n/t⌉ epochs;
* a class below its target copies every row ⌊t/n⌋ times, and ``t mod n`` rows (a fresh
  seeded choice each epoch) once more: copies as even as they can be;
* the epoch's rows are then shuffled.

``target="repeat-factor:T"`` repeats rows as LVIS and detectron2's
``RepeatFactorTrainingSampler`` do, with the factors of ``rebalance resample --target
repeat-factor:T``: r(c) = max(1, sqrt(T / f(c))), f(c) the fraction of rows whose classes
hold c (the classes of a row's mask with ``mask_col``, its label set for a list column or a
list of lists, else its one label), a row's r the largest over its classes. Each epoch a
row appears ⌊r⌋ times plus once more with probability r − ⌊r⌋, drawn afresh from
``(seed, epoch)``: an epoch's length varies around the sum of the factors, and ``len()``
is the current epoch's.

Everything follows from ``(seed, epoch)``: :meth:`PlanSampler.set_epoch` changes the
draw, as for PyTorch's ``DistributedSampler``. With ``num_replicas`` and ``rank`` (read
from ``torch.distributed`` when it is initialised), each rank gets an equal, disjoint
part of the epoch's draw, padded by its first rows (or cut, with ``drop_last``) exactly
as ``DistributedSampler`` does; together the ranks see the whole draw.

It is an iterable of row positions with ``__len__`` and ``set_epoch``: PyTorch's
``DataLoader(sampler=PlanSampler(...))`` takes it as it is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.plan import Plan
from rebalance.validation import check_seed

if TYPE_CHECKING:
    from rebalance.images.repeat import RepeatPlan

# row positions: int32 while they fit (half the memory of int64 at 10M rows), else int64
Positions = npt.NDArray[np.signedinteger[Any]]


class PlanSampler:
    """Row positions of balanced epochs, for one process or one rank of many.

    Parameters
    ----------
    data:
        Labels (a list or array, one per row), or a manifest (a path or a table) whose
        ``label_col`` (detected by default) holds them. Rows without a label are never
        drawn; positions are the data's own row positions.
    target, plan:
        The plan, as for :func:`rebalance.resample` (``mode``, ``min_per_class``,
        ``max_per_class``, ``per_class`` in ``plan``). Default ``max``.
    split, split_col:
        A manifest with a split column: only the ``split`` rows are drawn (default:
        ``train`` when the manifest has a split column).
    num_replicas, rank, drop_last:
        Distributed training (see the module).
    """

    def __init__(
        self,
        data: Any,
        *,
        target: str | int = "max",
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
        drop_last: bool = False,
        label_col: str | None = None,
        split: str | None = None,
        split_col: str | None = None,
        mask_col: str | None = None,
        root: str | None = None,
        **plan: Any,
    ) -> None:
        from rebalance.images.repeat import parse_threshold

        check_seed(seed)
        self.seed = seed
        self.epoch = 0
        self.drop_last = drop_last
        self.num_replicas, self.rank = _replicas(num_replicas, rank)
        threshold = parse_threshold(target) if isinstance(target, str) else None
        self.repeat: RepeatPlan | None = None
        if threshold is not None:
            if plan:
                raise RebalanceError(f"--target {target} takes no {', '.join(sorted(plan))}")
            self.labels, self._positions, self.repeat = _repeat_rows(
                data, threshold, seed, label_col=label_col, split=split, split_col=split_col,
                mask_col=mask_col, root=root,
            )  # fmt: skip
            self._rows, self._targets = [], []
        else:
            if mask_col is not None:
                raise RebalanceError(
                    "mask_col (--mask-col) plans repeat factors: give target (--target) repeat-factor:T"
                )
            self.labels, codes, positions = _labelled(data, label_col, split, split_col)
            self.plan = _plan_of(self.labels, codes, target, plan)
            self._rows = _rows_by_class(codes, positions, len(self.labels))
            self._targets = [self.plan.targets[label] for label in self.labels]
        self._sized(self.epoch)

    def _sized(self, epoch: int) -> None:
        """The epoch's size, and each rank's (as DistributedSampler computes them)."""
        self.total = len(self.epoch_positions(epoch)) if self.repeat else int(sum(self._targets))
        if self.drop_last and self.total % self.num_replicas:
            self.num_samples = self.total // self.num_replicas
        else:
            self.num_samples = -(-self.total // self.num_replicas)

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose draw ``__iter__`` gives (call it before each epoch)."""
        self.epoch = _checked_epoch(epoch)
        if self.repeat is not None:
            self._sized(self.epoch)

    def epoch_positions(self, epoch: int | None = None) -> Positions:
        """The whole epoch's draw (every rank's rows), shuffled."""
        epoch = self.epoch if epoch is None else epoch
        if self.repeat is not None:
            factor = self.repeat.row_factor
            whole = np.floor(factor)
            u = np.random.default_rng([self.seed, epoch, 0x4EF]).random(len(factor))
            times = (whole + (u < factor - whole)).astype(np.int64)
            repeated = np.repeat(self._positions, times)
            order = np.random.default_rng([self.seed, epoch, 0x5EED]).permutation(len(repeated))
            drawn_rf: Positions = repeated[order]
            return drawn_rf
        # each class's draw into one array, shuffled in place: memory is the epoch once
        dtype = self._rows[0].dtype if self._rows else np.int64
        out: Positions = np.empty(self.total, dtype=dtype)
        at = 0
        for c, (rows, target) in enumerate(zip(self._rows, self._targets, strict=True)):
            size = target if len(rows) else 0
            _draw_into(out[at : at + size], rows, self.seed, c, epoch)
            at += size
        np.random.default_rng([self.seed, epoch, 0x5EED]).shuffle(out)
        return out

    def rank_positions(self, epoch: int | None = None) -> Positions:
        """This rank's part of the epoch's draw (``DistributedSampler``'s split)."""
        drawn = self.epoch_positions(epoch)
        size = self.num_samples * self.num_replicas
        if size > len(drawn):  # padded with the draw's first rows, as DistributedSampler does
            repeats = -(-size // max(len(drawn), 1))
            drawn = np.tile(drawn, repeats)[:size]
        out: Positions = drawn[:size][self.rank :: self.num_replicas]
        return out

    def __iter__(self) -> Iterator[int]:
        return iter(self.rank_positions().tolist())

    def __len__(self) -> int:
        return self.num_samples


def _rows_by_class(codes: npt.NDArray[np.int64], positions: Positions, k: int) -> list[Positions]:
    """Each class's row positions, in data order (int32 while they fit)."""
    if len(positions) and int(positions.max()) < 2**31 - 1:
        positions = positions.astype(np.int32)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(k + 1))
    return [positions[order[bounds[c] : bounds[c + 1]]] for c in range(k)]


def _checked_epoch(epoch: int) -> int:
    if epoch < 0:
        raise RebalanceError(f"epoch must be 0 or more, got {epoch}")
    return epoch


def _draw_into(out: Positions, rows: Positions, seed: int, code: int, epoch: int) -> None:
    """Fill ``out`` with one class's draw (``len(out)`` rows) without temporaries the size
    of the draw: at 10M rows an epoch is one array, not four."""
    n, target = len(rows), len(out)
    if n == 0 or target == 0:
        return
    if target <= n:
        # the epochs walk through one permutation: no repeat within an epoch, every row
        # once per ⌈n/t⌉ epochs
        walk = np.random.default_rng([seed, code, 0xC1A55]).permutation(n)
        start = (epoch * target) % n
        head = min(target, n - start)
        out[:head] = rows[walk[start : start + head]]
        if head < target:  # wrapped round to the permutation's start
            out[head:] = rows[walk[: target - head]]
        return
    times, extra = divmod(target, n)
    out[: n * times].reshape(n, times)[:] = rows[:, None]
    fresh = np.random.default_rng([seed, code, epoch, 0xE7A]).permutation(n)[:extra]
    out[n * times :] = rows[fresh]


def _replicas(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    """The world size and this process's rank: given, else torch.distributed's when it is
    initialised (torch is never imported here), else one process."""
    torch = sys.modules.get("torch")
    dist = getattr(torch, "distributed", None) if torch is not None else None
    running = dist is not None and dist.is_available() and dist.is_initialized()
    if num_replicas is None:
        num_replicas = int(dist.get_world_size()) if running and dist is not None else 1
    if rank is None:
        rank = int(dist.get_rank()) if running and dist is not None else 0
    if num_replicas < 1:
        raise RebalanceError(f"num_replicas must be 1 or more, got {num_replicas}")
    if not 0 <= rank < num_replicas:
        raise RebalanceError(f"rank must be in 0..{num_replicas - 1}, got {rank}")
    return num_replicas, rank


def _labelled(
    data: Any, label_col: str | None, split: str | None, split_col: str | None
) -> tuple[list[str], npt.NDArray[np.int64], Positions]:
    """The classes (sorted), each drawn row's class code, and its row position."""
    from rebalance.resampling.roles import _label_codes

    if _is_manifest(data):
        column, positions = _manifest_labels(data, label_col, split, split_col)
    else:
        if label_col is not None or split is not None or split_col is not None:
            raise RebalanceError("label_col, split and split_col are for a manifest, not labels")
        values = list(data) if not isinstance(data, pa.Array | pa.ChunkedArray) else data
        column = pa.chunked_array([pa.array(values)]) if isinstance(values, list) else values
        positions = np.arange(len(column), dtype=np.int64)
    labels, codes = _label_codes(column)
    keep = codes >= 0
    if not keep.any():
        raise RebalanceError("no labelled rows to sample")
    return labels, codes[keep].astype(np.int64), positions[keep]


def _is_manifest(data: Any) -> bool:
    """A manifest (a path, a resolved source or a table), not a sequence of labels."""
    from rebalance.manifest import Source

    return isinstance(data, str | os.PathLike | Source) or _is_table(data)


def _is_table(data: Any) -> bool:
    """A table of columns (Arrow, pandas, a dict of columns), not a sequence of labels."""
    return isinstance(data, pa.Table | dict) or (
        hasattr(data, "columns") and hasattr(data, "dtypes")  # a pandas DataFrame
    )


def _manifest_labels(
    data: Any, label_col: str | None, split: str | None, split_col: str | None,
    lists: bool = False,
) -> tuple[pa.ChunkedArray, Positions]:  # fmt: skip
    """The label column of a manifest (its ``split`` rows), and their row positions; with
    ``lists``, a list column of label sets (``labels``, ``tags``) is found too."""
    from rebalance.manifest import LABEL_CANDIDATES, SPLIT_CANDIDATES, detect_column

    table = _table_of(data, None)
    where = "table" if _is_table(data) else getattr(data, "name", None) or os.fspath(data)
    names = (*LABEL_CANDIDATES, "labels", "tags") if lists else LABEL_CANDIDATES
    label = detect_column(table.column_names, label_col, names, where=where, flag="label_col")
    split_name = detect_column(table.column_names, split_col, SPLIT_CANDIDATES, where=where,
                               flag="split_col", required=False)  # fmt: skip
    assert label is not None
    if split_name == label:
        split_name = None
    positions = _split_rows(table, split_name, split, where)
    return table.column(label).take(pa.array(positions)), positions


def _table_of(data: Any, source: Any) -> pa.Table:
    from rebalance.manifest import as_table, read_manifest

    if _is_table(data):
        return as_table(data, name="table")
    return read_manifest(source if source is not None else data)


def _split_rows(
    table: pa.Table, split_name: str | None, split: str | None, where: str
) -> Positions:
    """The positions of the ``split`` rows (default ``train``; every row without a split
    column)."""
    import pyarrow.compute as pc

    from rebalance.manifest import labels_as_text
    from rebalance.stats import pick_split

    positions = np.arange(table.num_rows, dtype=np.int64)
    if split_name is None:
        if split is not None:
            raise RebalanceError(f"{where}: split {split!r} needs a split column (split_col)")
        return positions
    splits = labels_as_text(table.column(split_name))
    present = sorted({s for s in splits.to_pylist() if s is not None})
    chosen = pick_split(present, split, where=where, flag="split")
    mask = np.asarray(pc.fill_null(pc.equal(splits, chosen), False).to_numpy(zero_copy_only=False))
    chosen_rows: Positions = positions[mask]
    return chosen_rows


def _plan_of(
    labels: Sequence[str], codes: npt.NDArray[np.int64], target: str | int, options: dict[str, Any]
) -> Plan:
    from rebalance.counts import LabelCounts
    from rebalance.resampling import plan_from_counts

    unknown = sorted(set(options) - {"mode", "min_per_class", "max_per_class", "per_class"})
    if unknown:
        raise TypeError(f"PlanSampler() got an unexpected keyword argument {unknown[0]!r}")
    counts = np.bincount(codes, minlength=len(labels))
    found = LabelCounts({label: int(n) for label, n in zip(labels, counts, strict=True) if n})
    return plan_from_counts(found, target=target, **options)


def _repeat_rows(
    data: Any,
    threshold: float,
    seed: int,
    *,
    label_col: str | None,
    split: str | None,
    split_col: str | None,
    mask_col: str | None,
    root: str | None,
) -> tuple[list[str], Positions, RepeatPlan]:
    """The classes, the drawn rows' positions and their LVIS repeat factors: from the
    classes in each row's mask (``mask_col``), its label set (a list column, or a list of
    lists), or its one label."""
    from rebalance.images.repeat import plan_from_presence

    if mask_col is not None:
        return _mask_repeat(data, threshold, seed, split, split_col, mask_col, root)
    if _is_manifest(data):
        column, positions = _manifest_labels(data, label_col, split, split_col, lists=True)
        values = column.to_pylist()
    else:
        if label_col is not None or split is not None or split_col is not None:
            raise RebalanceError("label_col, split and split_col are for a manifest, not labels")
        values = list(data)
        positions = np.arange(len(values), dtype=np.int64)
    sets = [[] if v is None else [str(x) for x in v] if isinstance(v, list | tuple) else [str(v)]
            for v in values]  # fmt: skip
    names = sorted({label for row in sets for label in row})
    index = {name: j for j, name in enumerate(names)}
    present = [np.asarray(sorted({index[x] for x in row}), dtype=np.int64) for row in sets]
    plan = plan_from_presence(present, threshold=threshold, seed=seed, names=dict(enumerate(names)))
    return names, positions, plan


def _mask_repeat(
    data: Any, threshold: float, seed: int, split: str | None, split_col: str | None,
    mask_col: str, root: str | None,
) -> tuple[list[str], Positions, RepeatPlan]:  # fmt: skip
    """Repeat factors from the classes present in each row's mask (as ``resample
    --mask-col --target repeat-factor:T``)."""
    from rebalance.images.files import base_folder, column_paths, resolve
    from rebalance.images.repeat import repeat_plan
    from rebalance.manifest import (
        SPLIT_CANDIDATES,
        Source,
        column_error,
        detect_column,
        resolve_source,
    )

    if not _is_manifest(data):
        raise RebalanceError("mask_col reads a manifest (a path or a table), not labels")
    source = (
        None
        if _is_table(data)
        else data
        if isinstance(data, Source)
        else resolve_source(os.fspath(data))
    )
    table = _table_of(data, source)
    where = "table" if source is None else source.name
    if mask_col not in table.column_names:
        raise column_error(where, mask_col, table.column_names)
    name = detect_column(table.column_names, split_col, SPLIT_CANDIDATES, where=where,
                         flag="split_col", required=False)  # fmt: skip
    positions = _split_rows(table, name, split, where)
    shown = column_paths(table, mask_col, what="mask", where=where)
    full = [p or "" for p in resolve(shown, base_folder(source, root))]
    picked = positions.tolist()
    plan = repeat_plan([full[i] for i in picked], threshold=threshold, seed=seed,
                       shown=[shown[i] for i in picked])  # fmt: skip
    return sorted(plan.factor), positions, plan


class ClassBatchSampler:
    """Batches of ``per_class`` rows of each of ``classes_per_batch`` classes: every batch
    holds positives and negatives, as metric learning needs (PyTorch's ``batch_sampler``).

    The classes of a batch are a seeded draw without replacement, all classes equally
    likely; a class's rows are drawn without replacement when it has enough, else copied
    as evenly as can be. ``batches`` per epoch defaults to the labelled rows divided by
    the batch size. Like :class:`PlanSampler`: ``(seed, epoch)`` fix the draw, and with
    ``num_replicas``/``rank`` each rank takes every ``num_replicas``-th batch (the last
    ones cut so that every rank has as many).
    """

    def __init__(
        self,
        data: Any,
        *,
        classes_per_batch: int,
        per_class: int,
        batches: int | None = None,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
        label_col: str | None = None,
        split: str | None = None,
        split_col: str | None = None,
    ) -> None:
        check_seed(seed)
        self.seed, self.epoch = seed, 0
        self.num_replicas, self.rank = _replicas(num_replicas, rank)
        self.labels, codes, positions = _labelled(data, label_col, split, split_col)
        if classes_per_batch < 1 or per_class < 1:
            raise RebalanceError("classes_per_batch and per_class must be 1 or more")
        if classes_per_batch > len(self.labels):
            raise RebalanceError(
                f"classes_per_batch {classes_per_batch} is more than the {len(self.labels)} "
                "classes with rows"
            )
        self.classes_per_batch, self.per_class = classes_per_batch, per_class
        self._rows = _rows_by_class(codes, positions, len(self.labels))
        size = classes_per_batch * per_class
        self.batches = batches if batches is not None else max(1, len(positions) // size)
        if self.batches < 1:
            raise RebalanceError(f"batches must be 1 or more, got {self.batches}")
        self.num_batches = self.batches // self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose batches ``__iter__`` gives."""
        self.epoch = _checked_epoch(epoch)

    def batch(self, index: int, epoch: int | None = None) -> Positions:
        """Batch ``index`` of an epoch (every rank's batches are numbered together)."""
        epoch = self.epoch if epoch is None else epoch
        rng = np.random.default_rng([self.seed, epoch, index, 0xBA7C])
        chosen = rng.choice(len(self._rows), size=self.classes_per_batch, replace=False)
        parts = []
        for code in np.sort(chosen).tolist():
            rows = self._rows[code]
            times, extra = divmod(self.per_class, len(rows))
            picked = rng.permutation(len(rows))[:extra]
            parts.append(np.concatenate([np.repeat(rows, times), rows[picked]]))
        out: Positions = np.concatenate(parts)
        return out

    def __iter__(self) -> Iterator[list[int]]:
        for i in range(self.num_batches):
            yield self.batch(i * self.num_replicas + self.rank).tolist()

    def __len__(self) -> int:
        return self.num_batches


def epochs_table(
    data: Any, *, epochs: int, target: str | int = "max", seed: int = 0, **options: Any
) -> pa.Table:
    """``epochs`` epochs of a :class:`PlanSampler` as one table: ``epoch``, ``position``
    (the row in ``data``) and ``label`` (as text; with ``repeat-factor:T``, each row's
    ``repeat_factor`` instead), epoch after epoch, each in draw order."""
    from rebalance import arrays

    if epochs < 1:
        raise RebalanceError(f"epochs must be 1 or more, got {epochs}")
    sampler = PlanSampler(data, target=target, seed=seed, **options)
    parts = [sampler.epoch_positions(e) for e in range(epochs)]
    positions = np.concatenate(parts)
    columns: dict[str, pa.Array] = {
        "epoch": arrays.to_arrow(
            np.repeat(np.arange(epochs, dtype=np.int64), [len(p) for p in parts])
        ),
        "position": arrays.to_arrow(positions.astype(np.int64)),
    }
    if sampler.repeat is not None:
        factor_of_row = np.zeros(int(sampler._positions.max(initial=0)) + 1)
        factor_of_row[sampler._positions] = sampler.repeat.row_factor
        columns["repeat_factor"] = arrays.to_arrow(factor_of_row[positions])
        return pa.table(columns)
    last = max(int(rows.max(initial=0)) for rows in sampler._rows)
    code_of_row = np.full(last + 1, -1, dtype=np.int64)
    for code, rows in enumerate(sampler._rows):
        code_of_row[rows] = code
    columns["label"] = pa.array(sampler.labels, pa.string()).take(
        arrays.to_arrow(code_of_row[positions])
    )
    return pa.table(columns)
