"""Prior shift at test time: Bayes' rule on predicted scores, with test priors given or estimated.

A classifier trained where class ``c`` has prior π_train(c) outputs p(c|x). Where the
priors are π_test instead (and p(x|c) is unchanged: *label shift*),

    p'(c|x) = p(c|x) · π_test(c)/π_train(c)  /  Σ_k p(k|x) · π_test(k)/π_train(k).

π_test comes from a file, is uniform, or is estimated from the unlabelled test scores:

* ``em`` — Saerens, Latinne & Decaestecker (2002): start from π_train; adjust the scores to
  the current priors, take the mean adjusted score per class as the new priors; repeat
  until the priors move less than ``tol``.
* ``bbse`` — black-box shift estimation, Lipton, Wang & Smola (2018): on labelled
  validation predictions, C[i, j] = P(ŷ = i, y = j); on the test set μ[i] = P(ŷ = i).
  Then w = C⁻¹ μ (least squares, negatives clipped to 0) and π_test(c) ∝ w(c) · P_val(y = c).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance import arrays
from rebalance.counts import TrainingSource
from rebalance.errors import RebalanceError
from rebalance.manifest import Source, load_table, resolve_source
from rebalance.scores import Scores, shift

Vector = npt.NDArray[np.float64]
ADJUSTED_PREFIX = "adjusted_"  # adjusted_<score column> per class
ADJUSTED_PRED = "adjusted_pred"  # the argmax class of the adjusted scores
SUM_TOLERANCE = 1e-3  # how far a row of probabilities may sum from 1


@dataclass
class PriorEstimate:
    """Test priors and how they were found (``file``, ``uniform``, ``em`` or ``bbse``)."""

    priors: dict[str, float]
    method: str
    iterations: int | None = None
    converged: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "priors": self.priors}
        if self.method == "em":
            out["iterations"] = self.iterations
            out["converged"] = self.converged
        return out


@dataclass
class AdjustResult:
    """``rebalance adjust``: the table written, and the priors on both sides."""

    table: pa.Table
    classes: list[str]
    train_priors: dict[str, float]
    target: PriorEstimate
    changed: int  # rows whose argmax class changed
    source: str
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The priors sidecar (and ``--json``) document."""
        return {
            "source": self.source,
            "classes": self.classes,
            "train_priors": self.train_priors,
            "target_priors": self.target.priors,
            "estimate": self.target.to_dict(),
            "rows": self.table.num_rows,
            "changed_predictions": self.changed,
        }


# ---------------------------------------------------------------- the arithmetic


def estimate_em(
    matrix: Vector, train: Vector, *, tol: float = 1e-8, max_iter: int = 1000
) -> tuple[Vector, int, bool]:
    """Saerens et al.'s EM: the test priors, iterations run and whether they converged."""
    priors = train.copy()
    for iteration in range(1, max_iter + 1):
        new = shift(matrix, train, priors).mean(axis=0)
        moved = float(np.abs(new - priors).max())
        priors = new
        if moved < tol:
            return priors, iteration, True
    return priors, max_iter, False


def estimate_bbse(
    val_true: npt.NDArray[np.intp],
    val_pred: npt.NDArray[np.intp],
    test_pred: npt.NDArray[np.intp],
    k: int,
) -> Vector:
    """Lipton et al.'s black-box shift estimate of the test priors (codes 0..k-1)."""
    joint = np.zeros((k, k))
    np.add.at(joint, (val_pred, val_true), 1.0)
    joint /= len(val_true)
    mu = np.bincount(test_pred, minlength=k) / len(test_pred)
    weights = np.linalg.lstsq(joint, mu, rcond=None)[0]
    weights = np.clip(weights, 0.0, None)
    val_priors = np.bincount(val_true, minlength=k) / len(val_true)
    priors = weights * val_priors
    if priors.sum() <= 0:
        raise RebalanceError(
            "bbse: the estimate is all zero (the validation predictions say too little about "
            "the test predictions); use --estimate em"
        )
    out: Vector = priors / priors.sum()
    return out


# ---------------------------------------------------------------- reading


