"""Class weights and per-row sample weights for imbalanced training.

Every scheme is a function of a ``{label: count}`` table, so counts of rows, of
pixels from masks or from another engine all feed the same code.

Schemes (``n_c`` rows of class c, ``n`` rows, ``k`` classes, ``f_c = n_c / n``):

=================  ==========================================  =================
scheme             weight                                      default normalize
=================  ==========================================  =================
``balanced``       n / (k · n_c)  (scikit-learn "balanced")    ``none``
``inverse``        1 / n_c                                     ``mean``
``inverse-sqrt``   1 / √n_c                                    ``mean``
``effective``      (1 − β) / (1 − β^n_c)  (Cui et al. 2019)    ``mean``
``median``         median_c(f_c) / f_c  (Eigen & Fergus 2015)  ``none``
``enet``           1 / ln(c + f_c)  (Paszke et al. 2016)       ``none``
=================  ==========================================  =================

Normalizations: ``none`` (the formula as is), ``mean`` (mean weight over classes 1,
so Σ w = k: Cui et al.'s convention), ``sum`` (Σ w = 1) and ``n-samples``
(Σ n_c · w_c = n: the average weight per row is 1, so the loss keeps its scale;
``balanced`` already satisfies it).
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from rebalance.counts import LabelCounts
from rebalance.errors import RebalanceError
from rebalance.manifest import Source, check_label_type, label_and_split
from rebalance.stats import pick_split

SCHEMES: tuple[str, ...] = ("balanced", "inverse", "inverse-sqrt", "effective", "median", "enet")
NORMALIZATIONS: tuple[str, ...] = ("none", "mean", "sum", "n-samples")
DEFAULT_NORMALIZE: dict[str, str] = {
    "balanced": "none",
    "inverse": "mean",
    "inverse-sqrt": "mean",
    "effective": "mean",
    "median": "none",
    "enet": "none",
    "manual": "none",
}
_INTEGER = re.compile(r"[+-]?\d+")


def class_order(labels: Sequence[str]) -> list[str]:
    """The class-index order: sorted labels, numerically when every label is an integer."""
    if labels and all(_INTEGER.fullmatch(label) for label in labels):
        return sorted(labels, key=lambda label: (int(label), label))
    return sorted(labels)


def raw_weights(
    counts: Mapping[str, int],
    scheme: str,
    *,
    beta: float = 0.999,
    c: float = 1.02,
    totals: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The scheme's formula on each class, before any normalization.

    ``totals`` (median frequency only) gives each class its own denominator: for
    segmentation, the pixels of the images where the class is present.
    """
    if scheme not in SCHEMES:
        raise RebalanceError(
            f"unknown weighting scheme {scheme!r} (use one of: {', '.join(SCHEMES)})"
        )
    empty = sorted(label for label, n in counts.items() if n <= 0)
    if empty:
        raise RebalanceError(
            f"class(es) {', '.join(map(repr, empty))} have no rows: a weight would be infinite "
            "(drop them from --classes or set --missing-weight)"
        )
    if not counts:
        raise RebalanceError("no classes to weight")
    n = sum(counts.values())
    k = len(counts)
    if scheme == "balanced":
        return {label: n / (k * m) for label, m in counts.items()}
    if scheme == "inverse":
        return {label: 1.0 / m for label, m in counts.items()}
    if scheme == "inverse-sqrt":
        return {label: 1.0 / math.sqrt(m) for label, m in counts.items()}
    if scheme == "effective":
        check_beta(beta)
        return {label: (1.0 - beta) / (1.0 - beta**m) for label, m in counts.items()}
    freq = {label: m / (totals[label] if totals else n) for label, m in counts.items()}
    if scheme == "median":
        median = statistics.median(freq.values())
        return {label: median / f for label, f in freq.items()}
    if c <= 1.0:
        raise RebalanceError(f"--c must be greater than 1 for enet weights, got {c:g}")
    return {label: 1.0 / math.log(c + f) for label, f in freq.items()}


def check_beta(beta: float) -> None:
    if not 0.0 <= beta < 1.0:
        raise RebalanceError(f"--beta must be in [0, 1), got {beta:g}")


