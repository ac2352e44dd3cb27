"""``rebalance advise``: which remedy helps on *your* data, measured without leakage.

Every remedy is a step of an imbalanced-learn :class:`~imblearn.pipeline.Pipeline`
(scaler → sampler → model), so cross-validation fits it on the training folds only and
scores the untouched test folds. All remedies see the same repeated stratified folds,
which makes their differences against ``none`` paired.

Intervals are the corrected resampled t intervals of Nadeau & Bengio (2003): folds of
repeated k-fold share training rows, so the plain standard error is too small; the
variance of the J fold scores is inflated to (1/J + n_test/n_train) · s², with
n_test/n_train = 1/(k − 1).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rebalance.advise_commands import CommandContext, command_for
from rebalance.advise_cv import (  # noqa: F401 -- the names advise is known by
    INNER_TEST,
    METRICS,
    MODELS,
    REMEDIES,
    SAMPLERS,
    Interval,
    corrected_interval,
    cross_validated,
    model_for,
    pipeline_for,
    sampler_for,
    scorers,
    splitter,
)
from rebalance.errors import RebalanceError


@dataclass
class RemedyScore:
    """One remedy's fold scores, summaries and what it would take to apply it."""

    name: str
    folds: dict[str, npt.NDArray[np.float64]]  # metric -> one score per fold
    metrics: dict[str, Interval]
    difference: dict[str, Interval] | None  # against "none", paired by fold
    fit_seconds: float
    output_rows: int
    output_at_most: bool
    command: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "what": REMEDIES[self.name],
            "metrics": {m: v.to_dict() for m, v in self.metrics.items()},
            "difference": None
            if self.difference is None
            else {m: v.to_dict() for m, v in self.difference.items()},
            "fold_scores": {m: [float(x) for x in v] for m, v in self.folds.items()},
            "fit_seconds": self.fit_seconds,
            "output_rows": self.output_rows,
            "output_rows_at_most": self.output_at_most,
            "command": self.command,
        }