def read_scores(
    source: str | os.PathLike[str] | Source | Any,
    *,
    proba_prefix: str | None = None,
    proba_cols: Sequence[str] | None = None,
    input_format: str | None = None,
    encoding: str = "utf-8",
    check_sums: bool = True,
) -> tuple[pa.Table, Scores, list[str], str]:
    """A predictions file's per-class score columns (labels not needed).

    Columns come from ``proba_prefix`` (``p_<label>``, default ``p_``) or ``proba_cols``.
    Returns the whole table, the scores (classes sorted), the score column per class
    and the name used in messages.
    """
    from rebalance.predictions import _check_probabilities, _numbers

    table, where = load_table(
        source, input_format=input_format, encoding=encoding, name="predictions"
    )
    if table.num_rows == 0:
        raise RebalanceError(f"{where}: no data rows")
    names = table.column_names
    mapping: dict[str, str] = {}
    if proba_cols:
        prefix = proba_prefix or ""
        for part in proba_cols:
            for col in (c.strip() for c in part.split(",")):
                if not col:
                    continue
                if col not in names:
                    from rebalance.manifest import column_error

                    raise column_error(where, col, names)
                mapping[col[len(prefix) :] if prefix and col.startswith(prefix) else col] = col
    else:
        prefix = "p_" if proba_prefix is None else proba_prefix
        mapping = {c[len(prefix) :]: c for c in names if c.startswith(prefix) and c[len(prefix) :]}
        if not mapping:
            raise RebalanceError(
                f"{where}: no column starts with --proba-prefix {prefix!r} (columns: {', '.join(names[:20])})"
            )
    if len(mapping) < 2:
        raise RebalanceError(
            f"{where}: one score column ({', '.join(mapping.values())}); a prior shift needs one per class"
        )
    classes = sorted(mapping)
    cols = [mapping[c] for c in classes]
    matrix = np.column_stack([_numbers(table, col, where) for col in cols])
    _check_probabilities(matrix, cols, where)
    if check_sums:
        sums = matrix.sum(axis=1)
        off = np.abs(sums - 1) > SUM_TOLERANCE
        if off.any():
            row = int(np.argmax(off))
            raise RebalanceError(
                f"{where}: the scores of row {row + 1} sum to {sums[row]:.6g}, not 1 "
                f"({int(off.sum())} row(s) like it); a prior shift needs probabilities over every class "
                f"({', '.join(cols[:10])})"
            )
    return table, Scores(classes, matrix), cols, where


def read_prior_file(
    path: str | os.PathLike[str] | Mapping[str, float], flag: str
) -> dict[str, float]:
    """A ``{label: prior}`` JSON file (or mapping): numbers, at least one positive."""
    if isinstance(path, Mapping):
        raw: Any = dict(path)
    else:
        try:
            with open(path, encoding="utf-8") as fh:
                raw = json.load(fh)
        except OSError as exc:
            raise RebalanceError(
                f"{flag} {os.fspath(path)}: cannot read ({exc.strerror})"
            ) from None
        except ValueError as exc:
            raise RebalanceError(f"{flag} {os.fspath(path)}: not JSON ({exc})") from None
    if not isinstance(raw, dict) or not raw:
        raise RebalanceError(f"{flag}: expected a JSON object of label: prior")
    out: dict[str, float] = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            raise RebalanceError(f"{flag}: the prior of {key!r} is not a number ({value!r})")
        if value < 0:
            raise RebalanceError(f"{flag}: the prior of {key!r} is negative ({value})")
        out[str(key)] = float(value)
    if sum(out.values()) <= 0:
        raise RebalanceError(f"{flag}: every prior is 0")
    return out


def _vector(
    priors: Mapping[str, float], classes: Sequence[str], flag: str, *, positive: bool
) -> Vector:
    absent = [c for c in classes if c not in priors]
    if absent:
        raise RebalanceError(
            f"{flag} has no prior for class(es) {', '.join(map(repr, absent[:10]))} "
            f"(the score columns' classes: {', '.join(classes[:10])})"
        )
    values = np.asarray([priors[c] for c in classes], dtype=np.float64)
    if positive and (values <= 0).any():
        zero = [c for c, v in zip(classes, values, strict=True) if v <= 0]
        raise RebalanceError(
            f"{flag}: class(es) {', '.join(map(repr, zero[:10]))} have a prior of 0; "
            "Bayes' rule divides by the training prior, so every class needs training rows"
        )
    total = values.sum()
    if total <= 0:
        raise RebalanceError(f"{flag}: every prior is 0")
    out: Vector = values / total
    return out


def priors_from_counts(counts: Mapping[str, int], classes: Sequence[str], *, flag: str) -> Vector:
    """Training priors from label counts, in ``classes`` order; every class needs rows."""
    missing = [c for c in classes if counts.get(c, 0) == 0]
    if missing:
        raise RebalanceError(
            f"{flag}: class(es) {', '.join(map(repr, missing[:10]))} have no training rows; "
            "Bayes' rule divides by the training prior (check the label column, or give --train-priors)"
        )
    return _vector({c: float(counts[c]) for c in classes}, classes, flag, positive=True)