def normalize_weights(
    weights: Mapping[str, float], counts: Mapping[str, int], how: str
) -> dict[str, float]:
    """Scale weights: ``none``, ``mean`` (mean 1), ``sum`` (sum 1), ``n-samples`` (Σ n_c w_c = n)."""
    if how not in NORMALIZATIONS:
        raise RebalanceError(f"--normalize {how!r} is not one of: {', '.join(NORMALIZATIONS)}")
    if how == "none":
        return dict(weights)
    if how == "mean":
        scale = len(weights) / sum(weights.values())
    elif how == "sum":
        scale = 1.0 / sum(weights.values())
    else:
        scale = sum(counts[label] for label in weights) / sum(
            counts[label] * w for label, w in weights.items()
        )
    return {label: w * scale for label, w in weights.items()}


def parse_clip(text: str) -> tuple[float, float]:
    """``MIN:MAX`` (either side may be empty) → bounds."""
    if ":" not in text:
        raise RebalanceError(f"--clip {text!r} must look like MIN:MAX, e.g. 0.1:10")
    low_text, high_text = text.split(":", 1)
    try:
        low = float(low_text) if low_text.strip() else 0.0
        high = float(high_text) if high_text.strip() else math.inf
    except ValueError:
        raise RebalanceError(f"--clip {text!r} must look like MIN:MAX, e.g. 0.1:10") from None
    if low > high:
        raise RebalanceError(f"--clip {text!r}: MIN {low:g} is greater than MAX {high:g}")
    if low < 0:
        raise RebalanceError(f"--clip {text!r}: weights cannot be negative")
    return low, high


def parse_overrides(items: Sequence[str]) -> dict[str, float]:
    """``LABEL=W`` items → ``{label: weight}`` (the last ``=`` splits, so labels may hold ``=``)."""
    out: dict[str, float] = {}
    for item in items:
        if "=" not in item:
            raise RebalanceError(f"--override {item!r} must look like LABEL=WEIGHT")
        label, value = item.rsplit("=", 1)
        try:
            weight = float(value)
        except ValueError:
            raise RebalanceError(f"--override {item!r}: {value!r} is not a number") from None
        if not math.isfinite(weight) or weight < 0:
            raise RebalanceError(f"--override {item!r}: a weight must be finite and not negative")
        out[label] = weight
    return out


def read_weight_file(path: str) -> dict[str, float]:
    """Hand-set weights: a JSON object ``{label: w}`` (or a ``weights`` key holding one), or CSV ``label,weight``."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise RebalanceError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RebalanceError(f"{path}: not valid JSON ({exc.msg})") from exc
        doc = doc.get("weights", doc) if isinstance(doc, dict) else doc
        if not isinstance(doc, dict):
            raise RebalanceError(f"{path}: expected a JSON object of label: weight")
        items = [f"{k}={v}" for k, v in doc.items()]
    else:
        import csv
        import io

        rows = [r for r in csv.reader(io.StringIO(text)) if r]
        col = 1
        if rows and rows[0][0] == "label":
            header = rows.pop(0)
            col = header.index("weight") if "weight" in header else 1
        items = [f"{r[0]}={r[col]}" for r in rows if len(r) > col]
    try:
        return parse_overrides(items)
    except RebalanceError as exc:
        raise RebalanceError(f"{path}: {exc}".replace("--override ", "")) from None


def read_classes_file(path: str) -> list[str]:
    """Class order: a JSON list, or one label per line."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise RebalanceError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if text.lstrip().startswith("["):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RebalanceError(f"{path}: not valid JSON ({exc.msg})") from exc
        labels = [str(x) for x in doc]
    else:
        labels = [line.rstrip("\r") for line in text.split("\n")]
        while labels and labels[-1] == "":
            labels.pop()
    if not labels:
        raise RebalanceError(f"{path}: no class labels in the file")
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise RebalanceError(f"{path}: class(es) listed twice: {', '.join(map(repr, repeated))}")
    return labels


@dataclass(frozen=True)
class ClassWeights:
    """Weights per class, in class-index order, with everything needed to reproduce them."""

    scheme: str
    normalize: str
    classes: list[str]
    counts: dict[str, int]
    weights: dict[str, float]
    params: dict[str, Any] = field(default_factory=dict)

    def vector(self) -> list[float]:
        """Weights in class-index order (for ``CrossEntropyLoss(weight=torch.tensor(...))``)."""
        return [self.weights[label] for label in self.classes]

    def index(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.classes)}

    def keras(self) -> dict[int, float]:
        """``{index: w}`` for Keras ``model.fit(class_weight=...)``, which wants int keys.

        Index ``i`` is ``classes[i]``: encode the labels in that order. (As JSON, the
        keys become strings: ``{int(k): v for k, v in json.load(f).items()}``.)
        """
        return {i: self.weights[label] for i, label in enumerate(self.classes)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "normalize": self.normalize,
            "params": dict(self.params),
            "classes": list(self.classes),
            "counts": {label: self.counts.get(label, 0) for label in self.classes},
            "weights": {label: self.weights[label] for label in self.classes},
            "index": self.index(),
        }