@dataclass
class Advice:
    """``rebalance advise``'s result: remedies ranked by ``metric`` (best first)."""

    source: str
    rows: int
    rows_used: int
    counts: dict[str, int]
    minority: str
    features: list[str]
    model: str
    folds: int
    repeats: int
    seed: int
    metric: str
    remedies: list[RemedyScore]
    best: str
    beats_none: bool
    verdict: str
    estimated_seconds: float | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (README: "advise --json schema")."""
        return {
            "source": self.source,
            "rows": self.rows,
            "rows_used": self.rows_used,
            "classes": self.counts,
            "minority": self.minority,
            "features": self.features,
            "model": self.model,
            "folds": self.folds,
            "repeats": self.repeats,
            "seed": self.seed,
            "metric": self.metric,
            "best": self.best,
            "beats_none": self.beats_none,
            "verdict": self.verdict,
            "remedies": [r.to_dict() for r in self.remedies],
            "estimated_seconds": self.estimated_seconds,
            "seconds": self.seconds,
            "warnings": self.warnings,
        }


def advise(
    X: Any,
    labels: Sequence[str],
    *,
    remedies: Sequence[str] | None = None,
    model: str = "logreg",
    folds: int = 5,
    repeats: int = 2,
    seed: int = 0,
    metric: str = "balanced_accuracy",
    n_jobs: int | None = None,
    source: str = "manifest",
    features: Sequence[str] = (),
    manifest_path: str | None = None,
    rows: int | None = None,
    step: Callable[[str], None] | None = None,
    context: CommandContext | None = None,
) -> Advice:
    """Score each remedy by repeated stratified k-fold, fitted inside the training folds.

    ``X`` holds the feature rows and ``labels`` their classes (as text). ``none`` is
    always scored: the other remedies are compared with it fold by fold.
    """
    started = time.perf_counter()
    names = _check_remedies(remedies)
    check_options(metric, model)
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise RebalanceError(f"{source}: one class only ({classes[0]!r}); nothing to advise")
    code_of = {c: i for i, c in enumerate(classes)}
    y = np.asarray([code_of[v] for v in labels], dtype=np.int64)
    counts = np.bincount(y, minlength=len(classes))
    if counts.min() < folds:
        small = [classes[i] for i in np.flatnonzero(counts < folds)]
        raise RebalanceError(
            f"{source}: class(es) {', '.join(map(repr, small[:10]))} have fewer rows than --folds {folds} "
            "(stratified folds need one per fold): lower --folds or drop those classes"
        )
    notes: list[str] = []
    if "threshold" in names and len(classes) != 2:
        if remedies:
            raise RebalanceError(
                f"--remedies threshold tunes one decision threshold: it needs two classes ({len(classes)} here)"
            )
        names.remove("threshold")
        notes.append(f"threshold moving left out: it needs two classes ({len(classes)} here)")
    minority = int(np.argmin(counts))
    scores: dict[str, tuple[dict[str, npt.NDArray[np.float64]], float]] = {}
    for name in names:
        if step:
            step(name)
        scores[name] = cross_validated(
            name, X, y, model=model, folds=folds, repeats=repeats, seed=seed, metric=metric,
            n_jobs=n_jobs,
        )  # fmt: skip
    base = scores["none"][0]
    results = []
    n = len(y)
    for name in names:
        fold_scores, fit = scores[name]
        metrics = {m: corrected_interval(fold_scores[m], folds).clipped() for m in METRICS}
        difference = (
            None
            if name == "none"
            else {m: corrected_interval(fold_scores[m] - base[m], folds) for m in METRICS}
        )
        size, at_most = output_size(name, counts)
        results.append(
            RemedyScore(
                name=name,
                folds=fold_scores,
                metrics=metrics,
                difference=difference,
                fit_seconds=fit,
                output_rows=size,
                output_at_most=at_most,
                command=command_for(name, manifest_path or source, features, seed, context),
            )
        )
    results.sort(key=lambda r: -r.metrics[metric].mean)
    better = [r for r in results if r.difference is not None and r.difference[metric].low > 0]
    best = better[0] if better else next(r for r in results if r.name == "none")
    verdict = _verdict(results, best, bool(better), metric)
    return Advice(
        source=source,
        rows=rows if rows is not None else n,
        rows_used=n,
        counts={c: int(counts[i]) for i, c in enumerate(classes)},
        minority=classes[minority],
        features=list(features),
        model=model,
        folds=folds,
        repeats=repeats,
        seed=seed,
        metric=metric,
        remedies=results,
        best=best.name,
        beats_none=bool(better),
        verdict=verdict,
        seconds=time.perf_counter() - started,
        warnings=notes,
    )


def _verdict(results: list[RemedyScore], best: RemedyScore, beaten: bool, metric: str) -> str:
    """One sentence: which remedy beats none beyond noise (or that none does), and why the
    first by mean is not recommended when it is not the best."""
    if beaten:
        d = best.difference
        assert d is not None
        verdict = (
            f"{best.name} beats none on {metric}: +{d[metric].mean:.4f} "
            f"(95% interval {d[metric].low:+.4f} to {d[metric].high:+.4f})"
        )
    else:
        top = results[0]
        verdict = (
            f"nothing beats none beyond noise on {metric}: every remedy's difference interval "
            f"includes 0 or lies below it (the highest mean is {top.name}, "
            f"{top.metrics[metric].mean:.4f}); keep the data as it is"
        )
    top = results[0]
    if top.name != best.name and top.difference is not None:
        lead = top.difference[metric]
        verdict += (
            f". {top.name} ranks first by its mean but is not recommended: its difference "
            f"from none ({lead.low:+.4f} to {lead.high:+.4f}) includes 0, so its lead is "
            "within noise"
        )
    return verdict


def check_options(metric: str, model: str) -> None:
    """``--metric`` and ``--model`` are ones advise knows (checked before any reading)."""
    if metric not in METRICS:
        raise RebalanceError(f"--metric {metric!r} is not a metric (metrics: {', '.join(METRICS)})")
    if model not in MODELS:
        raise RebalanceError(f"--model {model!r} is not a model (models: {', '.join(MODELS)})")


def _check_remedies(remedies: Sequence[str] | None) -> list[str]:
    if not remedies:
        return list(REMEDIES)
    names: list[str] = []
    for item in remedies:
        for name in (p.strip() for p in item.split(",")):
            if not name:
                continue
            if name not in REMEDIES:
                import difflib

                close = difflib.get_close_matches(name, list(REMEDIES), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise RebalanceError(
                    f"--remedies {name!r} is not a remedy{hint}; remedies: {', '.join(REMEDIES)}"
                )
            if name not in names:
                names.append(name)
    return ["none", *[n for n in names if n != "none"]]


def output_size(remedy: str, counts: npt.NDArray[np.int64]) -> tuple[int, bool]:
    """Rows the remedy's output would have on the whole data (and whether that is a bound)."""
    k, n = len(counts), int(counts.sum())
    if remedy in ("random-over", "smote"):
        return k * int(counts.max()), False
    if remedy == "random-under":
        return k * int(counts.min()), False
    if remedy == "smote-tomek":
        return k * int(counts.max()), True
    if remedy == "enn":
        return n, True
    return n, False


