"""evaluate vs. the scikit-learn calls a user would make on the same string labels.

    python benchmarks/bench_evaluate.py                      # 500k and 5M rows, 10 classes
    python benchmarks/bench_evaluate.py --rows 500000 --bootstrap 200

Two views, in the same run:

* whole process: ``rebalance evaluate preds.parquet --json`` against a Python process
  that reads the same file with pyarrow and calls scikit-learn / imbalanced-learn for
  the same numbers (accuracy, balanced accuracy, precision/recall/F1 per class and
  macro/weighted/micro, specificity, confusion matrix, kappa, MCC, G-mean);
* the metric computation alone, in this process, on the same Python lists of strings:
  ``rebalance.metrics.evaluate`` against those scikit-learn calls (best of N).

With ``--bootstrap B`` both also compute B bootstrap resamples of the headline metrics.
"""

from __future__ import annotations

import argparse
import time
import warnings

from _common import DATA, measure, python, rebalance, report

SKLEARN_CALLS = """
import warnings
warnings.simplefilter("ignore")
import numpy as np
from imblearn.metrics import geometric_mean_score, sensitivity_specificity_support
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, cohen_kappa_score,
    confusion_matrix, f1_score, matthews_corrcoef, precision_recall_fscore_support)

def sklearn_report(y, p, bootstrap=0, seed=0):
    labels = sorted(set(y) | set(p))
    out = {"accuracy": accuracy_score(y, p), "balanced_accuracy": balanced_accuracy_score(y, p)}
    out["per_class"] = precision_recall_fscore_support(y, p, labels=labels, zero_division=0)
    out["specificity"] = sensitivity_specificity_support(y, p, labels=labels, warn_for=())
    for average in ("macro", "weighted", "micro"):
        out[average] = precision_recall_fscore_support(y, p, labels=labels, average=average, zero_division=0)
        out[average + "_spec"] = sensitivity_specificity_support(y, p, labels=labels, average=average, warn_for=())
    out["cm"] = confusion_matrix(y, p, labels=labels)
    out["kappa"] = cohen_kappa_score(y, p)
    out["mcc"] = matthews_corrcoef(y, p)
    out["gmean"] = geometric_mean_score(y, p, labels=sorted(set(y)), average="multiclass")
    if bootstrap:
        yt, yp = np.asarray(y, dtype=object), np.asarray(p, dtype=object)
        rng = np.random.default_rng(seed)
        for _ in range(bootstrap):
            idx = rng.integers(0, len(yt), len(yt))
            t, q = yt[idx], yp[idx]
            accuracy_score(t, q); balanced_accuracy_score(t, q)
            f1_score(t, q, average="macro", zero_division=0); matthews_corrcoef(t, q)
            cohen_kappa_score(t, q); geometric_mean_score(t, q, average="multiclass")
    return out
"""


def make_predictions(rows: int, classes: int = 10, seed: int = 0) -> str:
    """A predictions Parquet file: string labels, imbalanced, about 80% correct."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    DATA.mkdir(exist_ok=True)
    path = DATA / f"predictions-{rows}-{classes}.parquet"
    if path.exists():
        return str(path)
    rng = np.random.default_rng(seed)
    names = np.array([f"class_{i:02d}" for i in range(classes)], dtype=object)
    p = 1.0 / np.arange(1, classes + 1) ** 1.5
    truth = rng.choice(classes, size=rows, p=p / p.sum())
    wrong = rng.random(rows) < 0.2
    pred = np.where(wrong, rng.integers(0, classes, rows), truth)
    table = pa.table({"y_true": names[truth], "y_pred": names[pred]})
    pq.write_table(table, str(path) + ".tmp")
    path.with_suffix(".parquet.tmp").replace(path)
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="*", default=[500_000, 5_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (best wall)")
    parser.add_argument("--bootstrap", type=int, default=0)
    args = parser.parse_args()
    for rows in args.rows:
        path = make_predictions(rows)
        boot = ["--bootstrap", str(args.bootstrap)] if args.bootstrap else []
        commands = [
            (f"rebalance evaluate --json{' --bootstrap ' + str(args.bootstrap) if boot else ''}",
             rebalance("evaluate", path, "--json", *boot)),
            ("pyarrow read + scikit-learn calls on the strings",
             python(SKLEARN_CALLS + "import pyarrow.parquet as pq\n"
                    f"t = pq.read_table({path!r})\n"
                    f"sklearn_report(t['y_true'].to_pylist(), t['y_pred'].to_pylist(), {args.bootstrap})")),
        ]  # fmt: skip
        measured = []
        for name, argv in commands:
            runs = [measure(argv) for _ in range(args.repeat)]
            measured.append((name, min(w for w, _ in runs), max(r for _, r in runs)))
        report(f"evaluate, {rows:,} rows, 10 classes, string labels, whole process", measured)
        print(f"  ratio (scikit-learn / rebalance): {measured[1][1] / measured[0][1]:.1f}x")

        import pyarrow.parquet as pq

        from rebalance.metrics import evaluate

        namespace: dict[str, object] = {}
        exec(SKLEARN_CALLS, namespace)  # noqa: S102 - the reference calls, shared with the child
        sklearn_report = namespace["sklearn_report"]
        table = pq.read_table(path)
        y, p = table["y_true"].to_pylist(), table["y_pred"].to_pylist()
        best: dict[str, float] = {"rebalance": float("inf"), "sklearn": float("inf")}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(args.repeat):  # alternating, best of N
                start = time.perf_counter()
                evaluate(y, p, bootstrap=args.bootstrap)
                best["rebalance"] = min(best["rebalance"], time.perf_counter() - start)
                start = time.perf_counter()
                sklearn_report(y, p, args.bootstrap)  # type: ignore[operator]
                best["sklearn"] = min(best["sklearn"], time.perf_counter() - start)
        print(
            f"  metrics alone, same lists: rebalance {best['rebalance']:.2f} s, "
            f"scikit-learn {best['sklearn']:.2f} s, ratio {best['sklearn'] / best['rebalance']:.1f}x"
        )


if __name__ == "__main__":
    main()
