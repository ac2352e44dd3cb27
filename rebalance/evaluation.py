"""``rebalance evaluate`` as one library call: read predictions, evaluate, compare."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow.compute as pc

from rebalance.counts import TrainingSource
from rebalance.errors import RebalanceError
from rebalance.metrics import Evaluation, gate_failures
from rebalance.metrics import evaluate as evaluate_labels
from rebalance.predictions import Predictions, read_predictions
from rebalance.priors import (
    PriorEstimate,
    bbse_from,
    priors_from_counts,
    read_prior_file,
    read_scores,
    target_estimate,
)
from rebalance.stats import TrainingCounts, training_counts


@dataclass
class EvaluateResult:
    """What ``rebalance evaluate`` computes: one evaluation per predictions input."""

    predictions: list[Predictions]
    evaluations: list[Evaluation]
    training: TrainingCounts | None = None
    warnings: list[str] = field(default_factory=list)  # about the inputs as a whole

    @property
    def report(self) -> dict[str, Any]:
        """The ``--json`` document: the report, or with several inputs the comparison."""
        if len(self.evaluations) == 1:
            return self.evaluations[0].report
        from rebalance.metrics import compare_doc

        doc = compare_doc(
            [p.source for p in self.predictions], [e.metrics() for e in self.evaluations]
        )
        doc["reports"] = [e.report for e in self.evaluations]
        return doc

    def gate_failures(
        self,
        under: Sequence[tuple[str, float]] = (),
        over: Sequence[tuple[str, float]] = (),
    ) -> list[str]:
        """Failed gates (``("macro_f1", 0.6)`` style), prefixed by the source when several.

        Raises a :class:`RebalanceError` for an unknown metric name.
        """
        out = []
        for preds, e in zip(self.predictions, self.evaluations, strict=True):
            use_interval = bool(e.report.get("bootstrap"))
            for failure in gate_failures(e, under=under, over=over, use_interval=use_interval):
                out.append(f"{preds.source}: {failure}" if len(self.evaluations) > 1 else failure)
        return out


def read_priors(source: str | os.PathLike[str] | Mapping[str, float]) -> dict[str, float]:
    """Target priors: a mapping, or a JSON file of ``{label: prior}``."""
    return read_prior_file(source, "--target-priors")


def evaluate(
    predictions: Any,
    *,
    true_col: str | None = None,
    pred_col: str | None = None,
    proba_prefix: str | None = None,
    proba_cols: Sequence[str] | None = None,
    score_col: str | None = None,
    positive: str | None = None,
    drop_missing: bool = False,
    input_format: str | None = None,
    encoding: str = "utf-8",
    train_manifest: str | os.PathLike[str] | TrainingSource | None = None,
    target_priors: str | os.PathLike[str] | Mapping[str, float] | None = None,
    estimate_priors: str | None = None,
    test_predictions: Any = None,
    **options: Any,
) -> EvaluateResult:
    """Evaluate one predictions file or table, or compare several: ``rebalance evaluate``.

    ``predictions`` is a path, a table (``pyarrow.Table``, ``pandas.DataFrame``, dict of
    columns) or a list of them. Column options are those of
    :func:`~rebalance.predictions.read_predictions`; ``train_manifest`` (a path, or a
    :class:`~rebalance.counts.TrainingSource` naming its label column and split) gives the
    training counts (of its train split when it has a split column) for the long-tail
    buckets and ``adjust_priors``; ``options`` are those of
    :func:`rebalance.metrics.evaluate` (``bootstrap``, ``seed``, ``thresholds``...).

    ``estimate_priors`` (``"em"`` or ``"bbse"``) estimates the priors of the unlabelled
    ``test_predictions`` (:mod:`rebalance.priors`; BBSE from these labelled
    predictions' confusion matrix) and reports the metrics before and after adjusting
    the scores to them (``prior_adjusted``, with ``estimated_priors``).
    """
    inputs = list(predictions) if isinstance(predictions, list | tuple) else [predictions]
    if not inputs:
        raise RebalanceError("predictions: nothing to evaluate")
    source = TrainingSource.of(train_manifest)
    training = None if source is None else training_counts(source)
    priors = read_priors(target_priors) if target_priors is not None else None
    if (estimate_priors is None) != (test_predictions is None):
        raise RebalanceError("--estimate-priors and --test-preds go together")
    if estimate_priors is not None:
        if training is None:
            raise RebalanceError("--estimate-priors needs --train-manifest (the training priors)")
        if target_priors is not None:
            raise RebalanceError("--estimate-priors and --target-priors both set the target priors")
        if len(inputs) != 1:
            raise RebalanceError("--estimate-priors evaluates one predictions file")
        options["prior_adjust"] = True
    estimated = None
    read: list[Predictions] = []
    done: list[Evaluation] = []
    for source in inputs:
        preds = read_predictions(
            source,
            true_col=true_col,
            pred_col=pred_col,
            proba_prefix=proba_prefix,
            proba_cols=proba_cols,
            score_col=score_col,
            positive=positive,
            drop_missing=drop_missing,
            input_format=input_format,
            encoding=encoding,
        )
        if estimate_priors is not None:
            estimated = _estimate_test_priors(
                preds, training.counts if training else {}, estimate_priors, test_predictions
            )
            priors = estimated.priors
        result = evaluate_labels(
            preds.y_true,
            preds.y_pred,
            scores=preds.scores,
            positive=positive or preds.positive,
            train_counts=None if training is None else training.counts,
            target_priors=priors,
            **options,
        )
        result.report = {
            "source": preds.source,
            "true_col": preds.true_col,
            "pred_col": preds.pred_col,
            "score_cols": preds.score_cols,
            **result.report,
        }
        if estimated is not None and "prior_adjusted" in result.report:
            result.report["prior_adjusted"]["estimate"] = estimated.to_dict()
        result.warnings = preds.warnings + result.warnings
        read.append(preds)
        done.append(result)
    return EvaluateResult(read, done, training, compare_warnings(read))


def _estimate_test_priors(
    preds: Predictions, train_counts: Mapping[str, int], method: str, test: Any
) -> PriorEstimate:
    """The test priors by EM (test scores) or BBSE (these labelled predictions + test scores)."""
    if preds.scores is None:
        raise RebalanceError(f"{preds.source}: --estimate-priors needs per-class score columns")
    classes = preds.scores.classes
    if len(preds.score_cols) != len(classes):
        raise RebalanceError(
            "--estimate-priors needs one score column per class (--proba-prefix), not --score-col"
        )
    # the same score columns: PREFIX<class> (or columns named as the classes)
    prefixes = {col[: len(col) - len(c)] for c, col in zip(classes, preds.score_cols, strict=True)}
    prefix = prefixes.pop() if len(prefixes) == 1 else None
    _, test_scores, _, where = read_scores(test, proba_prefix=prefix, proba_cols=preds.score_cols)
    if test_scores.classes != classes:
        raise RebalanceError(
            f"--test-preds {where}: its score columns are not those of {preds.source}"
        )
    train = priors_from_counts(train_counts, classes, flag="--train-manifest")
    if method == "bbse":
        return bbse_from(
            classes,
            preds.y_true.to_pylist(),
            preds.scores.matrix,
            test_scores.matrix,
            where=preds.source,
        )
    return target_estimate(test_scores, train, estimate=method)


def compare_warnings(files: Sequence[Predictions]) -> list[str]:
    """Compared prediction files should hold the same rows: say so when they cannot."""
    out = []
    first = files[0]
    for other in files[1:]:
        if len(other.y_true) != len(first.y_true):
            out.append(
                f"{first.source} has {len(first.y_true):,} rows but {other.source} has "
                f"{len(other.y_true):,}: the comparison is not on the same examples"
            )
        elif not other.y_true.equals(first.y_true):
            differ = pc.sum(pc.not_equal(first.y_true, other.y_true)).as_py()
            out.append(
                f"{first.source} and {other.source} disagree on the true label of "
                f"{differ:,} row(s): the comparison is not on the same examples"
            )
    return out
