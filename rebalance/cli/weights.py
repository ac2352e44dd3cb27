"""``rebalance weights``."""

from enum import StrEnum
from types import SimpleNamespace
from typing import Annotated, Any

import typer

from rebalance.cli.app import PanelCommand, app
from rebalance.cli.options import (
    BinningOpt,
    DropMissingOpt,
    EncodingOpt,
    EngineOpt,
    InputFormatOpt,
    LabelColsOpt,
    LabelOpt,
    ManifestArg,
    MaskClassesOpt,
    MaskColOpt,
    MaxImagePixelsOpt,
    MultiLabelOpt,
    NoSplitOpt,
    OutputFormatOpt,
    OutputOpt,
    RegressionOpt,
    RootOpt,
    SchedulerOpt,
    SepOpt,
    SplitOpt,
    StrictOpt,
    WorkersOpt,
    _engine,
    _engine_done,
    _from_command_line,
    _inputs,
    _label_cols,
    _list_labels,
    _missing_flags,
    _missing_policy,
    _path_text,
    _pixel_limit,
    _settle,
    _split_flags,
    _write_table,
)
from rebalance.errors import RebalanceError


class WeightScheme(StrEnum):
    balanced = "balanced"
    inverse = "inverse"
    inverse_sqrt = "inverse-sqrt"
    effective = "effective"
    median = "median"
    enet = "enet"
    pos_weight = "pos-weight"
    lds = "lds"
    sqrt_inverse = "sqrt-inverse"
    denseweight = "denseweight"


class WeightNormalize(StrEnum):
    none = "none"
    mean = "mean"
    sum = "sum"
    n_samples = "n-samples"


class WeightFormat(StrEnum):
    json = "json"
    torch = "torch"
    keras = "keras"
    csv = "csv"
    log_priors = "log-priors"
    focal = "focal"
    torch_pos_weight = "torch-pos-weight"


SchemeOpt = Annotated[
    WeightScheme,
    typer.Option(
        "--scheme",
        help="balanced = n/(k·n_c) (sklearn); inverse = 1/n_c; inverse-sqrt = 1/√n_c; "
        "effective = (1−β)/(1−β^n_c); median = median(f)/f_c; enet = 1/ln(c+f_c); "
        "pos-weight = (n−n_l)/n_l per label (multi-label; its default); regression: lds "
        "(default), inverse, sqrt-inverse, denseweight.",
        rich_help_panel="Weights",
    ),
]

BetaOpt = Annotated[
    float,
    typer.Option(
        "--beta", help="β of the effective-number scheme, in [0, 1).", rich_help_panel="Weights"
    ),
]

COpt = Annotated[
    float, typer.Option("--c", help="c of the ENet scheme (> 1).", rich_help_panel="Weights")
]

NormalizeOpt = Annotated[
    WeightNormalize | None,
    typer.Option(
        "--normalize",
        help="none, mean (mean 1), sum (sum 1), n-samples (Σ n_c·w_c = n). Default: none for "
        "balanced/median/enet, mean for inverse/inverse-sqrt/effective.",
        rich_help_panel="Weights",
    ),
]

ClipOpt = Annotated[
    str | None,
    typer.Option(
        "--clip", help="MIN:MAX bounds applied after normalization.", rich_help_panel="Weights"
    ),
]

RenormalizeOpt = Annotated[
    bool,
    typer.Option("--renormalize", help="Normalize again after --clip.", rich_help_panel="Weights"),
]

OverrideOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--override", help="LABEL=W: a hand-set weight (repeatable).", rich_help_panel="Weights"
    ),
]

FromFileOpt = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Hand-set weights for every class: JSON {label: w} or CSV label,weight.",
        rich_help_panel="Weights",
    ),
]

WeightFormatOpt = Annotated[
    WeightFormat,
    typer.Option(
        "--format",
        help="json (default), torch, keras, csv, log-priors, focal (α and γ), or "
        "torch-pos-weight (multi-label: BCEWithLogitsLoss pos_weight).",
        rich_help_panel="Output",
    ),
]

TauOpt = Annotated[
    float,
    typer.Option("--tau", help="τ of the log-priors vector τ·log π_c.", rich_help_panel="Weights"),
]

GammaOpt = Annotated[
    float,
    typer.Option(
        "--gamma",
        min=0.0,
        help="γ of --format focal (focusing parameter).",
        rich_help_panel="Weights",
    ),
]

PositiveOpt = Annotated[
    str | None,
    typer.Option(
        "--positive",
        help="--format focal, binary: the class α is for (default: rarer).",
        rich_help_panel="Weights",
    ),
]