def train_priors_of(
    classes: Sequence[str],
    *,
    train_manifest: str | os.PathLike[str] | TrainingSource | None = None,
    train_priors: str | os.PathLike[str] | Mapping[str, float] | None = None,
) -> Vector:
    """The training priors, in ``classes`` order, from a manifest's counts (a path, or a
    :class:`~rebalance.counts.TrainingSource` naming its label column and split) or a
    JSON file."""
    if (train_manifest is None) == (train_priors is None):
        raise RebalanceError("give the training priors: --train-manifest or --train-priors (one)")
    training = TrainingSource.of(train_manifest)
    if training is not None:
        from rebalance.stats import training_counts

        counts = training_counts(training).counts
        return priors_from_counts(counts, classes, flag=f"--train-manifest {training.name}")
    assert train_priors is not None
    return _vector(
        read_prior_file(train_priors, "--train-priors"), classes, "--train-priors", positive=True
    )


# ---------------------------------------------------------------- the command


def adjust(
    predictions: Any,
    *,
    train_manifest: str | os.PathLike[str] | TrainingSource | None = None,
    train_priors: str | os.PathLike[str] | Mapping[str, float] | None = None,
    target_priors: str | os.PathLike[str] | Mapping[str, float] | None = None,
    estimate: str | None = None,
    val_predictions: Any = None,
    proba_prefix: str | None = None,
    proba_cols: Sequence[str] | None = None,
    true_col: str | None = None,
    tol: float = 1e-8,
    max_iter: int = 1000,
    input_format: str | None = None,
    encoding: str = "utf-8",
) -> AdjustResult:
    """Adjust predicted scores for a prior shift: what ``rebalance adjust`` does.

    ``predictions`` (a file or table with one score column per class) keeps every
    column; ``adjusted_<score column>`` (renormalised scores) and ``adjusted_pred``
    (their argmax class) are added. The training priors come from ``train_manifest``
    (its train split; a :class:`~rebalance.counts.TrainingSource` names its label column
    and split) or ``train_priors`` (JSON or mapping); the target priors from
    ``target_priors`` (JSON, mapping or ``"uniform"``) or ``estimate`` (``"em"`` from
    the scores themselves; ``"bbse"`` also needs labelled ``val_predictions``).
    """
    table, scores, cols, where = read_scores(
        predictions,
        proba_prefix=proba_prefix,
        proba_cols=proba_cols,
        input_format=input_format,
        encoding=encoding,
    )
    classes = scores.classes
    train = train_priors_of(classes, train_manifest=train_manifest, train_priors=train_priors)
    target = target_estimate(
        scores,
        train,
        target_priors=target_priors,
        estimate=estimate,
        val_predictions=val_predictions,
        proba_prefix=proba_prefix,
        proba_cols=proba_cols,
        true_col=true_col,
        tol=tol,
        max_iter=max_iter,
    )
    target_vector = np.asarray([target.priors[c] for c in classes])
    adjusted = shift(scores.matrix, train, target_vector)
    before = scores.matrix.argmax(axis=1)
    after = adjusted.argmax(axis=1)
    out = table
    for j, col in enumerate(cols):
        name = ADJUSTED_PREFIX + col
        if name in out.column_names:
            raise RebalanceError(f"{where}: column {name!r} already exists (rename it first)")
        out = out.append_column(name, arrays.to_arrow(np.ascontiguousarray(adjusted[:, j])))
    if ADJUSTED_PRED in out.column_names:
        raise RebalanceError(f"{where}: column {ADJUSTED_PRED!r} already exists (rename it first)")
    labels = pa.array(classes, pa.string())
    out = out.append_column(ADJUSTED_PRED, labels.take(arrays.to_arrow(after.astype(np.int64))))
    return AdjustResult(
        table=out,
        classes=list(classes),
        train_priors={c: float(v) for c, v in zip(classes, train, strict=True)},
        target=target,
        changed=int((before != after).sum()),
        source=where,
    )


