"""inspect on a long-tail manifest vs. the obvious pandas / pyarrow one-liners.

    python benchmarks/bench_inspect.py                 # 10M rows
    python benchmarks/bench_inspect.py --rows 30000000 # 30M rows: memory must stay flat

Each command runs as its own process, so wall time includes start-up and the peak
memory is that process's alone. Data is generated once into benchmarks/data/.
"""

from __future__ import annotations

import argparse

from _common import generate, measure, python, rebalance, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per command: best wall, largest peak"
    )
    args = parser.parse_args()
    csv_path, pq_path = generate(args.rows)
    rows = []
    for name, argv in [
        (
            "rebalance inspect CSV --json --no-split",
            rebalance("inspect", str(csv_path), "--json", "--no-split"),
        ),
        (
            "rebalance inspect CSV --json (with split column)",
            rebalance("inspect", str(csv_path), "--json"),
        ),
        (
            "pandas read_csv(usecols=[label]).value_counts()",
            python(
                f"import pandas as pd; pd.read_csv({str(csv_path)!r}, usecols=['label'])['label'].value_counts()"
            ),
        ),
        (
            "rebalance inspect Parquet --json --no-split",
            rebalance("inspect", str(pq_path), "--json", "--no-split"),
        ),
        (
            "pyarrow read_table(columns=[label]) + value_counts",
            python(
                "import pyarrow.parquet as pq, pyarrow.compute as pc; "
                f"pc.value_counts(pq.read_table({str(pq_path)!r}, columns=['label'])['label'])"
            ),
        ),
        (
            "pandas read_parquet(columns=[label]).value_counts()",
            python(
                f"import pandas as pd; pd.read_parquet({str(pq_path)!r}, columns=['label'])['label'].value_counts()"
            ),
        ),
    ]:
        runs = [measure(argv) for _ in range(args.repeat)]
        rows.append((name, min(w for w, _ in runs), max(r for _, r in runs)))
    report(f"inspect, {args.rows:,} rows, 5,000 classes (long tail), best of {args.repeat}", rows)


if __name__ == "__main__":
    main()
