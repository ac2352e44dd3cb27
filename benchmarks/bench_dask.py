"""A partitioned Parquet manifest: the in-process engine, the Dask engine, DuckDB and polars.

    pip install -e '.[bench,dask]'
    python benchmarks/bench_dask.py --rows 100000000     # the goal's size (about 3 GB of files)
    python benchmarks/bench_dask.py --rows 10000000 --only inspect

The manifest is the long-tail one of bench_peers.py (5,000 classes, split column), written
as a hive-partitioned folder (split=train/…, 2M-row files) under benchmarks/data/. Each
command runs as its own process, in the same run, and reports wall time and peak RSS:

* inspect (label counts per split): rebalance in process, rebalance ``--engine dask`` (a
  local cluster: one worker per core), DuckDB and polars;
* random undersampling of the train split to 1,000 rows per class, the other splits passed
  through (Parquet out: one file, or a folder of parts): rebalance in process and on Dask,
  DuckDB (``QUALIFY row_number() OVER (PARTITION BY label ORDER BY hash(path))``, ``UNION ALL``
  the other splits) and polars (shuffle within class, concatenated with the other splits).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import DATA, generate, measure, python, rebalance


def partitioned(rows: int) -> Path:
    """The long-tail manifest as data/longtail-N/split=S/part-K.parquet (cached)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    folder = DATA / f"longtail-{rows}"
    if folder.exists():
        return folder
    _, single = generate(rows)
    tmp = DATA / f"longtail-{rows}.tmp"
    pf = pq.ParquetFile(single)
    counters: dict[str, int] = {}
    for batch in pf.iter_batches(batch_size=2_000_000):
        table = pa.Table.from_batches([batch])
        for split in ("test", "train", "val"):
            part = table.filter(pc.equal(table.column("split"), split)).drop_columns(["split"])
            (tmp / f"split={split}").mkdir(parents=True, exist_ok=True)
            k = counters.get(split, 0)
            pq.write_table(part, tmp / f"split={split}" / f"part-{k:05d}.parquet")
            counters[split] = k + 1
    tmp.rename(folder)
    return folder


def jobs(folder: Path, out: Path) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    f = str(folder)
    glob = f"{f}/*/*.parquet"
    under = ["--only-split", "train", "--target", "1000", "--mode", "under"]
    return [
        (
            "inspect --json (per split)",
            [
                ("rebalance, in process", rebalance("inspect", f, "--json")),
                ("rebalance --engine dask", rebalance("inspect", f, "--json", "--engine", "dask")),
                ("DuckDB", python(f"import duckdb; duckdb.sql(\"SELECT split, label, count(*) FROM read_parquet('{glob}', hive_partitioning=true) GROUP BY split, label\").fetchall()")),
                ("polars", python(f"import polars as pl; pl.scan_parquet({glob!r}, hive_partitioning=True).group_by('split', 'label').len().collect()")),
            ],
        ),
        (
            "resample --only-split train --target 1000 --mode under (other splits kept), Parquet out",
            [
                ("rebalance, in process", rebalance("resample", f, "-o", str(out / "a.parquet"), *under)),
                ("rebalance, in process, -o folder/", rebalance("resample", f, "-o", f"{out / 'a2'}/", *under)),
                ("rebalance --engine dask", rebalance("resample", f, "-o", str(out / "b.parquet"), *under, "--engine", "dask")),
                ("rebalance --engine dask -o folder/", rebalance("resample", f, "-o", f"{out / 'b2'}/", *under, "--engine", "dask")),
                ("DuckDB", python(f"import duckdb; duckdb.execute(\"COPY (SELECT * FROM read_parquet('{glob}', hive_partitioning=true) WHERE split = 'train' QUALIFY row_number() OVER (PARTITION BY label ORDER BY hash(path)) <= 1000 UNION ALL SELECT * FROM read_parquet('{glob}', hive_partitioning=true) WHERE split <> 'train') TO '{out / 'c.parquet'}'\")")),
                ("polars", python(f"import polars as pl; lf = pl.scan_parquet({glob!r}, hive_partitioning=True); pl.concat([lf.filter(pl.col('split') == 'train').filter(pl.int_range(pl.len()).shuffle(0).over('label') < 1000), lf.filter(pl.col('split') != 'train')]).sink_parquet({str(out / 'd.parquet')!r})")),
            ],
        ),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--only", default="", help="run the jobs whose title holds this text")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        partitioned(args.rows)
        return
    # generated in a child: a child forked from a large parent reports the parent's peak RSS
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, __file__, "--rows", str(args.rows), "--generate-only"], check=True
    )
    folder = partitioned(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        for title, commands in jobs(folder, Path(tmp)):
            if args.only not in title:
                continue
            print(f"\n{title}, {args.rows:,} rows")
            print(f"  {'command':<28} {'wall s':>8} {'peak MB':>9}")
            for name, argv in commands:
                wall, peak = measure(argv)
                print(f"  {name:<28} {wall:>8.2f} {peak:>9.0f}")


if __name__ == "__main__":
    main()
