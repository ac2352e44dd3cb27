"""rebalance next to what a speed-minded user would write instead: polars and DuckDB.

    pip install -e '.[bench]'   # polars and duckdb: never runtime dependencies
    python benchmarks/bench_peers.py                  # 10M rows, 5,000 classes, long tail
    python benchmarks/bench_peers.py --rows 2000000 --repeat 3

Every command runs as its own process (imports and start-up count), alternating
rebalance and its peers, and reports the best wall time and the largest peak RSS of
``--repeat`` runs, the rebalance / peer ratios, and the floor: pyarrow reading the
columns the job needs. The jobs are the ones of the speed issue:

* inspect (label counts) on Parquet and on CSV;
* random undersampling to 100 rows per class, Parquet in and out;
* random oversampling to 2,000 rows per class, Parquet in and out.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import generate, measure, python, rebalance


def jobs(csv: Path, parquet: Path, out: Path) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    p, c = str(parquet), str(csv)
    return [
        (
            "inspect --json --no-split, Parquet",
            [
                ("rebalance", rebalance("inspect", p, "--json", "--no-split")),
                ("polars", python(f"import polars as pl; pl.scan_parquet({p!r}).group_by('label').len().collect()")),
                ("DuckDB", python(f"import duckdb; duckdb.sql(\"SELECT label, count(*) FROM read_parquet('{p}') GROUP BY label\").fetchall()")),
                ("floor: pyarrow reads the label column", python(f"import pyarrow.parquet as pq; pq.read_table({p!r}, columns=['label'])")),
            ],
        ),
        (
            "inspect --json --no-split, CSV",
            [
                ("rebalance", rebalance("inspect", c, "--json", "--no-split")),
                ("DuckDB", python(f"import duckdb; duckdb.sql(\"SELECT label, count(*) FROM read_csv('{c}') GROUP BY label\").fetchall()")),
                ("pandas (C engine)", python(f"import pandas as pd; pd.read_csv({c!r}, usecols=['label'])['label'].value_counts()")),
                ("floor: pyarrow reads the label column", python(f"import pyarrow.csv as pc; pc.read_csv({c!r}, convert_options=pc.ConvertOptions(include_columns=['label']))")),
            ],
        ),
        (
            "resample --target 100 --mode under, Parquet -> Parquet",
            [
                ("rebalance", rebalance("resample", p, "-o", str(out / "r-under.parquet"), "--target", "100", "--mode", "under", "--all-splits")),
                ("polars", python(
                    "import polars as pl; "
                    f"pl.scan_parquet({p!r}).filter(pl.int_range(pl.len()).shuffle(0).over('label') < 100)"
                    f".sink_parquet({str(out / 'pl-under.parquet')!r})"
                )),
                ("DuckDB", python(
                    "import duckdb; duckdb.sql(\"COPY (SELECT * FROM read_parquet('" + p + "') "
                    "QUALIFY row_number() OVER (PARTITION BY label ORDER BY hash(path)) <= 100) "
                    "TO '" + str(out / "dd-under.parquet") + "' (FORMAT parquet)\")"
                )),
                ("floor: pyarrow reads and writes every row", python(
                    f"import pyarrow.parquet as pq; pq.write_table(pq.read_table({p!r}), {str(out / 'floor.parquet')!r})"
                )),
            ],
        ),
        (
            "resample --target 2000 --mode over, Parquet -> Parquet",
            [
                ("rebalance", rebalance("resample", p, "-o", str(out / "r-over.parquet"), "--target", "2000", "--mode", "over", "--all-splits", "--allow-large")),
                # each row of a class of n < 2000 rows copied (2000 - n) // n times, and a
                # shuffled (2000 - n) % n of them once more: the 17.3M rows rebalance writes
                # (filtering a shuffled rank < 2000 - n alone copies each row at most once)
                ("polars", python(
                    "import polars as pl; t = pl.read_parquet(" + repr(p) + "); "
                    "n = t.group_by('label').len(); "
                    "need = n.filter(pl.col('len') < 2000).with_columns((2000 - pl.col('len')).alias('k')); "
                    "r = t.select('label').with_row_index('i').join(need, on='label').with_columns("
                    "(pl.col('k') // pl.col('len') + (pl.int_range(pl.len()).shuffle(0).over('label') < pl.col('k') % pl.col('len')).cast(pl.UInt32)).alias('reps')); "
                    "idx = r.select(pl.col('i').repeat_by('reps').explode()).drop_nulls()['i']; "
                    f"pl.concat([t, t[idx]]).write_parquet({str(out / 'pl-over.parquet')!r})"
                )),
            ],
        ),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="run the jobs whose title holds this text")
    args = parser.parse_args()
    csv, parquet = generate(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        for title, commands in jobs(csv, parquet, Path(folder)):
            if args.only not in title:
                continue
            results: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in commands}
            for _ in range(args.repeat):  # alternating: each round runs every command once
                for name, argv in commands:
                    results[name].append(measure(argv))
            best = {
                name: (min(w for w, _ in r), max(m for _, m in r)) for name, r in results.items()
            }
            ours = best["rebalance"][0]
            print(f"\n{title}, {args.rows:,} rows (best of {args.repeat})")
            print(f"  {'command':<44} {'wall s':>8} {'peak MB':>9} {'rebalance / it':>15}")
            for name, (wall, peak) in best.items():
                ratio = "" if name == "rebalance" else f"{ours / wall:.2f}x"
                print(f"  {name:<44} {wall:>8.2f} {peak:>9.0f} {ratio:>15}")


if __name__ == "__main__":
    main()