def target_estimate(
    scores: Scores,
    train: Vector,
    *,
    target_priors: str | os.PathLike[str] | Mapping[str, float] | None = None,
    estimate: str | None = None,
    val_predictions: Any = None,
    proba_prefix: str | None = None,
    proba_cols: Sequence[str] | None = None,
    true_col: str | None = None,
    tol: float = 1e-8,
    max_iter: int = 1000,
) -> PriorEstimate:
    """The target priors: from a file or mapping, ``uniform``, or estimated (``em``, ``bbse``)."""
    classes = scores.classes
    if (target_priors is None) == (estimate is None):
        raise RebalanceError("give the target priors: --target-priors or --estimate (one)")
    if estimate is None:
        assert target_priors is not None
        if isinstance(target_priors, str) and target_priors == "uniform":
            return PriorEstimate({c: 1.0 / len(classes) for c in classes}, "uniform")
        vector = _vector(
            read_prior_file(target_priors, "--target-priors"),
            classes,
            "--target-priors",
            positive=False,
        )
        return PriorEstimate(dict(zip(classes, map(float, vector), strict=True)), "file")
    if estimate == "em":
        if val_predictions is not None:
            raise RebalanceError(
                "--val-preds is for --estimate bbse (em needs only the test scores)"
            )
        priors, iterations, converged = estimate_em(
            scores.matrix, train, tol=tol, max_iter=max_iter
        )
        return PriorEstimate(
            dict(zip(classes, map(float, priors), strict=True)), "em", iterations, converged
        )
    if estimate == "bbse":
        if val_predictions is None:
            raise RebalanceError(
                "--estimate bbse needs labelled validation predictions (--val-preds FILE)"
            )
        truth, val_scores, where = _validation(
            val_predictions,
            classes,
            proba_prefix=proba_prefix,
            proba_cols=proba_cols,
            true_col=true_col,
        )
        return bbse_from(classes, truth, val_scores, scores.matrix, where=f"--val-preds {where}")
    raise RebalanceError(f"--estimate {estimate!r} is not a method (methods: em, bbse)")


def bbse_from(
    classes: Sequence[str],
    truth: Sequence[str | None],
    val_scores: Vector,
    test_scores: Vector,
    *,
    where: str,
) -> PriorEstimate:
    """BBSE's test priors from labelled validation scores and test scores (their argmax
    classes; columns in ``classes`` order)."""
    missing = [i for i, v in enumerate(truth) if v is None]
    if missing:
        raise RebalanceError(
            f"{where}: row {missing[0] + 1} has no true label ({len(missing)} row(s) like it); "
            "BBSE needs every validation row labelled"
        )
    code_of = {c: i for i, c in enumerate(classes)}
    unknown = sorted({v for v in truth if v not in code_of}, key=str)
    if unknown:
        raise RebalanceError(
            f"{where}: true label(s) {', '.join(map(repr, unknown[:10]))} have no score column"
        )
    true_codes = np.asarray([code_of[str(v)] for v in truth], dtype=np.intp)
    found = estimate_bbse(
        true_codes,
        val_scores.argmax(axis=1).astype(np.intp),
        test_scores.argmax(axis=1).astype(np.intp),
        len(classes),
    )
    return PriorEstimate(dict(zip(classes, map(float, found), strict=True)), "bbse")


def _validation(
    source: Any,
    classes: Sequence[str],
    *,
    proba_prefix: str | None,
    proba_cols: Sequence[str] | None,
    true_col: str | None,
) -> tuple[list[str | None], Vector, str]:
    """True labels and scores of labelled validation predictions, and their name."""
    from rebalance.manifest import detect_column, labels_as_text
    from rebalance.predictions import TRUE_CANDIDATES

    table, scores, _, where = read_scores(source, proba_prefix=proba_prefix, proba_cols=proba_cols)
    if scores.classes != list(classes):
        raise RebalanceError(
            f"--val-preds {where}: its score columns' classes ({', '.join(scores.classes[:10])}) "
            f"are not the test file's ({', '.join(classes[:10])})"
        )
    col = detect_column(
        table.column_names, true_col, TRUE_CANDIDATES, where=where, flag="--true-col", required=True
    )
    assert col is not None
    return labels_as_text(table.column(col)).to_pylist(), scores.matrix, where


def adjust_file(
    source: str | os.PathLike[str] | Source,
    output: str | os.PathLike[str] | Source,
    *,
    priors_out: str | os.PathLike[str] | None = None,
    output_format: str | None = None,
    **options: Any,
) -> AdjustResult:
    """:func:`adjust` a predictions file into ``output`` (atomically, never over an input),
    with the priors used written as JSON to ``priors_out`` (both or neither are written)."""
    from rebalance.emit import dump_json
    from rebalance.manifest import resolve_destination, write_manifest
    from rebalance.output import staged, write_text

    src = (
        source
        if isinstance(source, Source)
        else resolve_source(
            source,
            input_format=options.pop("input_format", None),
            encoding=options.get("encoding", "utf-8"),
        )
    )
    dest = (
        output
        if isinstance(output, Source)
        else resolve_destination(
            output,
            output_format=output_format or (src.format if os.fspath(output) == "-" else None),
        )
    )
    result = adjust(src, **options)
    input_path = None if src.is_stdio else src.path
    with staged():
        write_manifest(result.table, dest, input_path=input_path)
        if priors_out is not None:
            write_text(os.fspath(priors_out), dump_json(result.to_dict()), input_path=input_path)
    return result