ClassesOpt = Annotated[
    str | None,
    typer.Option(
        "--classes",
        help="Class-index order: one label per line, or a JSON list.",
        rich_help_panel="Weights",
    ),
]

ClassesOutOpt = Annotated[
    str | None,
    typer.Option(
        "--classes-out",
        help="Write the class-index order here (one label per line).",
        rich_help_panel="Output",
    ),
]

MissingWeightOpt = Annotated[
    float | None,
    typer.Option(
        "--missing-weight",
        help="Weight for classes listed but with no rows.",
        rich_help_panel="Weights",
    ),
]

SampleWeightsOpt = Annotated[
    bool,
    typer.Option(
        "--sample-weights",
        help="Write the manifest with a per-row weight column instead.",
        rich_help_panel="Weights",
    ),
]

WeightColOpt = Annotated[
    str,
    typer.Option(
        "--weight-col",
        help="Name of the per-row weight column.",
        rich_help_panel="Columns and splits",
    ),
]

FromSplitOpt = Annotated[
    str | None,
    typer.Option(
        "--from-split",
        help="Split whose counts give the weights (default: train).",
        rich_help_panel="Columns and splits",
    ),
]

RowWeightOpt = Annotated[
    str,
    typer.Option(
        "--row-weight",
        help="Multi-label --sample-weights: a row's weight is the mean (default) or max "
        "of its labels' weights.",
        rich_help_panel="Multi-label",
    ),
]

BinsOpt = Annotated[
    int,
    typer.Option(
        "--bins",
        min=1,
        help="Regression: bins of the target (default 50).",
        rich_help_panel="Regression",
    ),
]

KernelSizeOpt = Annotated[
    int,
    typer.Option(
        "--kernel-size",
        help="Regression lds: Gaussian window in bins (odd).",
        rich_help_panel="Regression",
    ),
]

SigmaOpt = Annotated[
    float,
    typer.Option(
        "--sigma", help="Regression lds: σ of the window, in bins.", rich_help_panel="Regression"
    ),
]

AlphaOpt = Annotated[
    float,
    typer.Option(
        "--alpha",
        help="Regression denseweight: α (0 = no weighting).",
        rich_help_panel="Regression",
    ),
]


WEIGHTS_HELP = """Class weights for the loss, in the shapes training code consumes.

    Example:

        rebalance weights train.csv | jq .weights

        rebalance weights train.parquet --scheme effective --beta 0.999 -o weights.json

        rebalance weights train.csv --format torch --classes classes.txt -o w.json

        rebalance weights train.csv --sample-weights -o train_weighted.csv

        rebalance weights tags.csv --sep '|' --format torch-pos-weight -o pos_weight.json

        rebalance weights ages.csv --label-col age --regression --sample-weights -o weighted.csv
"""


@app.command("weights", help=WEIGHTS_HELP, cls=PanelCommand)
def weights_command(
    ctx: typer.Context,
    manifest: ManifestArg,
    scheme: SchemeOpt = WeightScheme.balanced,
    beta: BetaOpt = 0.999,
    c: COpt = 1.02,
    normalize: NormalizeOpt = None,
    clip: ClipOpt = None,
    renormalize: RenormalizeOpt = False,
    override: OverrideOpt = None,
    from_file: FromFileOpt = None,
    output_format: WeightFormatOpt = WeightFormat.json,
    tau: TauOpt = 1.0,
    gamma: GammaOpt = 2.0,
    positive: PositiveOpt = None,
    classes: ClassesOpt = None,
    classes_out: ClassesOutOpt = None,
    missing_weight: MissingWeightOpt = None,
    sample_weights: SampleWeightsOpt = False,
    weight_col: WeightColOpt = "weight",
    output: OutputOpt = None,
    out_format: OutputFormatOpt = None,
    label_col: LabelOpt = None,
    split_col: SplitOpt = None,
    no_split: NoSplitOpt = False,
    from_split: FromSplitOpt = None,
    drop_missing: DropMissingOpt = False,
    strict: StrictOpt = False,
    input_format: InputFormatOpt = None,
    encoding: EncodingOpt = "utf-8",
    mask_col: MaskColOpt = None,
    mask_classes: MaskClassesOpt = None,
    root: RootOpt = None,
    workers: WorkersOpt = None,
    max_image_pixels: MaxImagePixelsOpt = None,
    multi_label: MultiLabelOpt = False,
    sep: SepOpt = None,
    label_cols: LabelColsOpt = None,
    row_weight: RowWeightOpt = "mean",
    regression: RegressionOpt = False,
    bins: BinsOpt = 50,
    binning: BinningOpt = "width",
    kernel_size: KernelSizeOpt = 5,
    sigma: SigmaOpt = 2.0,
    alpha: AlphaOpt = 1.0,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
) -> None:
    """``rebalance weights``: the flags name the target kind, which writes the weights."""
    flags = SimpleNamespace(**{k: v for k, v in locals().items() if k != "ctx"})  # typed values
    flags.manifest, flags.label_cols = _path_text(manifest), _label_cols(label_cols)
    with _pixel_limit(max_image_pixels, root):
        _WEIGHERS[_weights_kind(ctx, flags)](ctx, flags)