def class_weights(
    counts: Mapping[str, int],
    *,
    scheme: str = "balanced",
    beta: float = 0.999,
    c: float = 1.02,
    normalize: str | None = None,
    clip: tuple[float, float] | None = None,
    renormalize: bool = False,
    overrides: Mapping[str, float] | None = None,
    manual: Mapping[str, float] | None = None,
    classes: Sequence[str] | None = None,
    missing_weight: float | None = None,
    totals: Mapping[str, float] | None = None,
) -> ClassWeights:
    """Class weights from class counts.

    Parameters
    ----------
    counts:
        Rows (or pixels) per class.
    scheme:
        One of :data:`SCHEMES`; ignored when ``manual`` gives every weight.
    beta, c:
        Parameters of ``effective`` (β in [0, 1)) and ``enet`` (c > 1).
    normalize:
        One of :data:`NORMALIZATIONS`; default per scheme (:data:`DEFAULT_NORMALIZE`).
    clip:
        ``(min, max)`` applied after normalization; ``renormalize`` normalizes again after it.
    overrides:
        Final hand-set weights for some classes.
    manual:
        Hand-set weights for every class (``--from FILE``).
    classes:
        Class-index order; default :func:`class_order`. A class listed here but absent
        from ``counts`` is an error unless ``missing_weight`` is given.

    Raises
    ------
    RebalanceError
        Unknown scheme or normalization, β out of range, an empty class, labels that
        are not in the data.
    """
    if scheme not in SCHEMES:
        raise RebalanceError(
            f"unknown weighting scheme {scheme!r} (use one of: {', '.join(SCHEMES)})"
        )
    present = {label: n for label, n in counts.items() if n > 0}
    if classes is None:
        order = class_order(list(present))
    else:
        order = list(classes)
        unlisted = [label for label in class_order(list(present)) if label not in set(order)]
        if unlisted:
            raise RebalanceError(
                f"class(es) in the data but not in --classes: {_labels(unlisted)} (add them to the file)"
            )
    absent = [label for label in order if label not in present]
    if absent and missing_weight is None:
        raise RebalanceError(
            f"class(es) with no rows in the data: {_labels(absent)} "
            "(remove them from --classes, or give them a weight with --missing-weight)"
        )
    if missing_weight is not None and (not math.isfinite(missing_weight) or missing_weight < 0):
        raise RebalanceError("--missing-weight must be finite and not negative")
    if len(present) == 0:
        raise RebalanceError("no classes to weight")
    if manual is not None:
        unknown = [label for label in manual if label not in set(order)]
        if unknown:
            raise RebalanceError(f"weights given for label(s) not in the data: {_labels(unknown)}")
        without = [label for label in order if label in present and label not in manual]
        if without:
            raise RebalanceError(f"no hand-set weight for class(es): {_labels(without)}")
        scheme = "manual"
    how = normalize or DEFAULT_NORMALIZE[scheme]
    if manual is not None:
        weights = {label: float(manual[label]) for label in present}
    else:
        weights = raw_weights(present, scheme, beta=beta, c=c, totals=totals)
    weights = normalize_weights(weights, present, how)
    if clip is not None:
        low, high = clip
        weights = {label: min(max(w, low), high) for label, w in weights.items()}
        if renormalize:
            weights = normalize_weights(weights, present, how)
    if overrides:
        unknown = [label for label in overrides if label not in set(order)]
        if unknown:
            raise RebalanceError(f"--override names label(s) not in the data: {_labels(unknown)}")
        weights.update({label: float(w) for label, w in overrides.items()})
    for label in absent:
        weights[label] = float(missing_weight or 0.0)
    params: dict[str, Any] = {}
    if scheme == "effective":
        params["beta"] = beta
    if scheme == "enet":
        params["c"] = c
    if clip is not None:
        params["clip"] = [clip[0], clip[1] if math.isfinite(clip[1]) else None]
        params["renormalize"] = renormalize
    if overrides:
        params["overrides"] = dict(overrides)
    return ClassWeights(
        scheme=scheme,
        normalize=how,
        classes=order,
        counts={label: present.get(label, 0) for label in order},
        weights={label: weights[label] for label in order},
        params=params,
    )


