"""Helpers shared by the benchmark scripts: data generation and child-process measurement."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def _compile_rebalance() -> None:
    """Byte-compile the rebalance package, as installing it does: a source checkout run with
    ``PYTHONDONTWRITEBYTECODE=1`` would otherwise recompile the CLI in every measured run."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("rebalance")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            compileall.compile_dir(folder, quiet=1)


_compile_rebalance()


def make_longtail(rows: int, classes: int = 5000, seed: int = 0) -> tuple[Path, Path]:
    """A Zipf-like long-tail manifest (path, label, split, two features) as CSV and Parquet.

    The tail ends in several singleton classes. Files are cached in benchmarks/data/.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    DATA.mkdir(exist_ok=True)
    csv_path = DATA / f"longtail-{rows}.csv"
    pq_path = DATA / f"longtail-{rows}.parquet"
    if csv_path.exists() and pq_path.exists():
        return csv_path, pq_path
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, classes + 1)
    p = 1.0 / ranks**1.1
    p /= p.sum()
    singletons = 8
    labels = rng.choice(
        classes - singletons, size=rows - singletons, p=p[:-singletons] / p[:-singletons].sum()
    )
    labels = np.concatenate([labels, np.arange(classes - singletons, classes)])
    rng.shuffle(labels)
    names = np.array([f"class_{i:04d}" for i in range(classes)], dtype=object)
    u = rng.random(rows)
    split = np.where(u < 0.8, "train", np.where(u < 0.9, "val", "test")).astype(object)
    chunk = 2_000_000
    writer = None
    pq_writer = None
    for start in range(0, rows, chunk):
        stop = min(rows, start + chunk)
        n = stop - start
        table = pa.table(
            {
                "path": pa.array([f"images/{i:09d}.jpg" for i in range(start, stop)]),
                "label": pa.array(names[labels[start:stop]]),
                "split": pa.array(split[start:stop]),
                "f1": rng.random(n).round(6),
                "f2": rng.normal(size=n).round(6),
            }
        )
        if writer is None:
            writer = pacsv.CSVWriter(str(csv_path) + ".tmp", table.schema)
            pq_writer = pq.ParquetWriter(str(pq_path) + ".tmp", table.schema)
        writer.write_table(table)
        assert pq_writer is not None
        pq_writer.write_table(table)
    assert writer is not None and pq_writer is not None
    writer.close()
    pq_writer.close()
    os.replace(str(csv_path) + ".tmp", csv_path)
    os.replace(str(pq_path) + ".tmp", pq_path)
    return csv_path, pq_path


def generate(rows: int) -> tuple[Path, Path]:
    """make_longtail in a child process, so this process stays small.

    A child's peak RSS counts the parent's memory at fork time; generating data here
    would inflate every measurement that follows.
    """
    here = Path(__file__).resolve().parent
    code = f"import sys; sys.path.insert(0, {str(here)!r}); from _common import make_longtail; make_longtail({rows})"
    subprocess.run([sys.executable, "-c", code], check=True)
    return DATA / f"longtail-{rows}.csv", DATA / f"longtail-{rows}.parquet"


def measure(argv: list[str]) -> tuple[float, float]:
    """Run a child process; return (wall seconds, peak RSS in MB) of that child alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    # rebalance exits 1 for a failed gate; a peer's snippet (python -c) must exit 0
    allowed = (0,) if argv[1:2] == ["-c"] else (0, 1)
    if os.waitstatus_to_exitcode(status) not in allowed:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"benchmark command failed: {' '.join(argv)}\n{err}")
    return wall, usage.ru_maxrss / 1024


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def rebalance(*args: str) -> list[str]:
    return [sys.executable, "-m", "rebalance", *args]


def report(title: str, rows: list[tuple[str, float, float]]) -> None:
    print(f"\n{title}")
    print(f"  {'command':<58} {'wall s':>8} {'peak MB':>9}")
    for name, wall, rss in rows:
        print(f"  {name:<58} {wall:>8.2f} {rss:>9.0f}")


def classification_parquet(
    name: str, rows: int, *, rare: float, class_sep: float = 1.0, ids: bool = False
) -> Path:
    """Two classes, 20 numeric features f00..f19 (make_classification, 8 informative), the
    label 'rare' for a ``rare`` share of rows, else 'common'; cached in benchmarks/data/."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sklearn.datasets import make_classification

    path = DATA / f"{name}-{rows}.parquet"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    X, y = make_classification(
        n_samples=rows, n_features=20, n_informative=8, weights=[1 - rare], flip_y=0.01,
        class_sep=class_sep, random_state=0,
    )  # fmt: skip
    columns = {"id": pa.array(np.arange(rows))} if ids else {}
    columns.update({f"f{j:02d}": X[:, j] for j in range(20)})
    columns["label"] = pa.array(np.where(y == 1, "rare", "common"))
    pq.write_table(pa.table(columns), str(path) + ".tmp")
    os.replace(str(path) + ".tmp", path)
    return path