_REGRESSION_ONLY = ("bins", "binning", "kernel_size", "sigma", "alpha")
_REGRESSION_SCHEMES = ("lds", "inverse", "sqrt-inverse", "denseweight")
_NOT_FOR_REGRESSION = ("multi_label", "sep", "label_cols", "row_weight", "clip", "override",
                       "from_file", "classes", "missing_weight", "mask_col", "normalize", "beta",
                       "c", "tau", "gamma", "positive", "output_format", "drop_missing",
                       "classes_out")  # fmt: skip


def _weights_kind(ctx: typer.Context, f: SimpleNamespace) -> str:
    """``regression``, ``multi-label`` or ``single`` (which also weighs mask pixels), chosen
    once; the options another kind owns are refused here."""
    f.split_col, f.no_split = _split_flags(ctx, f.split_col, f.no_split)
    f.drop_missing, f.strict = _missing_flags(ctx, f.drop_missing, f.strict)
    multi = f.multi_label or f.sep is not None or bool(f.label_cols)
    if not (multi or f.regression):
        listed = _list_labels(f.manifest, f.label_col, f.input_format, f.encoding)
        multi, f.label_col = bool(listed), listed or f.label_col
    f.multi_label = multi
    if f.engine != "local" and (
        multi or f.regression or f.sample_weights or f.mask_col is not None
    ):
        raise RebalanceError(
            f"--engine {f.engine} counts single labels for class weights: leave it out with "
            "--multi-label, --regression, --sample-weights and --mask-col"
        )
    f.runner = _engine(f.engine, f.scheduler)
    if f.regression:
        if _from_command_line(ctx, "scheme") and f.scheme.value not in _REGRESSION_SCHEMES:
            raise RebalanceError(
                f"--scheme {f.scheme.value} is for classes; a regression target takes "
                f"{', '.join(_REGRESSION_SCHEMES)}"
            )
        for name in _NOT_FOR_REGRESSION:
            if _from_command_line(ctx, name):
                flag = {"from_file": "--from", "output_format": "--format"}.get(
                    name, "--" + name.replace("_", "-")
                )
                raise RebalanceError(f"{flag} does not apply with --regression")
        return "regression"
    for name in _REGRESSION_ONLY:
        if _from_command_line(ctx, name):
            raise RebalanceError(f"--{name.replace('_', '-')} applies with --regression")
    if f.scheme.value in ("lds", "sqrt-inverse", "denseweight"):
        raise RebalanceError(
            f"--scheme {f.scheme.value} weighs a regression target: give --regression"
        )
    if not multi:
        if f.output_format is WeightFormat.torch_pos_weight or f.scheme is WeightScheme.pos_weight:
            raise RebalanceError("pos-weight is for multi-label data: give --multi-label")
        if _from_command_line(ctx, "row_weight"):
            raise RebalanceError("--row-weight combines label weights: give --multi-label")
    return "multi-label" if multi else "single"


_ORDERED_FORMATS = (WeightFormat.torch, WeightFormat.keras, WeightFormat.log_priors,
                    WeightFormat.focal, WeightFormat.torch_pos_weight)  # fmt: skip


def _class_weight_options(ctx: typer.Context, f: SimpleNamespace) -> tuple[Any, dict[str, Any]]:
    """Destinations checked and option files read (class weights, single or multi-label):
    the resolved input and the weighting options."""
    import os

    from rebalance.manifest import resolve_source
    from rebalance.output import check_destinations
    from rebalance.weights import parse_clip, parse_overrides, read_classes_file, read_weight_file

    if f.sample_weights and f.output_format is not WeightFormat.json:
        pair = (("sample_weights", "--sample-weights", True), ("output_format", "--format", True))
        if _settle(ctx, *pair) == "sample_weights":
            f.sample_weights = False
    f.target = f.output or "-"
    f.wants_order = f.output_format in _ORDERED_FORMATS
    f.sidecar = f.classes_out
    if f.sidecar is None and f.wants_order and f.target != "-" and not f.sample_weights:
        f.sidecar = os.path.splitext(f.target)[0] + ".classes.txt"
    check_destinations(
        [("-o", f.target), ("--classes-out", None if f.sample_weights else f.sidecar)],
        _inputs(ctx, f.manifest, f.from_file, f.classes),
    )
    options: dict[str, Any] = {
        "scheme": f.scheme.value,
        "beta": f.beta,
        "c": f.c,
        "normalize": f.normalize.value if f.normalize else None,
        "clip": parse_clip(f.clip) if f.clip else None,
        "renormalize": f.renormalize,
        "overrides": parse_overrides(f.override or []),
        "manual": read_weight_file(f.from_file) if f.from_file else None,
        "classes": read_classes_file(f.classes) if f.classes else None,
        "missing_weight": f.missing_weight,
    }
    if f.renormalize and f.clip is None:
        raise RebalanceError("--renormalize only applies after --clip")
    return resolve_source(f.manifest, input_format=f.input_format, encoding=f.encoding), options