def log_priors(weights: ClassWeights, *, tau: float = 1.0) -> list[float]:
    """τ · log π_c in class-index order, for logit adjustment (Menon et al. 2020)."""
    total = sum(weights.counts.values())
    out = []
    for label in weights.classes:
        n = weights.counts.get(label, 0)
        if n <= 0:
            raise RebalanceError(f"class {label!r} has no rows: its log prior is -infinity")
        out.append(tau * math.log(n / total))
    return out


def focal_alpha(
    weights: ClassWeights, *, gamma: float = 2.0, positive: str | None = None
) -> dict[str, Any]:
    """Focal-loss parameters (Lin et al. 2017) with α from a weighting scheme.

    FL(p_t) = −α_t (1 − p_t)^γ log p_t. With the ``effective`` scheme this is the
    class-balanced focal loss of Cui et al. 2019. α follows the focal papers' scale:

    * binary: α for the ``positive`` class (default: the rarer one, ties the later label)
      is w_pos / (w_pos + w_neg), and the other class gets 1 − α; ``alpha_positive`` is
      the scalar ``torchvision.ops.sigmoid_focal_loss(alpha=...)`` takes;
    * multi-class: α_c = K · w_c / Σ w, a vector in class-index order that sums to K.
    """
    if not math.isfinite(gamma) or gamma < 0:
        raise RebalanceError(f"--gamma must be a number ≥ 0, got {gamma:g}")
    classes = list(weights.classes)
    raw = [weights.weights[c] for c in classes]
    doc: dict[str, Any] = {"scheme": weights.scheme, "gamma": gamma, "classes": classes}
    if len(classes) == 2:
        if positive is None:
            positive = min(reversed(classes), key=lambda c: weights.counts.get(c, 0))
        if positive not in classes:
            raise RebalanceError(
                f"--positive {positive!r} is not a class ({', '.join(map(repr, classes))})"
            )
        i = classes.index(positive)
        a = raw[i] / (raw[0] + raw[1])
        alpha = [a if j == i else 1.0 - a for j in range(2)]
        doc.update(alpha=alpha, positive=positive, alpha_positive=a)
    else:
        if positive is not None:
            raise RebalanceError("--positive is for a binary task; this one has more classes")
        total = sum(raw)
        doc["alpha"] = [len(classes) * w / total for w in raw]
    return doc


def focal_loss(probabilities: Any, targets: Any, alpha: Sequence[float], gamma: float) -> float:
    """Mean focal loss of softmax ``probabilities`` (n × K) at class indices ``targets``."""
    import numpy as np

    p = np.asarray(probabilities, dtype=np.float64)
    t = np.asarray(targets, dtype=np.int64)
    p_t = p[np.arange(len(t)), t]
    a_t = np.asarray(alpha, dtype=np.float64)[t]
    return float(np.mean(-a_t * (1.0 - p_t) ** gamma * np.log(p_t)))


