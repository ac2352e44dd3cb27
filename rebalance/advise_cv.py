"""The measuring parts of ``rebalance advise``: each remedy as a pipeline, the folds, the
scorers and the corrected interval of a fold score.

Every remedy is a step of an imbalanced-learn :class:`~imblearn.pipeline.Pipeline`
(scaler → sampler → model), so cross-validation fits it on the training folds only and
scores the untouched test folds. Intervals are the corrected resampled t intervals of
Nadeau & Bengio (2003): folds of repeated k-fold share training rows, so the plain
standard error is too small; the variance of the J fold scores is inflated to
(1/J + n_test/n_train) · s², with n_test/n_train = 1/(k − 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rebalance.errors import RebalanceError

REMEDIES: dict[str, str] = {
    "none": "the model on the data as it is",
    "balanced-weights": "class weights n / (k · n_c) (sklearn 'balanced')",
    "effective-weights": "class weights by effective number (1 − β)/(1 − β^n_c), β = 0.999",
    "random-over": "random oversampling of every class to the largest",
    "random-under": "random undersampling of every class to the smallest",
    "smote": "SMOTE to the largest class",
    "smote-tomek": "SMOTE, then Tomek links removed",
    "enn": "edited nearest neighbours (removes rows their 3 neighbours disagree with)",
    "threshold": "decision threshold tuned on an inner split of the training fold (binary)",
}
METRICS = ("balanced_accuracy", "macro_f1", "g_mean", "minority_recall", "pr_auc")
MODELS = ("logreg", "hgb")
SAMPLERS = ("random-over", "random-under", "smote", "smote-tomek", "enn")
INNER_TEST = 0.25  # share of a training fold the threshold is tuned on


@dataclass
class Interval:
    """A mean over folds and its 95% corrected resampled t interval."""

    mean: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "low": self.low, "high": self.high}

    def clipped(self) -> Interval:
        """Bounded to [0, 1], where every metric here lives (differences are not clipped)."""
        return Interval(self.mean, max(self.low, 0.0), min(self.high, 1.0))


def model_for(model: str, seed: int, class_weight: Any = None) -> Any:
    """The baseline classifier: logistic regression or histogram gradient boosting."""
    if model == "logreg":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000, class_weight=class_weight)
    if model == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(random_state=seed, class_weight=class_weight)
    raise RebalanceError(f"--model {model!r} is not a model (models: {', '.join(MODELS)})")


def _effective_weights_estimator() -> Any:
    from sklearn.base import BaseEstimator, ClassifierMixin, clone

    class EffectiveNumberWeighted(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
        """A classifier fitted with class weights by effective number, counted on the rows
        it is fitted on (so inside each training fold)."""

        def __init__(self, estimator: Any = None, beta: float = 0.999) -> None:
            self.estimator = estimator
            self.beta = beta

        def fit(self, X: Any, y: Any) -> Any:
            from rebalance.weights import class_weights

            values, counts = np.unique(y, return_counts=True)
            found = class_weights(
                {str(v): int(n) for v, n in zip(values, counts, strict=True)},
                scheme="effective",
                beta=self.beta,
            )
            weights = {v: found.weights[str(v)] for v in values.tolist()}
            self.estimator_ = clone(self.estimator).set_params(class_weight=weights)
            self.estimator_.fit(X, y)
            self.classes_ = self.estimator_.classes_
            return self

        def predict(self, X: Any) -> Any:
            return self.estimator_.predict(X)

        def predict_proba(self, X: Any) -> Any:
            return self.estimator_.predict_proba(X)

    return EffectiveNumberWeighted


def pipeline_for(
    remedy: str, model: str, *, seed: int, scoring: Any = None, binary: bool = True
) -> Any:
    """The imbalanced-learn Pipeline of a remedy: (scaler →) (sampler →) model.

    ``scoring`` is the scorer the ``threshold`` remedy tunes its cut-off for.
    """
    from imblearn.pipeline import Pipeline

    steps: list[tuple[str, Any]] = []
    if model == "logreg":
        from sklearn.preprocessing import StandardScaler

        steps.append(("scale", StandardScaler()))
    if remedy in SAMPLERS:
        steps.append(("sampler", sampler_for(remedy, seed)))
    if remedy == "balanced-weights":
        steps.append(("model", model_for(model, seed, "balanced")))
    elif remedy == "effective-weights":
        steps.append(("model", _effective_weights_estimator()(model_for(model, seed))))
    elif remedy == "threshold":
        if not binary:
            raise RebalanceError(
                "--remedies threshold tunes one decision threshold: it needs two classes"
            )
        from sklearn.model_selection import StratifiedShuffleSplit, TunedThresholdClassifierCV

        inner = StratifiedShuffleSplit(n_splits=1, test_size=INNER_TEST, random_state=seed)
        tuned = TunedThresholdClassifierCV(
            Pipeline([*steps, ("model", model_for(model, seed))]),
            scoring=scoring,
            cv=inner,
            random_state=seed,
        )
        return Pipeline([("tuned", tuned)])
    elif remedy in REMEDIES:
        steps.append(("model", model_for(model, seed)))
    else:
        raise RebalanceError(
            f"--remedies {remedy!r} is not a remedy (remedies: {', '.join(REMEDIES)})"
        )
    return Pipeline(steps)


def sampler_for(remedy: str, seed: int) -> Any:
    """The imbalanced-learn sampler of a resampling remedy."""
    if remedy == "random-over":
        from imblearn.over_sampling import RandomOverSampler

        return RandomOverSampler(random_state=seed)
    if remedy == "random-under":
        from imblearn.under_sampling import RandomUnderSampler

        return RandomUnderSampler(random_state=seed)
    if remedy == "smote":
        from imblearn.over_sampling import SMOTE

        return SMOTE(random_state=seed)
    if remedy == "smote-tomek":
        from imblearn.combine import SMOTETomek

        from rebalance.samplers.neighbours import FastTomekLinks

        return SMOTETomek(random_state=seed, tomek=FastTomekLinks(sampling_strategy="all"))
    from rebalance.samplers.neighbours import FastEditedNearestNeighbours

    return FastEditedNearestNeighbours()


def _macro_pr_auc(y: Any, proba: Any, *, labels: Sequence[int]) -> float:
    from sklearn.metrics import average_precision_score
    from sklearn.preprocessing import label_binarize

    return float(
        average_precision_score(label_binarize(y, classes=list(labels)), proba, average="macro")
    )


def scorers(k: int, minority: int) -> dict[str, Any]:
    """The scorers of :data:`METRICS` for integer class codes 0..k-1."""
    from imblearn.metrics import geometric_mean_score
    from sklearn.metrics import average_precision_score, make_scorer, recall_score

    if k == 2:
        pr_auc = make_scorer(
            average_precision_score, response_method="predict_proba", pos_label=minority
        )
    else:
        pr_auc = make_scorer(_macro_pr_auc, response_method="predict_proba", labels=list(range(k)))
    return {
        "balanced_accuracy": "balanced_accuracy",
        "macro_f1": "f1_macro",
        "g_mean": make_scorer(geometric_mean_score),
        "minority_recall": make_scorer(
            recall_score, labels=[minority], average="macro", zero_division=0
        ),
        "pr_auc": pr_auc,
    }


def splitter(folds: int, repeats: int, seed: int) -> Any:
    """The folds every remedy is scored on (the same for all: differences are paired)."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    return RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)


