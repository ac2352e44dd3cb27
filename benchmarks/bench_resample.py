"""resample vs. the obvious pandas and imbalanced-learn code, each as its own process.

    python benchmarks/bench_resample.py                  # 10M-row long tail + SMOTE 1M x 20
    python benchmarks/bench_resample.py --skip-imblearn  # without the slow imbalanced-learn runs

Random under/over-sampling: every class capped at (under) or raised to (over) 1,000
rows, Parquet in and out. SMOTE: 1M rows x 20 features, 2% minority, --n-jobs 2,
next to calling imbalanced-learn's SMOTE on the same file directly.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from _common import DATA, generate, measure, python, rebalance, report

CAP = 1000

PANDAS_UNDER = """
import pandas as pd
df = pd.read_parquet({src!r})
out = df.groupby("label", group_keys=False).apply(lambda g: g.sample(n=min(len(g), {cap}), random_state=0))
out.to_parquet({dst!r})
"""
PANDAS_OVER = """
import pandas as pd
df = pd.read_parquet({src!r})
extra = df.groupby("label", group_keys=False).apply(
    lambda g: g.sample(n={cap} - len(g), replace=True, random_state=0) if len(g) < {cap} else g.iloc[:0]
)
pd.concat([df, extra]).to_parquet({dst!r})
"""
# the floor: read the manifest and write as many rows, choosing nothing
READ_WRITE = """
import pyarrow as pa, pyarrow.parquet as pq
table = pq.read_table({src!r})
rows = {rows}
out = table.slice(0, rows) if rows <= table.num_rows else pa.concat_tables([table, table.slice(0, rows - table.num_rows)])
pq.write_table(out, {dst!r})
"""
IMBLEARN = """
import pandas as pd
from imblearn.under_sampling import RandomUnderSampler
from imblearn.over_sampling import RandomOverSampler
df = pd.read_parquet({src!r})
# integer class codes: imbalanced-learn scans y once per class, and comparing text is ~10x slower
codes, names = pd.factorize(df["label"])
counts = pd.Series(codes).value_counts()
if {under}:
    strategy = {{k: min(int(v), {cap}) for k, v in counts.items()}}
    sampler = RandomUnderSampler(sampling_strategy=strategy, random_state=0)
else:
    strategy = {{k: max(int(v), {cap}) for k, v in counts.items()}}
    sampler = RandomOverSampler(sampling_strategy=strategy, random_state=0)
X, y = sampler.fit_resample(df.drop(columns="label"), codes)
X.assign(label=names[y]).to_parquet({dst!r})
"""
SMOTE_DIRECT = """
import numpy as np, pandas as pd
from imblearn.over_sampling import SMOTE
from sklearn.neighbors import NearestNeighbors
df = pd.read_parquet({src!r})
features = [c for c in df.columns if c.startswith("f")]
X, y = SMOTE(k_neighbors=NearestNeighbors(n_neighbors=6, n_jobs=2), random_state=0).fit_resample(
    df[features].to_numpy(), df["label"].to_numpy()
)
pd.DataFrame(X, columns=features).assign(label=y).to_parquet({dst!r})
"""


def planned_rows(argv: list[str]) -> int:
    """How many rows a resample command writes, from its --dry-run plan."""
    at = argv.index("-o")
    plan = subprocess.run(
        [*argv[:at], *argv[at + 2 :], "--dry-run", "--plan-json"],
        capture_output=True,
        check=True,
        text=True,
    )
    return int(json.loads(plan.stdout)["rows_after"])


def best(argv: list[str], repeat: int) -> tuple[float, float]:
    runs = [measure(argv) for _ in range(repeat)]
    return min(w for w, _ in runs), max(r for _, r in runs)


def make_smote_data(rows: int = 1_000_000, features: int = 20) -> Path:
    path = DATA / f"smote-{rows}x{features}.parquet"
    if path.exists():
        return path
    code = f"""
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
rng = np.random.default_rng(0)
y = np.where(rng.random({rows}) < 0.02, "fraud", "ok")
X = rng.normal(size=({rows}, {features})) + (y == "fraud")[:, None] * 0.8
cols = {{f"f{{j:02d}}": X[:, j] for j in range({features})}}
pq.write_table(pa.table({{"id": [f"t{{i}}" for i in range({rows})], **cols, "label": y}}), {str(path)!r})
"""
    DATA.mkdir(exist_ok=True)
    measure(python(code))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--skip-imblearn", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each fast command: best wall, largest peak"
    )
    args = parser.parse_args()
    _, src = generate(args.rows)
    out = DATA / "out.parquet"
    for direction in ("under", "over"):
        ours = rebalance(
            "resample",
            str(src),
            "-o",
            str(out),
            "--target",
            str(CAP),
            "--mode",
            direction,
            "--all-splits",
        )
        idiom = (PANDAS_UNDER if direction == "under" else PANDAS_OVER).format(
            src=str(src), dst=str(out), cap=CAP
        )
        floor = READ_WRITE.format(src=str(src), dst=str(out), rows=planned_rows(ours))
        rows = [
            (f"rebalance resample --target {CAP} --mode {direction}", *best(ours, args.repeat)),
            ("pandas groupby().apply(sample)", *best(python(idiom), args.repeat)),
            ("pyarrow read + write as many rows, no selection", *best(python(floor), args.repeat)),
        ]
        if not args.skip_imblearn:
            name = "RandomUnderSampler" if direction == "under" else "RandomOverSampler"
            code = IMBLEARN.format(src=str(src), dst=str(out), cap=CAP, under=direction == "under")
            rows.append((f"imbalanced-learn {name}", *measure(python(code))))
        report(
            f"random {direction}sampling, {args.rows:,} rows, 5,000 classes, Parquet in and out",
            rows,
        )
        sys.stdout.flush()
    smote_src = make_smote_data()
    rows = [
        (
            "rebalance resample --method smote --n-jobs 2",
            *measure(
                rebalance(
                    "resample",
                    str(smote_src),
                    "-o",
                    str(out),
                    "--method",
                    "smote",
                    "--features",
                    "f*",
                    "--n-jobs",
                    "2",
                )
            ),
        ),
        (
            "imbalanced-learn SMOTE (NearestNeighbors n_jobs=2)",
            *measure(python(SMOTE_DIRECT.format(src=str(smote_src), dst=str(out)))),
        ),
    ]
    report("SMOTE, 1,000,000 rows x 20 features, 2% minority, Parquet in and out", rows)


if __name__ == "__main__":
    main()
