"""``rebalance weights``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from rebalance.cli.app import app
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
    _missing_flags,
    _missing_policy,
    _path_text,
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


@app.command("weights")
def weights_command(
    ctx: typer.Context,
    manifest: ManifestArg,
    scheme: Annotated[
        WeightScheme,
        typer.Option(
            "--scheme",
            help="balanced = n/(k·n_c) (sklearn); inverse = 1/n_c; inverse-sqrt = 1/√n_c; "
            "effective = (1−β)/(1−β^n_c); median = median(f)/f_c; enet = 1/ln(c+f_c); "
            "pos-weight = (n−n_l)/n_l per label (multi-label; its default); regression: lds "
            "(default), inverse, sqrt-inverse, denseweight.",
        ),
    ] = WeightScheme.balanced,
    beta: Annotated[
        float, typer.Option("--beta", help="β of the effective-number scheme, in [0, 1).")
    ] = 0.999,
    c: Annotated[float, typer.Option("--c", help="c of the ENet scheme (> 1).")] = 1.02,
    normalize: Annotated[
        WeightNormalize | None,
        typer.Option(
            "--normalize",
            help="none, mean (mean 1), sum (sum 1), n-samples (Σ n_c·w_c = n). Default: none for "
            "balanced/median/enet, mean for inverse/inverse-sqrt/effective.",
        ),
    ] = None,
    clip: Annotated[
        str | None, typer.Option("--clip", help="MIN:MAX bounds applied after normalization.")
    ] = None,
    renormalize: Annotated[
        bool, typer.Option("--renormalize", help="Normalize again after --clip.")
    ] = False,
    override: Annotated[
        list[str] | None,
        typer.Option("--override", help="LABEL=W: a hand-set weight (repeatable)."),
    ] = None,
    from_file: Annotated[
        str | None,
        typer.Option(
            "--from", help="Hand-set weights for every class: JSON {label: w} or CSV label,weight."
        ),
    ] = None,
    output_format: Annotated[
        WeightFormat,
        typer.Option(
            "--format",
            help="json (default), torch, keras, csv, log-priors, focal (α and γ), or "
            "torch-pos-weight (multi-label: BCEWithLogitsLoss pos_weight).",
        ),
    ] = WeightFormat.json,
    tau: Annotated[
        float, typer.Option("--tau", help="τ of the log-priors vector τ·log π_c.")
    ] = 1.0,
    gamma: Annotated[
        float, typer.Option("--gamma", min=0.0, help="γ of --format focal (focusing parameter).")
    ] = 2.0,
    positive: Annotated[
        str | None,
        typer.Option(
            "--positive", help="--format focal, binary: the class α is for (default: rarer)."
        ),
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option("--classes", help="Class-index order: one label per line, or a JSON list."),
    ] = None,
    classes_out: Annotated[
        str | None,
        typer.Option(
            "--classes-out", help="Write the class-index order here (one label per line)."
        ),
    ] = None,
    missing_weight: Annotated[
        float | None,
        typer.Option("--missing-weight", help="Weight for classes listed but with no rows."),
    ] = None,
    sample_weights: Annotated[
        bool,
        typer.Option(
            "--sample-weights", help="Write the manifest with a per-row weight column instead."
        ),
    ] = False,
    weight_col: Annotated[
        str, typer.Option("--weight-col", help="Name of the per-row weight column.")
    ] = "weight",
    output: OutputOpt = None,
    out_format: OutputFormatOpt = None,
    label_col: LabelOpt = None,
    split_col: SplitOpt = None,
    no_split: NoSplitOpt = False,
    from_split: Annotated[
        str | None,
        typer.Option("--from-split", help="Split whose counts give the weights (default: train)."),
    ] = None,
    drop_missing: DropMissingOpt = False,
    strict: StrictOpt = False,
    input_format: InputFormatOpt = None,
    encoding: EncodingOpt = "utf-8",
    mask_col: MaskColOpt = None,
    mask_classes: MaskClassesOpt = None,
    root: RootOpt = None,
    workers: WorkersOpt = None,
    multi_label: MultiLabelOpt = False,
    sep: SepOpt = None,
    label_cols: LabelColsOpt = None,
    row_weight: Annotated[
        str,
        typer.Option(
            "--row-weight",
            help="Multi-label --sample-weights: a row's weight is the mean (default) or max "
            "of its labels' weights.",
        ),
    ] = "mean",
    regression: RegressionOpt = False,
    bins: Annotated[
        int, typer.Option("--bins", min=1, help="Regression: bins of the target (default 50).")
    ] = 50,
    binning: BinningOpt = "width",
    kernel_size: Annotated[
        int, typer.Option("--kernel-size", help="Regression lds: Gaussian window in bins (odd).")
    ] = 5,
    sigma: Annotated[
        float, typer.Option("--sigma", help="Regression lds: σ of the window, in bins.")
    ] = 2.0,
    alpha: Annotated[
        float, typer.Option("--alpha", help="Regression denseweight: α (0 = no weighting).")
    ] = 1.0,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
) -> None:
    """Class weights for the loss, in the shapes training code consumes.

    Example:

        rebalance weights train.csv | jq .weights

        rebalance weights train.parquet --scheme effective --beta 0.999 -o weights.json

        rebalance weights train.csv --format torch --classes classes.txt -o w.json

        rebalance weights train.csv --sample-weights -o train_weighted.csv

        rebalance weights tags.csv --sep '|' --format torch-pos-weight -o pos_weight.json

        rebalance weights ages.csv --label-col age --regression --sample-weights -o weighted.csv
    """
    manifest = _path_text(manifest)  # type: ignore[assignment]
    import os

    from rebalance import render
    from rebalance.manifest import (
        read_manifest,
        resolve_source,
    )
    from rebalance.output import check_destinations, staged, write_text
    from rebalance.stats import label_doubt
    from rebalance.weights import (
        focal_alpha,
        log_priors,
        manifest_weights,
        parse_clip,
        parse_overrides,
        read_classes_file,
        read_weight_file,
        with_sample_weights,
    )

    split_col, no_split = _split_flags(ctx, split_col, no_split)
    drop_missing, strict = _missing_flags(ctx, drop_missing, strict)
    label_cols = _label_cols(label_cols)
    multi = multi_label or sep is not None or bool(label_cols)
    if engine != "local" and (multi or regression or sample_weights or mask_col is not None):
        raise RebalanceError(
            f"--engine {engine} counts single labels for class weights: leave it out with "
            "--multi-label, --regression, --sample-weights and --mask-col"
        )
    runner = _engine(engine, scheduler)
    regression_only = ("bins", "binning", "kernel_size", "sigma", "alpha")
    if regression:
        allowed = ("lds", "inverse", "sqrt-inverse", "denseweight")
        if _from_command_line(ctx, "scheme") and scheme.value not in allowed:
            raise RebalanceError(
                f"--scheme {scheme.value} is for classes; a regression target takes "
                f"{', '.join(allowed)}"
            )
        for name in ("multi_label", "sep", "label_cols", "row_weight", "clip", "override",
                     "from_file", "classes", "missing_weight", "mask_col", "normalize", "beta",
                     "c", "tau", "gamma", "positive", "output_format", "drop_missing",
                     "classes_out"):  # fmt: skip
            if _from_command_line(ctx, name):
                flag = {"from_file": "--from", "output_format": "--format"}.get(
                    name, "--" + name.replace("_", "-")
                )
                raise RebalanceError(f"{flag} does not apply with --regression")
        _regression_weights(ctx, manifest, output, out_format, sample_weights, weight_col,
                            scheme.value if _from_command_line(ctx, "scheme") else "lds",
                            label_col, split_col, no_split, from_split, input_format, encoding,
                            bins, binning, kernel_size, sigma, alpha)  # fmt: skip
        return
    for name in regression_only:
        if _from_command_line(ctx, name):
            raise RebalanceError(f"--{name.replace('_', '-')} applies with --regression")
    if scheme.value in ("lds", "sqrt-inverse", "denseweight"):
        raise RebalanceError(
            f"--scheme {scheme.value} weighs a regression target: give --regression"
        )
    if not multi:
        if output_format is WeightFormat.torch_pos_weight or scheme is WeightScheme.pos_weight:
            raise RebalanceError("pos-weight is for multi-label data: give --multi-label")
        if _from_command_line(ctx, "row_weight"):
            raise RebalanceError("--row-weight combines label weights: give --multi-label")
    if sample_weights and output_format is not WeightFormat.json:
        if (
            _settle(
                ctx,
                ("sample_weights", "--sample-weights", True),
                ("output_format", "--format", True),
            )
            == "sample_weights"
        ):
            sample_weights = False
    target = output or "-"
    fmt = output_format
    sidecar = classes_out
    wants_order = fmt in (
        WeightFormat.torch,
        WeightFormat.keras,
        WeightFormat.log_priors,
        WeightFormat.focal,
        WeightFormat.torch_pos_weight,
    )
    if sidecar is None and wants_order and target != "-" and not sample_weights:
        sidecar = os.path.splitext(target)[0] + ".classes.txt"
    check_destinations(
        [("-o", target), ("--classes-out", None if sample_weights else sidecar)],
        _inputs(ctx, manifest, from_file, classes),
    )
    options: dict[str, Any] = {
        "scheme": scheme.value,
        "beta": beta,
        "c": c,
        "normalize": normalize.value if normalize else None,
        "clip": parse_clip(clip) if clip else None,
        "renormalize": renormalize,
        "overrides": parse_overrides(override or []),
        "manual": read_weight_file(from_file) if from_file else None,
        "classes": read_classes_file(classes) if classes else None,
        "missing_weight": missing_weight,
    }
    if renormalize and clip is None:
        raise RebalanceError("--renormalize only applies after --clip")
    source = resolve_source(manifest, input_format=input_format, encoding=encoding)
    if multi:
        for given, flag in ((from_file, "--from"), (classes, "--classes"),
                            (missing_weight, "--missing-weight"), (mask_col, "--mask-col")):  # fmt: skip
            if given is not None:
                raise RebalanceError(f"{flag} does not apply with --multi-label")
        if fmt in (WeightFormat.keras, WeightFormat.log_priors, WeightFormat.focal):
            raise RebalanceError(
                f"--format {fmt.value} is for one label per row; multi-label weights come as "
                "json, torch-pos-weight (or torch) and csv"
            )
        if drop_missing:
            raise RebalanceError(
                "--drop-missing does not apply with --multi-label: rows without a label are "
                "empty label sets (--strict makes them an error)"
            )
        ml_options = {k: options[k] for k in ("beta", "c", "normalize", "clip", "renormalize")}
        ml_options["overrides"] = options["overrides"]
        ml_options["scheme"] = scheme.value if _from_command_line(ctx, "scheme") else "pos-weight"
        _multilabel_weights(source, target, sidecar, wants_order, fmt, sample_weights,
                            weight_col, out_format, row_weight, label_col, sep, label_cols,
                            split_col, no_split, from_split, strict, ml_options)  # fmt: skip
        return
    policy = _missing_policy(drop_missing, strict)
    if mask_col is not None and sample_weights:
        raise RebalanceError(
            "--sample-weights weighs rows by their label; --mask-col weighs pixels"
        )
    if mask_classes is not None and mask_col is None:
        raise RebalanceError("--mask-classes names the values of --mask-col: give --mask-col too")
    if sample_weights:
        table = read_manifest(source)
        weighted, result, chosen = with_sample_weights(
            table,
            label_col=label_col,
            split_col=split_col,
            detect_split=not no_split,
            from_split=from_split,
            weight_col=weight_col,
            missing=policy,
            where=source.name,
            **options,
        )
        if chosen is not None and from_split is None:
            render.message(f"rebalance: weights from split {chosen!r} (choose with --from-split)")
        _write_table(weighted, source, target, out_format)
        return
    try:
        with render.progress("reading masks") as bar:
            found = manifest_weights(
                source,
                label_col=label_col,
                split_col=split_col,
                detect_split=not no_split,
                from_split=from_split,
                missing=policy,
                mask_col=mask_col,
                mask_classes=mask_classes,
                root=root,
                workers=workers,
                step=bar.advance if mask_col else None,
                engine=runner,
                **options,
            )
    finally:
        _engine_done(runner)
    result, label, split, chosen = found.weights, found.label_col, found.split_col, found.split
    if label_col is None and mask_col is None:
        render.message(f"rebalance: label column {label!r}")
    doubt = None if mask_col else label_doubt(label, result.counts)
    if doubt is not None:
        render.warn(doubt)
    if chosen is not None and from_split is None:
        render.message(
            f"rebalance: weights from split {chosen!r} of column {split!r} (choose with --from-split)"
        )
    if fmt is WeightFormat.json:
        text = render.dump_json(result.to_dict())
    elif fmt is WeightFormat.torch:
        text = render.dump_json(result.vector())
    elif fmt is WeightFormat.keras:
        text = render.dump_json({str(i): w for i, w in result.keras().items()})
    elif fmt is WeightFormat.log_priors:
        text = render.dump_json(log_priors(result, tau=tau))
    elif fmt is WeightFormat.focal:
        text = render.dump_json(focal_alpha(result, gamma=gamma, positive=positive))
    else:
        text = render.weights_csv(result)
    order = "".join(f"{label}\n" for label in result.classes)
    with staged():
        write_text(target, text)
        if sidecar is not None:
            write_text(sidecar, order)
    if sidecar is not None and wants_order:
        render.message(f"rebalance: class-index order written to {sidecar}")
    elif wants_order:
        shown = ", ".join(f"{i}={label}" for i, label in enumerate(result.classes[:20]))
        more = f", … {len(result.classes) - 20} more" if len(result.classes) > 20 else ""
        render.message(f"rebalance: class-index order: {shown}{more} (save it with --classes-out)")


def _regression_weights(ctx, manifest, output, out_format, sample_weights, weight_col, scheme,
                        label_col, split_col, no_split, from_split, input_format, encoding,
                        bins, binning, kernel_size, sigma, alpha) -> None:  # fmt: skip
    from rebalance import render
    from rebalance.manifest import resolve_source
    from rebalance.output import check_destinations, staged, write_text
    from rebalance.regression.weights import regression_weights

    target = output or "-"
    check_destinations([("-o", target)], _inputs(ctx, manifest))
    source = resolve_source(manifest, input_format=input_format, encoding=encoding)
    table, found = regression_weights(
        source,
        label_col=label_col,
        split_col=split_col,
        detect_split=not no_split,
        from_split=from_split,
        weight_col=weight_col,
        scheme=scheme,
        bins=bins,
        binning=binning,
        kernel_size=kernel_size,
        sigma=sigma,
        alpha=alpha,
    )
    if found.split is not None and from_split is None:
        render.message(f"rebalance: weights from split {found.split!r} (choose with --from-split)")
    if sample_weights:
        _write_table(table, source, target, out_format)
        return
    with staged():
        write_text(target, render.dump_json(found.to_dict()))


def _multilabel_weights(source, target, sidecar, wants_order, fmt, sample_weights, weight_col,
                        out_format, row_weight, label_col, sep, label_cols, split_col, no_split,
                        from_split, strict, options) -> None:  # fmt: skip
    from rebalance import render
    from rebalance.multilabel.weights import multilabel_weights, with_row_weights
    from rebalance.output import staged, write_text

    where = {"label_col": label_col, "sep": sep, "label_cols": label_cols,
             "split_col": split_col, "detect_split": not no_split, "from_split": from_split,
             "strict": strict}  # fmt: skip
    if sample_weights:
        table, found = with_row_weights(
            source, combine=row_weight, weight_col=weight_col, **where, **options
        )
        if found.split is not None and from_split is None:
            render.message(
                f"rebalance: weights from split {found.split!r} (choose with --from-split)"
            )
        _write_table(table, source, target, out_format)
        return
    found = multilabel_weights(source, **where, **options)
    if found.split is not None and from_split is None:
        render.message(f"rebalance: weights from split {found.split!r} (choose with --from-split)")
    if fmt is WeightFormat.json:
        text = render.dump_json(found.to_dict())
    elif fmt in (WeightFormat.torch, WeightFormat.torch_pos_weight):
        text = render.dump_json(found.vector())
    else:
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["label", "positives", "weight"])
        for label in found.labels:
            writer.writerow([label, found.positives[label], repr(found.weights[label])])
        text = buf.getvalue()
    with staged():
        write_text(target, text)
        if sidecar is not None:
            write_text(sidecar, "".join(f"{label}\n" for label in found.labels))
    if sidecar is not None and wants_order:
        render.message(f"rebalance: label order written to {sidecar}")
    elif wants_order:
        shown = ", ".join(f"{i}={label}" for i, label in enumerate(found.labels[:20]))
        more = f", … {len(found.labels) - 20} more" if len(found.labels) > 20 else ""
        render.message(f"rebalance: label order: {shown}{more} (save it with --classes-out)")