def corrected_interval(scores: npt.NDArray[np.float64], folds: int) -> Interval:
    """Mean and 95% corrected resampled t interval (Nadeau & Bengio) of fold scores."""
    from scipy import stats

    values = np.asarray(scores, dtype=np.float64)
    mean = float(values.mean())
    if len(values) < 2:
        return Interval(mean, mean, mean)
    variance = (1.0 / len(values) + 1.0 / (folds - 1)) * float(values.var(ddof=1))
    half = float(stats.t.ppf(0.975, len(values) - 1)) * math.sqrt(variance)
    return Interval(mean, mean - half, mean + half)


def cross_validated(
    remedy: str,
    X: Any,
    y: npt.NDArray[np.int64],
    *,
    model: str,
    folds: int,
    repeats: int,
    seed: int,
    metric: str,
    n_jobs: int | None = None,
) -> tuple[dict[str, npt.NDArray[np.float64]], float]:
    """One remedy's score per fold for every metric, and its mean fit time per fold."""
    from sklearn.model_selection import cross_validate

    k = int(y.max()) + 1
    minority = int(np.argmin(np.bincount(y, minlength=k)))
    scoring = scorers(k, minority)
    pipe = pipeline_for(remedy, model, seed=seed, scoring=scoring[metric], binary=k == 2)
    try:
        out = cross_validate(
            pipe,
            X,
            y,
            cv=splitter(folds, repeats, seed),
            scoring=scoring,
            n_jobs=n_jobs,
            error_score="raise",
        )
    except ValueError as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RebalanceError(f"advise: {remedy} failed: {text}") from exc
    return {m: np.asarray(out[f"test_{m}"], dtype=np.float64) for m in METRICS}, float(
        np.mean(out["fit_time"])
    )