def _single_weights(ctx: typer.Context, f: SimpleNamespace) -> None:
    """One label per row (or mask pixels): class weights, or a sample-weight column."""
    from rebalance import render
    from rebalance.manifest import read_manifest
    from rebalance.weights import with_sample_weights

    source, options = _class_weight_options(ctx, f)
    policy = _missing_policy(f.drop_missing, f.strict)
    if f.mask_col is not None and f.sample_weights:
        raise RebalanceError(
            "--sample-weights weighs rows by their label; --mask-col weighs pixels"
        )
    if f.mask_classes is not None and f.mask_col is None:
        raise RebalanceError("--mask-classes names the values of --mask-col: give --mask-col too")
    if not f.sample_weights:
        _write_class_weights(f, _class_weights(f, source, policy, options))
        return
    weighted, _, chosen = with_sample_weights(
        read_manifest(source), label_col=f.label_col, split_col=f.split_col,
        detect_split=not f.no_split, from_split=f.from_split, weight_col=f.weight_col,
        missing=policy, where=source.name, **options,
    )  # fmt: skip
    if chosen is not None and f.from_split is None:
        render.message(f"rebalance: weights from split {chosen!r} (choose with --from-split)")
    _write_table(weighted, source, f.target, f.out_format)


def _class_weights(f: SimpleNamespace, source: Any, policy: str, options: dict[str, Any]) -> Any:
    """The class weights of the manifest (its labels, or its masks' pixels), said where from."""
    from rebalance import render
    from rebalance.stats import label_doubt
    from rebalance.weights import manifest_weights

    try:
        with render.progress("reading masks") as bar:
            found = manifest_weights(
                source, label_col=f.label_col, split_col=f.split_col,
                detect_split=not f.no_split, from_split=f.from_split, missing=policy,
                mask_col=f.mask_col, mask_classes=f.mask_classes, root=f.root,
                workers=f.workers, step=bar.advance if f.mask_col else None, engine=f.runner,
                **options,
            )  # fmt: skip
    finally:
        _engine_done(f.runner)
    result, label, split, chosen = found.weights, found.label_col, found.split_col, found.split
    if f.label_col is None and f.mask_col is None:
        render.message(f"rebalance: label column {label!r}")
    doubt = None if f.mask_col else label_doubt(label, result.counts)
    if doubt is not None:
        render.warn(doubt)
    if chosen is not None and f.from_split is None:
        render.message(
            f"rebalance: weights from split {chosen!r} of column {split!r} (choose with --from-split)"
        )
    return result


def _write_class_weights(f: SimpleNamespace, result: Any) -> None:
    """The weights in the chosen --format, and the class-index order beside them."""
    from rebalance import render
    from rebalance.output import staged, write_text
    from rebalance.weights import focal_alpha, log_priors

    fmt = f.output_format
    if fmt is WeightFormat.json:
        text = render.dump_json(result.to_dict())
    elif fmt is WeightFormat.torch:
        text = render.dump_json(result.vector())
    elif fmt is WeightFormat.keras:
        text = render.dump_json({str(i): w for i, w in result.keras().items()})
    elif fmt is WeightFormat.log_priors:
        text = render.dump_json(log_priors(result, tau=f.tau))
    elif fmt is WeightFormat.focal:
        text = render.dump_json(focal_alpha(result, gamma=f.gamma, positive=f.positive))
    else:
        text = render.weights_csv(result)
    with staged():
        write_text(f.target, text)
        if f.sidecar is not None:
            write_text(f.sidecar, "".join(f"{label}\n" for label in result.classes))
    _say_order(f, result.classes, "class-index order")