def sample_weights(
    table: pa.Table, label_col: str, weights: ClassWeights, *, weight_col: str = "weight"
) -> pa.Table:
    """The table with one more column: each row's class weight (null where the label is missing).

    With the ``balanced`` scheme this equals scikit-learn's
    ``compute_sample_weight("balanced", y)``: every class carries the same total weight,
    and the weights sum to the number of rows.
    """
    from rebalance.manifest import labels_as_text, missing_mask

    if weight_col in table.column_names:
        raise RebalanceError(f"column {weight_col!r} already exists (choose another --weight-col)")
    labels = labels_as_text(table.column(label_col))
    labels = pc.if_else(missing_mask(labels), pa.scalar(None, pa.string()), labels)
    keys = pa.array(weights.classes, pa.string())
    values = pa.array(weights.vector(), pa.float64())
    positions = pc.index_in(labels, value_set=keys)
    unknown = pc.and_(pc.is_null(positions), pc.is_valid(labels))
    if pc.any(unknown).as_py():
        bad = pc.unique(pc.filter(labels, unknown)).to_pylist()
        raise RebalanceError(
            f"rows with class(es) that have no weight: {_labels(bad)} "
            "(they are absent from the split the weights come from; use --missing-weight)"
        )
    return table.append_column(weight_col, pc.take(values, positions))