def estimate_seconds(
    X: Any,
    y: npt.NDArray[np.int64],
    remedies: Sequence[str],
    *,
    model: str,
    folds: int,
    repeats: int,
    seed: int,
    metric: str,
    n_jobs: int | None,
) -> float:
    """A rough run time from a timing probe: each remedy fitted on two small stratified
    samples, its growth with the rows (between linear and quadratic; n^1.75 for the
    neighbour cleaners) extrapolated."""
    from sklearn.model_selection import train_test_split

    n = len(y)
    train_rows = n * (folds - 1) / folds
    small = int(min(max(400, n // 50), 2000, n // 2))
    if small < 200 or n < 1000:
        return 0.0
    k = int(y.max()) + 1
    minority = int(np.argmin(np.bincount(y, minlength=k)))
    scoring = scorers(k, minority)
    total = 0.0
    for remedy in _check_remedies(remedies):
        times = []
        for size in (small, 2 * small):
            try:
                Xs, _, ys, _ = train_test_split(
                    X, y, train_size=size, stratify=y, random_state=seed
                )
            except ValueError:
                return 0.0
            pipe = pipeline_for(remedy, model, seed=seed, scoring=scoring[metric], binary=k == 2)
            start = time.perf_counter()
            try:
                pipe.fit(Xs, ys)
            except ValueError:
                return 0.0
            times.append(time.perf_counter() - start)
        growth = min(max(math.log2(max(times[1], 1e-4) / max(times[0], 1e-4)), 1.0), 2.0)
        if remedy in ("smote-tomek", "enn"):
            # a neighbour search over the fold; small probes hide its growth, which is
            # below n² where rows are settled without their own search (measured: n^1.4
            # for SMOTE-Tomek and n^1.7 for ENN from 4,000 to 80,000 rows)
            growth = 1.75
        total += times[1] * (train_rows / (2 * small)) ** growth
    workers = 1 if not n_jobs else (n_jobs if n_jobs > 0 else max(1, _cpus()))
    return total * folds * repeats / min(workers, folds * repeats)


def _cpus() -> int:
    from rebalance.cpus import usable_cpus

    return usable_cpus()


def stratified_subsample(
    X: Any, labels: Sequence[str], max_rows: int, seed: int
) -> tuple[Any, list[str]]:
    """At most ``max_rows`` rows, every class in proportion (each keeps at least one row)."""
    from sklearn.model_selection import train_test_split

    if len(labels) <= max_rows:
        return X, list(labels)
    Xs, _, ys, _ = train_test_split(
        X, np.asarray(labels, dtype=object), train_size=max_rows, stratify=labels, random_state=seed
    )
    return Xs, [str(v) for v in ys]


@dataclass(frozen=True)
class ImageFeatures:
    """Features from the images of the path column: the extractor (``builtin`` or ``cnn``),
    the path column (default: detected), the folder relative paths start from (default:
    the manifest's) and the reader processes."""

    kind: str = "builtin"
    path_col: str | None = None
    root: str | None = None
    workers: int | None = None


def advise_file(
    source: Any,
    *,
    features: Sequence[str] | None = None,
    image_features: str | ImageFeatures | None = None,
    label_col: str | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    from_split: str | None = None,
    max_rows: int | None = 200_000,
    drop_missing: bool = False,
    input_format: str | None = None,
    encoding: str = "utf-8",
    estimate: bool = False,
    messages: Callable[[str], None] | None = None,
    **options: Any,
) -> Advice:
    """:func:`advise` on a manifest file or table: what ``rebalance advise`` does.

    The features are ``features`` (numeric columns, names or globs; text ones one-hot
    encoded; or one list column of embeddings), all numeric columns by default, or the
    descriptors of the images of the path column (``image_features``: an extractor name,
    or :class:`ImageFeatures` naming the path column, root and readers too). With a split
    column, only the ``from_split`` rows (default ``train``) are used. Over ``max_rows``
    rows, a stratified sample is used (with a warning). Rows without a label are an error,
    or left out with ``drop_missing``. ``estimate`` fills
    :attr:`Advice.estimated_seconds` from a timing probe before the run (``messages``
    gets it at once).
    """
    check_options(options.get("metric", "balanced_accuracy"), options.get("model", "logreg"))
    _check_remedies(options.get("remedies"))
    table, where, src = _advice_table(source, input_format, encoding)
    path = None if src is None else src.path
    rows = table.num_rows
    label, split = _roles(table, label_col, split_col, detect_split, where)
    warnings: list[str] = []
    table, labels, chosen = _labelled_rows(
        table, label, split, from_split, drop_missing, where, warnings
    )
    images = ImageFeatures(image_features) if isinstance(image_features, str) else image_features
    if images is not None:
        from rebalance.images.features import path_column_features
        from rebalance.images.files import base_folder, path_column

        name = path_column(table.column_names, images.path_col, where=where)
        X: Any = path_column_features(
            table, images.kind, path_col=name, root=base_folder(src, images.root),
            workers=images.workers, where=where,
        )  # fmt: skip
        used = [f"{images.kind} descriptors of {name}"]
    else:
        X, used = _feature_rows(table, features, [c for c in (label, split) if c], where)
        used = list(features) if features else used
    if max_rows is not None and len(labels) > max_rows:
        warnings.append(
            f"{len(labels):,} rows: advising on a stratified sample of {max_rows:,} (raise --max-rows)"
        )
        X, labels = stratified_subsample(X, labels, max_rows, options.get("seed", 0))
    for w in warnings:
        if messages:
            messages(f"rebalance: warning: {w}")
    estimated = _timing_probe(X, labels, options, messages) if estimate else None
    roles = [
        *(("--label-col", label) if label_col is not None else ()),
        *(("--split-col", split) if split_col is not None and split is not None else ()),
        *(("--no-split",) if split is None and not detect_split else ()),
    ]
    image_flags = (
        (
            "--image-features", images.kind,
            *(("--path-col", images.path_col) if images.path_col else ()),
            *(("--root", images.root) if images.root else ()),
        )
        if images is not None
        else ()
    )  # fmt: skip
    context = CommandContext(roles=tuple(roles), split=chosen, image_flags=image_flags)
    result = advise(
        X, labels, source=where, features=used, manifest_path=path, rows=rows, context=context,
        **options,
    )  # fmt: skip
    result.estimated_seconds = estimated
    for w in result.warnings:
        if messages:
            messages(f"rebalance: warning: {w}")
    result.warnings = warnings + result.warnings
    return result


def _advice_table(source: Any, input_format: str | None, encoding: str) -> tuple[Any, str, Any]:
    """The table, its name for messages and its source (``None`` for a table given)."""
    from rebalance.manifest import Source, as_table, is_table, read_manifest, resolve_source

    if is_table(source):
        table, where, src = as_table(source, name="table"), "table", None
    else:
        src = (
            source
            if isinstance(source, Source)
            else resolve_source(source, input_format=input_format, encoding=encoding)
        )
        table, where = read_manifest(src), src.name
    if table.num_rows == 0:
        raise RebalanceError(f"{where}: no data rows")
    return table, where, src


def _roles(
    table: Any, label_col: str | None, split_col: str | None, detect_split: bool, where: str
) -> tuple[str, str | None]:
    from rebalance.manifest import check_label_type, label_and_split

    label, split = label_and_split(
        table.column_names, label_col, split_col, detect_split=detect_split, where=where
    )
    check_label_type(table.schema.field(label).type, label, where=where)
    return label, split


def _labelled_rows(
    table: Any,
    label: str,
    split: str | None,
    from_split: str | None,
    drop_missing: bool,
    where: str,
    warnings: list[str],
) -> tuple[Any, list[str], str | None]:
    """The rows advised on (one split's, labelled), their labels and the split chosen."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from rebalance.manifest import labels_as_text, missing_mask
    from rebalance.stats import pick_split

    chosen = None
    if split is not None:
        values = labels_as_text(table.column(split))
        chosen = pick_split(
            sorted({v for v in values.to_pylist() if v is not None}), from_split, where=where
        )
        table = table.filter(pc.equal(values, chosen))
        warnings.append(
            f"rows of split {chosen!r} of column {split!r} only ({table.num_rows:,}; choose with --from-split)"
        )
    text = labels_as_text(table.column(label), name=label, where=where)
    blank = missing_mask(text)
    if pc.any(blank).as_py():
        count = pc.sum(pc.cast(blank, pa.int64())).as_py()
        if not drop_missing:
            raise RebalanceError(
                f"{where}: {count} row(s) have no label in column {label!r} "
                "(use --drop-missing to leave them out)"
            )
        table = table.filter(pc.invert(blank))
        text = labels_as_text(table.column(label))
        warnings.append(f"{count} row(s) without a label left out")
    return table, [str(v) for v in text.to_pylist()], chosen


def _timing_probe(
    X: Any, labels: list[str], options: dict[str, Any], messages: Callable[[str], None] | None
) -> float | None:
    """How long the run will take, from a short probe (said at once); ``None`` when the
    classes are too small for the folds."""
    classes = sorted(set(labels))
    code_of = {c: i for i, c in enumerate(classes)}
    y = np.asarray([code_of[v] for v in labels], dtype=np.int64)
    if len(classes) < 2 or np.bincount(y).min() < options.get("folds", 5):
        return None
    probed = [
        r for r in _check_remedies(options.get("remedies")) if len(classes) == 2 or r != "threshold"
    ]
    estimated = estimate_seconds(
        X, y, probed,
        model=options.get("model", "logreg"), folds=options.get("folds", 5),
        repeats=options.get("repeats", 2), seed=options.get("seed", 0),
        metric=options.get("metric", "balanced_accuracy"), n_jobs=options.get("n_jobs"),
    )  # fmt: skip
    if messages and estimated:
        messages(
            f"rebalance: advise will take about {_duration(estimated)} (a timing probe's guess)"
        )
    return estimated


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    return f"{seconds / 60:.1f} min"


def _feature_rows(
    table: Any, patterns: Sequence[str] | None, exclude: Sequence[str], where: str
) -> tuple[Any, list[str]]:
    import pyarrow as pa

    from rebalance.samplers.tabular import _encode_for_distance, choose_features, feature_matrix

    if patterns and len(patterns) == 1 and patterns[0] in table.column_names:
        kind = table.column(patterns[0]).type
        if (
            pa.types.is_list(kind)
            or pa.types.is_large_list(kind)
            or pa.types.is_fixed_size_list(kind)
        ):
            from rebalance.images.features import column_features

            return column_features(table, [patterns[0]], where=where), [patterns[0]]
    names, categorical = choose_features(table, patterns, exclude, where=where)
    found = feature_matrix(table, names, categorical, where=where)
    return _encode_for_distance(found), names