def _say_order(f: SimpleNamespace, labels: list[str], what: str) -> None:
    """Where the order of the weight vector went, or the order itself."""
    from rebalance import render

    if f.sidecar is not None and f.wants_order:
        render.message(f"rebalance: {what} written to {f.sidecar}")
    elif f.wants_order:
        shown = ", ".join(f"{i}={label}" for i, label in enumerate(labels[:20]))
        more = f", … {len(labels) - 20} more" if len(labels) > 20 else ""
        render.message(f"rebalance: {what}: {shown}{more} (save it with --classes-out)")


def _regression_weights(ctx: typer.Context, f: SimpleNamespace) -> None:
    """``--regression``: LDS, inverse or DenseWeight weights of a numeric target."""
    from rebalance import render
    from rebalance.manifest import resolve_source
    from rebalance.output import check_destinations, staged, write_text
    from rebalance.regression.weights import regression_weights

    scheme = f.scheme.value if _from_command_line(ctx, "scheme") else "lds"
    target = f.output or "-"
    check_destinations([("-o", target)], _inputs(ctx, f.manifest))
    source = resolve_source(f.manifest, input_format=f.input_format, encoding=f.encoding)
    table, found = regression_weights(
        source, label_col=f.label_col, split_col=f.split_col, detect_split=not f.no_split,
        from_split=f.from_split, weight_col=f.weight_col, scheme=scheme, bins=f.bins,
        binning=f.binning, kernel_size=f.kernel_size, sigma=f.sigma, alpha=f.alpha,
    )  # fmt: skip
    if found.split is not None and f.from_split is None:
        render.message(f"rebalance: weights from split {found.split!r} (choose with --from-split)")
    if f.sample_weights:
        _write_table(table, source, target, f.out_format)
        return
    with staged():
        write_text(target, render.dump_json(found.to_dict()))


def _multilabel_weights(ctx: typer.Context, f: SimpleNamespace) -> None:
    """``--multi-label``: per-label weights (pos-weight by default), or row weights."""
    from rebalance import render
    from rebalance.multilabel.weights import multilabel_weights, with_row_weights
    from rebalance.output import staged, write_text

    source, options = _class_weight_options(ctx, f)
    for given, flag in ((f.from_file, "--from"), (f.classes, "--classes"),
                        (f.missing_weight, "--missing-weight"), (f.mask_col, "--mask-col")):  # fmt: skip
        if given is not None:
            raise RebalanceError(f"{flag} does not apply with --multi-label")
    if f.output_format in (WeightFormat.keras, WeightFormat.log_priors, WeightFormat.focal):
        raise RebalanceError(
            f"--format {f.output_format.value} is for one label per row; multi-label weights "
            "come as json, torch-pos-weight (or torch) and csv"
        )
    if f.drop_missing:
        raise RebalanceError(
            "--drop-missing does not apply with --multi-label: rows without a label are "
            "empty label sets (--strict makes them an error)"
        )
    ml_options = {k: options[k] for k in ("beta", "c", "normalize", "clip", "renormalize")}
    ml_options["overrides"] = options["overrides"]
    ml_options["scheme"] = f.scheme.value if _from_command_line(ctx, "scheme") else "pos-weight"
    where = {"label_col": f.label_col, "sep": f.sep, "label_cols": f.label_cols,
             "split_col": f.split_col, "detect_split": not f.no_split,
             "from_split": f.from_split, "strict": f.strict}  # fmt: skip
    if f.sample_weights:
        table, found = with_row_weights(
            source, combine=f.row_weight, weight_col=f.weight_col, **where, **ml_options
        )
    else:
        found = multilabel_weights(source, **where, **ml_options)
    if found.split is not None and f.from_split is None:
        render.message(f"rebalance: weights from split {found.split!r} (choose with --from-split)")
    if f.sample_weights:
        _write_table(table, source, f.target, f.out_format)
        return
    with staged():
        write_text(f.target, _multilabel_text(f.output_format, found))
        if f.sidecar is not None:
            write_text(f.sidecar, "".join(f"{label}\n" for label in found.labels))
    _say_order(f, found.labels, "label order")


def _multilabel_text(fmt: WeightFormat, found: Any) -> str:
    from rebalance import render

    if fmt is WeightFormat.json:
        return render.dump_json(found.to_dict())
    if fmt in (WeightFormat.torch, WeightFormat.torch_pos_weight):
        return render.dump_json(found.vector())
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["label", "positives", "weight"])
    for label in found.labels:
        writer.writerow([label, found.positives[label], repr(found.weights[label])])
    return buf.getvalue()


_WEIGHERS = {
    "single": _single_weights,
    "multi-label": _multilabel_weights,
    "regression": _regression_weights,
}
