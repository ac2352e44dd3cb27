"""The same long tail written by other tools, and rebalance next to DuckDB and polars on each.

    pip install -e '.[bench]'   # polars, duckdb (and pandas, a core dependency)
    python benchmarks/bench_producers.py                    # 10M rows, 5,000 classes
    python benchmarks/bench_producers.py --rows 2000000 --repeat 3

Producers (each file made once, in a child process, cached in benchmarks/data/):

* **pyarrow**: ``pq.write_table`` (``string`` columns) — the file the other benchmarks use;
* **polars**: ``write_parquet`` (``large_string``), and ``string_view`` where the writer keeps it;
* **DuckDB**: ``COPY (SELECT * FROM …) TO … (FORMAT parquet)``;
* **pandas**: ``to_parquet`` from ``object`` columns, and with ``label`` as ``category``
  (a dictionary column);
* **Spark-like**: a hive folder (``split=…/``) of many small parts with 64k-row row groups and
  dictionary pages, as Spark writes by default;
* **CSV**: polars ``write_csv``, pandas ``to_csv(quoting=QUOTE_ALL)``, and CRLF line ends.

Jobs on every file: ``inspect --json --no-split`` against DuckDB's and polars' ``GROUP BY``
count, and (Parquet) ``resample --target 100 --mode under`` against polars' per-label sample.
Every command runs as its own process; best wall time and largest peak RSS of ``--repeat``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import DATA, generate, measure, python, rebalance


def make_files(rows: int) -> dict[str, Path]:
    """Every producer's copy of the long tail (made once)."""
    import subprocess

    csv, base = generate(rows)
    out = {"pyarrow": base}
    made = {
        "polars (large_string)": (
            f"polars-{rows}.parquet",
            "import polars as pl; pl.read_parquet(SRC).write_parquet(DST)",
        ),
        "DuckDB COPY": (
            f"duckdb-{rows}.parquet",
            "import duckdb; duckdb.sql(f\"COPY (SELECT * FROM read_parquet('{SRC}')) TO '{DST}' (FORMAT parquet)\")",
        ),
        "pandas (object)": (
            f"pandas-{rows}.parquet",
            "import pandas as pd; pd.read_parquet(SRC).to_parquet(DST, index=False)",
        ),
        "pandas (category label)": (
            f"pandas-cat-{rows}.parquet",
            "import pandas as pd; d = pd.read_parquet(SRC); d['label'] = d['label'].astype('category'); d.to_parquet(DST, index=False)",
        ),
        "Spark-like hive folder": (
            f"spark-{rows}",
            (
                "import pyarrow.parquet as pq, pyarrow.dataset as ds, os; t = pq.read_table(SRC); os.makedirs(DST, exist_ok=True); "
                "ds.write_dataset(t, DST, format='parquet', partitioning=['split'], partitioning_flavor='hive', "
                "max_rows_per_file=500_000, max_rows_per_group=65_536, min_rows_per_group=65_536, "
                "basename_template='part-{i}.snappy.parquet', existing_data_behavior='overwrite_or_ignore')"
            ),
        ),
        "CSV: polars": (
            f"polars-{rows}.csv",
            "import polars as pl; pl.read_parquet(SRC).write_csv(DST)",
        ),
        "CSV: pandas, quoted": (
            f"pandas-quoted-{rows}.csv",
            "import pandas as pd, csv; pd.read_parquet(SRC).to_csv(DST, index=False, quoting=csv.QUOTE_ALL)",
        ),
        "CSV: CRLF": (
            f"crlf-{rows}.csv",
            "import pandas as pd; pd.read_parquet(SRC).to_csv(DST, index=False, lineterminator='\\r\\n')",
        ),
    }
    for name, (file_name, code) in made.items():
        dst = DATA / file_name
        if not dst.exists():
            prog = f"SRC = {str(base)!r}; DST = {str(dst)!r}; " + code
            subprocess.run(python(prog), check=True)
        out[name] = dst
    out["CSV: pyarrow"] = csv
    return out


def peers(name: str, path: Path) -> list[tuple[str, list[str]]]:
    p = str(path)
    csv = p.endswith(".csv")
    folder = path.is_dir()
    scan_pl = (
        f"pl.scan_csv({p!r})"
        if csv
        else f"pl.scan_parquet({p + '/**/*.parquet' if folder else p!r}, hive_partitioning=True)"
    )
    read_dd = (
        f"read_csv('{p}')"
        if csv
        else f"read_parquet('{p}/**/*.parquet', hive_partitioning=true)"
        if folder
        else f"read_parquet('{p}')"
    )
    return [
        ("rebalance", rebalance("inspect", p, "--json", "--no-split")),
        (
            "DuckDB",
            python(
                f'import duckdb; duckdb.sql("SELECT label, count(*) FROM {read_dd} GROUP BY label").fetchall()'
            ),
        ),
        ("polars", python(f"import polars as pl; {scan_pl}.group_by('label').len().collect()")),
    ]


def under(path: Path, out: Path) -> list[tuple[str, list[str]]]:
    p = str(path)
    return [
        (
            "rebalance",
            rebalance(
                "resample",
                p,
                "-o",
                str(out / "r.parquet"),
                "--target",
                "100",
                "--mode",
                "under",
                "--all-splits",
            ),
        ),
        (
            "polars",
            python(
                "import polars as pl; "
                f"pl.scan_parquet({p!r}).filter(pl.int_range(pl.len()).shuffle(0).over('label') < 100)"
                f".sink_parquet({str(out / 'pl.parquet')!r})"
            ),
        ),
    ]


def run(commands: list[tuple[str, list[str]]], repeat: int) -> dict[str, tuple[float, float]]:
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeat):  # alternating: a busy moment hits every tool alike
        for name, argv in commands:
            wall, rss = measure(argv)
            old = best.get(name, (float("inf"), 0.0))
            best[name] = (min(old[0], wall), max(old[1], rss))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = make_files(args.rows)
    print(f"\n{args.rows:,} rows, 5,000 classes; best of {args.repeat}; ratio = rebalance / peer")
    print(f"  {'file':<26} {'job':<8} {'rebalance':>16} {'DuckDB':>22} {'polars':>22}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in files.items():
            jobs = [("inspect", peers(name, path))]
            if not str(path).endswith(".csv") and not path.is_dir():
                jobs.append(("under", under(path, Path(tmp))))
            for job, commands in jobs:
                best = run(commands, args.repeat)
                mine = best["rebalance"]
                cells = [f"{mine[0]:.2f} s {mine[1]:>5.0f} MB"]
                for peer in ("DuckDB", "polars"):
                    if peer in best:
                        w, r = best[peer]
                        cells.append(f"{w:.2f} s {r:>5.0f} MB ({mine[0] / w:.2f}×)")
                    else:
                        cells.append("—")
                print(f"  {name:<26} {job:<8} {cells[0]:>16} {cells[1]:>22} {cells[2]:>22}")


if __name__ == "__main__":
    main()
