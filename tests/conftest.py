"""Fixtures that make small, real manifests on the fly (no data files are committed)."""

from __future__ import annotations

import csv
import faulthandler
import gzip
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

# the terminal's stderr, kept before tests capture file descriptor 2: a stack dump written
# to the capture would be lost when the process exits
_STDERR: list[int] = []
_STUCK_S = float(os.environ.get("REBALANCE_TEST_STUCK_S", "600"))


def pytest_configure(config: pytest.Config) -> None:
    """The report is written line by line, also into a CI log (not a pipe's 8 KB blocks),
    so a log cut short shows where the run stood."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    try:
        _STDERR.append(os.dup(sys.stderr.fileno()))
    except (AttributeError, OSError, ValueError):  # no real stderr (an IDE's runner): no watchdogs
        pass


@pytest.fixture(autouse=True)
def _stuck_test_exits() -> Iterator[None]:
    """A test stuck for ten minutes (a deadlock) prints every thread's stack and ends the
    run, so CI shows where it hung instead of waiting out its own limit."""
    if not _STDERR:
        yield
        return
    faulthandler.dump_traceback_later(_STUCK_S, exit=True, file=_STDERR[0])
    yield
    faulthandler.cancel_dump_traceback_later()


def pytest_unconfigure(config: pytest.Config) -> None:
    """A process that hangs on its way out (a thread or server left running) prints every
    thread's stack and exits non-zero after two minutes, rather than holding CI until its
    limit with the report's tail still unflushed."""
    sys.stdout.flush()
    if _STDERR:
        faulthandler.dump_traceback_later(120, exit=True, file=_STDERR[0])


def write_rows(path: Path, rows: Sequence[Mapping[str, Any]], fmt: str | None = None) -> Path:
    """Write dict rows in the format the extension names (csv, tsv, jsonl, parquet, .gz)."""
    name = path.name.lower()
    fmt = fmt or name.removesuffix(".gz").rsplit(".", 1)[-1]
    columns = list(rows[0]) if rows else []
    if fmt in ("parquet", "pq"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(list(rows)), path)
        return path
    opener: Callable[..., Any] = gzip.open if name.endswith(".gz") else open
    with opener(path, "wt", newline="", encoding="utf-8") as fh:
        if fmt in ("jsonl", "ndjson"):
            for row in rows:
                fh.write(json.dumps(row) + "\n")
        else:
            writer = csv.DictWriter(fh, columns, delimiter="\t" if fmt == "tsv" else ",")
            writer.writeheader()
            writer.writerows(rows)
    return path


def rows_for(counts: Mapping[str, int], **extra: Callable[[int, str], Any]) -> list[dict[str, Any]]:
    """One row per sample: a file path, the label, a numeric feature, plus extra columns."""
    rows = []
    i = 0
    for label, n in counts.items():
        for _ in range(n):
            row: dict[str, Any] = {"path": f"img/{i:05d}.png", "label": label, "x": i * 0.5}
            for name, fn in extra.items():
                row[name] = fn(i, label)
            rows.append(row)
            i += 1
    return rows


@pytest.fixture
def make_manifest(tmp_path: Path) -> Callable[..., Path]:
    """make_manifest(counts={"a": 80, "b": 15}, name="train.csv", **extra_columns) -> path."""

    def make(
        counts: Mapping[str, int] | None = None,
        name: str = "train.csv",
        rows: Sequence[Mapping[str, Any]] | None = None,
        **extra: Callable[[int, str], Any],
    ) -> Path:
        data = (
            rows if rows is not None else rows_for(counts or {"a": 80, "b": 15, "01": 5}, **extra)
        )
        return write_rows(tmp_path / name, data)

    return make