def _labels(labels: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(repr(x) for x in list(labels)[:limit])
    return shown + (f", … {len(labels) - limit} more" if len(labels) > limit else "")


def weights_from_counts(
    counts: LabelCounts,
    *,
    from_split: str | None = None,
    where: str = "manifest",
    **options: Any,
) -> tuple[ClassWeights, str | None]:
    """Class weights from counts; with splits, from ``from_split`` (default ``train``).

    Returns the weights and the split used (``None`` without a split column).
    """
    listed = options.get("classes")
    if len(counts.counts) < 2 and (listed is None or len(listed) < 2):
        only = next(iter(counts.counts), None)
        raise RebalanceError(
            f"{where}: only one class"
            + (f" ({only!r})" if only is not None else "")
            + ": there is nothing to weight (list every class with --classes to weight absent ones)"
        )
    if counts.by_split is None:
        if from_split is not None:
            raise RebalanceError(f"--from-split {from_split!r} needs a split column (--split-col)")
        return class_weights(counts.counts, **options), None
    chosen = pick_split(list(counts.by_split), from_split, where=where)
    table = counts.by_split[chosen]
    if options.get("classes") is None:
        absent = sorted(set(counts.counts) - set(table))
        if absent and options.get("missing_weight") is None:
            raise RebalanceError(
                f"{where}: class(es) with zero rows in split {chosen!r}: {_labels(absent)} "
                "(they appear in other splits; give them --missing-weight, or choose --from-split)"
            )
        options["classes"] = class_order(list(counts.counts))
    return class_weights(table, **options), chosen


def manifest_weights(
    source: str | os.PathLike[str] | Source | Any,
    *,
    label_col: str | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    from_split: str | None = None,
    missing: str = "keep",
    input_format: str | None = None,
    encoding: str = "utf-8",
    mask_col: str | None = None,
    mask_classes: str | None = None,
    root: str | None = None,
    workers: int | None = None,
    step: Any = None,
    engine: Any = None,
    **options: Any,
) -> ManifestWeights:
    """Class weights of a manifest file (its label column streamed) or an in-memory table.

    ``options`` are those of :func:`class_weights`. With a split column the counts
    come from ``from_split`` (default: the split named ``train``).

    Returns the weights with the label column, the split column and the split used.

    With ``mask_col`` (segmentation), the classes are the mask values (named by the
    ``mask_classes`` JSON) and the counts their pixels, over the masks of the split
    used; ``median`` then follows SegNet: a class's frequency is its pixels over the
    pixels of the masks in which it appears.

    ``engine`` reads the label column (see :mod:`rebalance.engine`; in-process by default).
    """
    from rebalance.stats import counted

    if mask_col is not None:
        return _pixel_weights(
            source,
            mask_col=mask_col,
            mask_classes=mask_classes,
            root=root,
            workers=workers,
            split_col=split_col,
            detect_split=detect_split,
            from_split=from_split,
            input_format=input_format,
            encoding=encoding,
            step=step,
            **options,
        )
    counts, label, split, where = counted(
        source,
        label_col=label_col,
        split_col=split_col,
        detect_split=detect_split,
        missing=missing,
        input_format=input_format,
        encoding=encoding,
        engine=engine,
    )
    result, chosen = weights_from_counts(counts, from_split=from_split, where=where, **options)
    return ManifestWeights(result, label, split, chosen)


def _pixel_weights(
    source: Any,
    *,
    mask_col: str,
    mask_classes: str | None,
    root: str | None,
    workers: int | None,
    split_col: str | None,
    detect_split: bool,
    from_split: str | None,
    input_format: str | None,
    encoding: str,
    step: Any,
    **options: Any,
) -> ManifestWeights:
    from rebalance.images.scan import scan_images
    from rebalance.manifest import SPLIT_CANDIDATES, detect_column, read_columns, resolve_source

    if not isinstance(source, Source):
        source = resolve_source(source, input_format=input_format, encoding=encoding)
    split = detect_column(
        read_columns(source),
        split_col,
        SPLIT_CANDIDATES if detect_split else (),
        where=source.name,
        flag="--split-col",
        required=False,
    )
    chosen = None
    if split is not None:
        from rebalance.stats import count_labels

        splits, _, _ = count_labels(source, label_col=split, detect_split=False)
        chosen = pick_split(list(splits.counts), from_split, where=source.name)
    elif from_split is not None:
        raise RebalanceError(f"--from-split {from_split!r} needs a split column (--split-col)")
    scan = scan_images(
        source,
        mask_col=mask_col,
        mask_classes=mask_classes,
        root=root,
        workers=workers,
        step=step,
        only_split=None if split is None or chosen is None else (split, chosen),
    )
    assert scan.pixels is not None
    pixels = scan.pixels
    if options.get("scheme", "balanced") == "median":
        options["totals"] = pixels.pixels_of_images_with_class
    if len(pixels.counts) < 2:
        only = next(iter(pixels.counts), None)
        raise RebalanceError(
            f"{source.name}: the masks hold one class only ({only!r}): there is nothing to weight"
        )
    return ManifestWeights(class_weights(pixels.counts, **options), mask_col, split, chosen)


@dataclass(frozen=True)
class ManifestWeights:
    """What :func:`manifest_weights` found: the weights and where they came from."""

    weights: ClassWeights
    label_col: str
    split_col: str | None
    split: str | None  # the split whose counts gave the weights (None: every row)


def with_sample_weights(
    table: pa.Table,
    *,
    label_col: str | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    from_split: str | None = None,
    weight_col: str = "weight",
    missing: str = "keep",
    where: str = "manifest",
    **options: Any,
) -> tuple[pa.Table, ClassWeights, str | None]:
    """A manifest table with a per-row weight column, from its own class counts.

    With ``scheme="balanced"`` (the default) every class carries the same total
    weight and the weights sum to the number of rows: scikit-learn's
    ``compute_sample_weight("balanced", y)``, or the ``weights`` of a balanced
    ``WeightedRandomSampler``. Rows without a label get a null weight (``missing="keep"``),
    are left out (``"drop"``) or raise (``"error"``). Returns the table, the class
    weights and the split used.
    """
    from rebalance.manifest import (
        labels_as_text,
        missing_mask,
    )
    from rebalance.stats import apply_missing_policy, count_batches

    label, split = label_and_split(
        table.column_names, label_col, split_col, detect_split=detect_split, where=where
    )
    check_label_type(table.schema.field(label).type, label, where=where)
    counts = count_batches(table.to_batches(), label, split)
    counts = apply_missing_policy(counts, missing, where=where, label_col=label)
    if missing == "drop" and counts.missing == 0:
        table = table.filter(pc.invert(missing_mask(labels_as_text(table.column(label)))))
    result, chosen = weights_from_counts(counts, from_split=from_split, where=where, **options)
    return sample_weights(table, label, result, weight_col=weight_col), result, chosen
