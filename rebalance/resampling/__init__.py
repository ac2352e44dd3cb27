"""Resampling a manifest: plan first, then carry it out with a method, then write.

The rooms of this package, in the order a run passes through them:

* :mod:`~rebalance.resampling.roles` — which column is the label, split, group, id; which
  rows are resampled; each row's label code.
* :mod:`~rebalance.resampling.planning` — how many rows each class gets (the plan).
* :mod:`~rebalance.resampling.result` — the size pre-flight and the result record.
* :mod:`~rebalance.resampling.flow` — :func:`resample`: one table, start to end.
* :mod:`~rebalance.resampling.rows` — random choice of rows and the output's assembly.
* :mod:`~rebalance.resampling.tabular` — imbalanced-learn methods and their synthetic rows.
* :mod:`~rebalance.resampling.images` — the bad-image scan, ``augment``, ``cluster``, ``dedup``.
* :mod:`~rebalance.resampling.files` — :func:`resample_file`: a file into a file (streamed
  Parquet, in memory, or :mod:`~rebalance.resampling.pieces` in bounded memory), through
  :mod:`~rebalance.resampling.writer`.
"""

from __future__ import annotations

from rebalance.provenance import SOURCE_ROW, SYNTHETIC
from rebalance.resampling.files import resample_file
from rebalance.resampling.flow import resample
from rebalance.resampling.images import AUGMENT, PARENT
from rebalance.resampling.planning import default_target, plan_from_counts, plan_manifest
from rebalance.resampling.result import ResampleResult, bytes_per_row, check_size, growth_limit
from rebalance.resampling.roles import Columns, RoleOptions, resolve_columns, selected_rows

__all__ = [
    "AUGMENT",
    "PARENT",
    "SOURCE_ROW",
    "SYNTHETIC",
    "Columns",
    "ResampleResult",
    "RoleOptions",
    "bytes_per_row",
    "check_size",
    "default_target",
    "growth_limit",
    "plan_from_counts",
    "plan_manifest",
    "resample",
    "resample_file",
    "resolve_columns",
    "selected_rows",
]
