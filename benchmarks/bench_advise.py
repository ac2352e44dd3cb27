"""`rebalance advise` on 100k rows × 20 features next to the hand-wired imbalanced-learn run.

    python benchmarks/bench_advise.py                 # 100,000 rows, default remedies, logreg, 5 × 2 folds
    python benchmarks/bench_advise.py --rows 20000 --n-jobs 2

Both run as their own process, in the same run: ``rebalance advise --n-jobs N`` (reading the
Parquet file, the timing probe and the report included) and a script that builds the same
imbalanced-learn pipelines by hand and calls ``cross_validate`` with ``n_jobs=N`` for each.
The goal: under 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _common import classification_parquet, measure, python, rebalance

REFERENCE = """
import sys, numpy as np, pyarrow.parquet as pq
from imblearn.pipeline import Pipeline
from imblearn.over_sampling import RandomOverSampler, SMOTE
from imblearn.under_sampling import RandomUnderSampler, EditedNearestNeighbours
from imblearn.combine import SMOTETomek
from imblearn.metrics import geometric_mean_score
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import make_scorer, recall_score, average_precision_score
from sklearn.model_selection import RepeatedStratifiedKFold, cross_validate, TunedThresholdClassifierCV, StratifiedShuffleSplit
t = pq.read_table(sys.argv[1]).to_pandas()
X = t.filter(like="f").to_numpy(); y = (t["label"] == "rare").astype(int).to_numpy()
n_jobs = int(sys.argv[2])
scoring = {"balanced_accuracy": "balanced_accuracy", "macro_f1": "f1_macro",
           "g_mean": make_scorer(geometric_mean_score),
           "minority_recall": make_scorer(recall_score, labels=[1], average="macro"),
           "pr_auc": make_scorer(average_precision_score, response_method="predict_proba", pos_label=1)}
def lr(cw=None): return LogisticRegression(max_iter=1000, class_weight=cw)
cw = {c: w for c, w in zip([0, 1], (lambda n: (1 - 0.999) / (1 - 0.999 ** n))(np.bincount(y)))}
pipes = {
  "none": Pipeline([("s", StandardScaler()), ("m", lr())]),
  "balanced": Pipeline([("s", StandardScaler()), ("m", lr("balanced"))]),
  "effective": Pipeline([("s", StandardScaler()), ("m", lr(cw))]),
  "over": Pipeline([("s", StandardScaler()), ("r", RandomOverSampler(random_state=0)), ("m", lr())]),
  "under": Pipeline([("s", StandardScaler()), ("r", RandomUnderSampler(random_state=0)), ("m", lr())]),
  "smote": Pipeline([("s", StandardScaler()), ("r", SMOTE(random_state=0)), ("m", lr())]),
  "smote-tomek": Pipeline([("s", StandardScaler()), ("r", SMOTETomek(random_state=0)), ("m", lr())]),
  "enn": Pipeline([("s", StandardScaler()), ("r", EditedNearestNeighbours()), ("m", lr())]),
  "threshold": TunedThresholdClassifierCV(Pipeline([("s", StandardScaler()), ("m", lr())]), scoring="balanced_accuracy",
      cv=StratifiedShuffleSplit(n_splits=1, test_size=0.25, random_state=0), random_state=0),
}
cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=0)
for name, pipe in pipes.items():
    cross_validate(pipe, X, y, cv=cv, scoring=scoring, n_jobs=n_jobs)
"""


def make_data(rows: int) -> Path:
    return classification_parquet("advise", rows, rare=0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    src = make_data(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        ours = measure(
            rebalance(
                "advise", str(src), "--n-jobs", str(args.n_jobs), "-o", str(Path(tmp) / "a.json")
            )
        )
        theirs = measure(python(REFERENCE) + [str(src), str(args.n_jobs)])
        import json

        doc = json.loads((Path(tmp) / "a.json").read_text())
    print(
        f"advise, {args.rows:,} rows × 20 features, 9 remedies, logreg, 5 × 2 folds, --n-jobs {args.n_jobs}"
    )
    print(
        f"  rebalance advise (whole process)      {ours[0]:8.1f} s  {ours[1]:6.0f} MB  (probe guessed {doc['estimated_seconds'] or 0:.0f} s)"
    )
    print(f"  hand-wired cross_validate, same work  {theirs[0]:8.1f} s  {theirs[1]:6.0f} MB")
    print(f"  verdict: {doc['verdict']}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
