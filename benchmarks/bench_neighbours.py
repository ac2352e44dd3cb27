"""Neighbour methods: rebalance next to imbalanced-learn, whole process, same rows.

    python benchmarks/bench_neighbours.py                       # the issue's sizes
    python benchmarks/bench_neighbours.py --rows 50000 --others-rows 10000 --big 0

Data: ``--rows`` rows × 20 numeric features, two classes at 1:100 (make_classification,
clustered), Parquet. Each job runs as its own process: ``rebalance resample --method M``
against a script a user would write (pandas reads the Parquet, imbalanced-learn's
sampler, pandas writes the kept rows), alternating, best of ``--repeat``. Every pair's
outputs are compared: the same ``id`` values must come out (cluster centroids makes new
rows, so only their number is compared).

Tomek links and one-sided selection (whose last step is Tomek links) run at ``--rows``;
the other methods at ``--others-rows`` (their cost is the same in both tools: see the
README); ``--big`` rows runs rebalance's Tomek links alone (imbalanced-learn needs
n² distances there).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import classification_parquet, measure, python, rebalance

METHODS = {
    "tomek": "imblearn.under_sampling.TomekLinks()",
    "one-sided-selection": "imblearn.under_sampling.OneSidedSelection(random_state=0)",
    "enn": "imblearn.under_sampling.EditedNearestNeighbours()",
    "renn": "imblearn.under_sampling.RepeatedEditedNearestNeighbours()",
    "allknn": "imblearn.under_sampling.AllKNN()",
    "neighbourhood-cleaning": "imblearn.under_sampling.NeighbourhoodCleaningRule()",
    "near-miss": "imblearn.under_sampling.NearMiss(sampling_strategy={0: N_MIN})",
    "cluster-centroids": "imblearn.under_sampling.ClusterCentroids(sampling_strategy={0: N_MIN}, random_state=0)",
}
FAST = ("tomek", "one-sided-selection")


def make_data(rows: int) -> Path:
    return classification_parquet("neighbours", rows, rare=0.01, class_sep=0.8, ids=True)


def imblearn_script(method: str, src: Path, dst: Path) -> list[str]:
    sampler = METHODS[method]
    return python(
        "import importlib, numpy as np, pandas as pd, imblearn.under_sampling\n"
        f"df = pd.read_parquet({str(src)!r})\n"
        "X = df.filter(like='f').to_numpy(); y = (df['label'] == 'rare').astype(int).to_numpy()\n"
        "N_MIN = int(y.sum())\n"
        f"s = {sampler}\n"
        "Xr, yr = s.fit_resample(X, y)\n"
        "out = df.iloc[np.sort(s.sample_indices_)] if hasattr(s, 'sample_indices_') else pd.DataFrame(Xr)\n"
        f"out.to_parquet({str(dst)!r})\n"
    )


def rebalance_cmd(method: str, src: Path, dst: Path) -> list[str]:
    extra = ["--target", "min"] if method in ("near-miss", "cluster-centroids") else []
    return rebalance(
        "resample", str(src), "-o", str(dst), "--method", method, "--features", "f*", *extra
    )


def same_rows(a: Path, b: Path, method: str) -> str:
    import pyarrow.parquet as pq

    ta, tb = pq.read_table(a), pq.read_table(b)
    if method == "cluster-centroids":
        return "same count" if ta.num_rows == tb.num_rows else "DIFFERENT COUNT"
    same = sorted(ta.column("id").to_pylist()) == sorted(tb.column("id").to_pylist())
    return f"same {ta.num_rows:,} rows" if same else "DIFFERENT ROWS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--others-rows", type=int, default=30_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    print(
        f"{'method':<24} {'rows':>9} {'rebalance s':>12} {'imblearn s':>11} {'speed-up':>9}  check"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for method in args.methods.split(","):
            rows = args.rows if method in FAST else args.others_rows
            src = make_data(rows)
            ours, theirs = out / f"{method}-r.parquet", out / f"{method}-i.parquet"
            best_r = best_i = float("inf")
            for _ in range(args.repeat):
                for target in (ours, theirs):
                    target.unlink(missing_ok=True)
                best_r = min(best_r, measure(rebalance_cmd(method, src, ours))[0])
                best_i = min(best_i, measure(imblearn_script(method, src, theirs))[0])
            print(
                f"{method:<24} {rows:>9,} {best_r:>12.2f} {best_i:>11.2f} {best_i / best_r:>8.1f}×  "
                f"{same_rows(ours, theirs, method)}",
                flush=True,
            )
        if args.big:
            src = make_data(args.big)
            wall, rss = measure(rebalance_cmd("tomek", src, out / "big.parquet"))
            print(
                f"{'tomek (rebalance only)':<24} {args.big:>9,} {wall:>12.2f} {'—':>11}  peak {rss:,.0f} MB"
            )


if __name__ == "__main__":
    main()
