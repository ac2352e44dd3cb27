"""``rebalance resample``."""

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
    MaskColOpt,
    MultiLabelOpt,
    NoSplitOpt,
    OutputFormatOpt,
    OutputOpt,
    PathColOpt,
    RegressionOpt,
    RootOpt,
    SchedulerOpt,
    SeedOpt,
    SepOpt,
    SplitOpt,
    WorkersOpt,
    _complete_method,
    _engine,
    _engine_done,
    _from_command_line,
    _inputs,
    _label_cols,
    _path_text,
    _settle,
    _split_flags,
    _write_table,
)
from rebalance.errors import RebalanceError


class PathsMode(StrEnum):
    relative = "relative"
    absolute = "absolute"
    as_is = "as-is"


class ResampleMode(StrEnum):
    under = "under"
    over = "over"
    both = "both"


@app.command("resample")
def resample_command(
    ctx: typer.Context,
    manifest: ManifestArg,
    output: OutputOpt = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            help="Rows per class: max (default for random/oversampling), min (default for "
            "undersampling), median, mean, N, ratio:R (no class over R× the smallest; undersamples "
            "unless --mode over|both), sqrt or power:Q (counts ∝ n^Q, total kept), repeat-factor:T (LVIS).",
        ),
    ] = None,
    mode: Annotated[
        ResampleMode | None,
        typer.Option(
            "--mode", help="Keep only the under- or over-sampling moves of the target, or both."
        ),
    ] = None,
    min_per_class: Annotated[
        int | None, typer.Option("--min-per-class", help="Clamp: at least N rows per class.")
    ] = None,
    max_per_class: Annotated[
        int | None, typer.Option("--max-per-class", help="Clamp: at most N rows per class.")
    ] = None,
    plan_file: Annotated[
        str | None,
        typer.Option("--plan", help="Per-class targets: JSON {label: n} or TOML [targets]."),
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            autocompletion=_complete_method,
            help="random (default), smote, borderline-smote, svm-smote, adasyn, smotenc, smoten, "
            "kmeans-smote, near-miss, tomek, enn, renn, allknn, one-sided-selection, "
            "neighbourhood-cleaning, condensed-nearest-neighbour, cluster-centroids, instance-hardness, "
            "smote-tomek, smote-enn; "
            "cluster, dedup (similarity-aware, on image features or --features embeddings); "
            "augment (new images on disk).",
        ),
    ] = "random",
    seed: SeedOpt = 0,
    id_col: Annotated[
        str | None,
        typer.Option("--id-col", help="Row key for random sampling (default: row position)."),
    ] = None,
    features: Annotated[
        list[str] | None,
        typer.Option(
            "--features",
            help="Feature columns for imbalanced-learn methods: names or globs (repeatable).",
        ),
    ] = None,
    k_neighbors: Annotated[
        int | None, typer.Option("--k-neighbors", min=1, help="k of the SMOTE family.")
    ] = None,
    n_neighbors: Annotated[
        int | None,
        typer.Option("--n-neighbors", min=1, help="n_neighbors of ADASYN, NearMiss, ENN, …"),
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", min=1, max=3, help="NearMiss version (1, 2 or 3).")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", help="NAME=VALUE passed to the imbalanced-learn sampler (repeatable)."
        ),
    ] = None,
    n_jobs: Annotated[
        int | None,
        typer.Option("--n-jobs", help="Parallel jobs for neighbour searches (-1: all cores)."),
    ] = None,
    provenance: Annotated[
        bool,
        typer.Option(
            "--provenance", help="Add rebalance_source_row and rebalance_synthetic columns."
        ),
    ] = False,
    shuffle: Annotated[
        bool, typer.Option("--shuffle", help="Shuffle the output rows (seeded).")
    ] = False,
    replacement: Annotated[
        bool,
        typer.Option(
            "--replacement",
            help="Random undersampling draws with replacement (imbalanced-learn's "
            "RandomUnderSampler(replacement=True): the same rows for the same seed).",
        ),
    ] = False,
    sort_output: Annotated[
        bool,
        typer.Option(
            "--sort-output",
            help="Random method: write rows in (label, row key) order, the same file for any "
            "partitioning of the input (with --id-col).",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the plan (before → after per class); write nothing."),
    ] = False,
    plan_json: Annotated[
        bool,
        typer.Option(
            "--plan-json", help="Print the plan (or, after a run, the sidecar) as JSON on stdout."
        ),
    ] = False,
    plan_out: Annotated[
        str | None,
        typer.Option(
            "--plan-out",
            help="Write the plan sidecar (seed, method, counts, version) as JSON here.",
        ),
    ] = None,
    label_col: LabelOpt = None,
    split_col: SplitOpt = None,
    no_split: NoSplitOpt = False,
    only_split: Annotated[
        list[str] | None,
        typer.Option(
            "--only-split", help="Resample only this split (repeatable); other rows pass through."
        ),
    ] = None,
    all_splits: Annotated[
        bool, typer.Option("--all-splits", help="Resample every row, validation and test included.")
    ] = False,
    group_col: Annotated[
        str | None,
        typer.Option(
            "--group-col",
            help="Group column (patient, video): undersampling keeps or drops whole groups.",
        ),
    ] = None,
    allow_large: Annotated[
        bool,
        typer.Option(
            "--allow-large", help="Allow an output over 10× the input (and over 1M rows)."
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Make rows without a label, and classes too small for a neighbour method, errors.",
        ),
    ] = False,
    drop_missing: DropMissingOpt = False,
    out_format: OutputFormatOpt = None,
    input_format: InputFormatOpt = None,
    encoding: EncodingOpt = "utf-8",
    top: Annotated[int, typer.Option("--top", min=1, help="Plan rows shown at each end.")] = 10,
    show_all: Annotated[bool, typer.Option("--all", help="Show every class of the plan.")] = False,
    image_features: Annotated[
        str | None,
        typer.Option(
            "--image-features",
            help="builtin (Pillow + numpy) or cnn (pip install 'rebalance[embed]'): features of the "
            "images of the path column for cluster, dedup and the neighbour methods.",
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold", help="dedup: rows of a class closer than D are near-duplicates."
        ),
    ] = None,
    path_col: PathColOpt = None,
    root: RootOpt = None,
    workers: WorkersOpt = None,
    image_dir: Annotated[
        str | None,
        typer.Option("--image-dir", help="augment: folder for the new images (created if absent)."),
    ] = None,
    augment: Annotated[
        str | None,
        typer.Option(
            "--augment",
            help="augment: transforms and strengths, e.g. rotate=15,flip,vflip,zoom=0.2,skew=0.1,color=0.3 "
            "(default rotate=15,flip,zoom=0.1,color=0.2).",
        ),
    ] = None,
    mask_col: MaskColOpt = None,
    skip_bad: Annotated[
        bool,
        typer.Option(
            "--skip-bad",
            help="Image methods: leave out rows whose image is missing or corrupt (default: exit 2).",
        ),
    ] = False,
    weights: Annotated[
        str | None,
        typer.Option(
            "--weights",
            help="--image-features cnn: a mobilenet_v3_small state_dict file (offline use).",
        ),
    ] = None,
    regression: RegressionOpt = False,
    bins: Annotated[
        int,
        typer.Option("--bins", min=1, help="Regression random: bins of the target (default 10)."),
    ] = 10,
    binning: BinningOpt = "width",
    rare_quantile: Annotated[
        float,
        typer.Option(
            "--rare-quantile", help="Regression smoter: rows in the lowest and highest Q are rare."
        ),
    ] = 0.1,
    over: Annotated[
        float, typer.Option("--over", help="Regression smoter: new rows per rare row.")
    ] = 2.0,
    under: Annotated[
        float,
        typer.Option("--under", help="Regression smoter: share of the other rows kept (0..1)."),
    ] = 1.0,
    multi_label: MultiLabelOpt = False,
    sep: SepOpt = None,
    label_cols: LabelColsOpt = None,
    percentage: Annotated[
        float | None,
        typer.Option(
            "--percentage",
            help="Multi-label: rows to copy (ros) or remove (rus), in % of the input.",
        ),
    ] = None,
    target_meanir: Annotated[
        float | None,
        typer.Option(
            "--target-meanir", help="Multi-label ml-ros/ml-rus: resample until MeanIR ≤ M."
        ),
    ] = None,
    label_mode: Annotated[
        str,
        typer.Option(
            "--label-mode",
            help="mlsmote: a new row's labels: ranking (held by over half of the row and its "
            "neighbours; default), union or intersection.",
        ),
    ] = "ranking",
    paths: Annotated[
        PathsMode,
        typer.Option(
            "--paths",
            help="Relative file paths in the output: relative (rewritten for the output's "
            "folder; default), absolute, or as-is (as read).",
        ),
    ] = PathsMode.relative,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
) -> None:
    """Write a rebalanced manifest: plan the rows per class, then sample them.

    Output rows are exact input rows (all columns, original types) or synthetic rows,
    marked with --provenance. Rows keep input order; added rows follow, class by class.

    Example:

        rebalance resample train.csv -o balanced.csv --target max

        rebalance resample train.parquet -o out.parquet --target 500 --seed 7

        rebalance resample all.csv -o out.csv --only-split train --target median

        rebalance resample fraud.csv -o out.csv --method smote-tomek --features 'v*'

        rebalance resample train.csv --target sqrt --dry-run

        rebalance resample ages.csv --label-col age --regression -o out.csv --method smoter

        rebalance resample tags.csv --sep '|' -o out.csv --method ml-ros --target-meanir 1.5
    """
    manifest = _path_text(manifest)  # type: ignore[assignment]
    label_cols = _label_cols(label_cols)
    if engine != "local" and (regression or multi_label or sep is not None or label_cols):
        raise RebalanceError(f"--engine {engine} resamples single labels: leave it out here")
    if engine != "local" and mask_col is not None:
        raise RebalanceError(f"--engine {engine} does not read masks: leave it out here")
    if multi_label or sep is not None or label_cols:
        split_col, no_split = _split_flags(ctx, split_col, no_split)
        _resample_multilabel(ctx, manifest, output, out_format, method, seed, label_col, sep,
                             label_cols, percentage, target_meanir, provenance, allow_large,
                             dry_run, plan_json, plan_out, input_format, encoding, split_col,
                             no_split, only_split, all_splits, features, k_neighbors,
                             label_mode)  # fmt: skip
        return
    for name in ("percentage", "target_meanir", "label_mode"):
        if _from_command_line(ctx, name):
            raise RebalanceError(
                f"--{name.replace('_', '-')} resamples multi-label rows: give --multi-label too"
            )
    regression_only = ("bins", "binning", "rare_quantile", "over", "under")
    if regression:
        split_col, no_split = _split_flags(ctx, split_col, no_split)
        _resample_regression(ctx, manifest, output, out_format, method, target, mode, seed,
                             label_col, bins, binning, rare_quantile, over, under, k_neighbors,
                             features, provenance, allow_large, dry_run, plan_json, plan_out,
                             input_format, encoding, split_col, no_split, only_split,
                             all_splits)  # fmt: skip
        return
    for name in regression_only:
        if _from_command_line(ctx, name):
            raise RebalanceError(
                f"--{name.replace('_', '-')} resamples a regression target: give --regression too"
            )
    from rebalance import render
    from rebalance.manifest import resolve_destination, resolve_source
    from rebalance.output import check_destinations, staged, write_text
    from rebalance.plan import read_plan_file
    from rebalance.resampling import bytes_per_row, check_size, plan_manifest, resample_file
    from rebalance.samplers.tabular import method_kind, parse_params
    from rebalance.stats import label_doubt

    split_col, no_split = _split_flags(ctx, split_col, no_split)
    dropped = _settle(
        ctx, ("only_split", "--only-split", only_split), ("all_splits", "--all-splits", all_splits)
    )
    only_split = None if dropped == "only_split" else only_split
    all_splits = all_splits and dropped != "all_splits"
    if not dry_run and output is None:
        raise RebalanceError("name the output with -o FILE (or -o - for stdout), or use --dry-run")
    check_destinations(
        [
            ("-o", None if dry_run else output),
            ("--plan-out", None if dry_run else plan_out),
            ("--plan-json", "-" if plan_json else None),
        ],
        _inputs(ctx, manifest, plan_file),
        folders=("-o",),
    )
    if image_dir is not None and not dry_run:
        _check_image_dir(image_dir)
    method_kind(method)
    per_class = read_plan_file(plan_file) if plan_file else None
    params = parse_params(param or [])
    for name, value in (
        ("k_neighbors", k_neighbors),
        ("n_neighbors", n_neighbors),
        ("version", version),
    ):
        if value is not None:
            params[name] = value
    # --strict also makes small classes errors, so with --drop-missing both apply
    policy = "drop" if drop_missing else "error" if strict else "keep"
    if mask_col is not None and method == "random":
        _repeat_masks(manifest, output, out_format, mask_col, target, seed, root, workers,
                      provenance, allow_large, dry_run, plan_json, plan_out, paths.value)  # fmt: skip
        return
    source = resolve_source(manifest, input_format=input_format, encoding=encoding)
    plan_options: dict[str, Any] = {
        "target": target,
        "method": method,
        "mode": mode.value if mode else None,
        "min_per_class": min_per_class,
        "max_per_class": max_per_class,
        "per_class": per_class,
    }
    if dry_run:
        if skip_bad:
            render.message(
                "rebalance: --dry-run opens no image: the plan counts every row, bad images "
                "included (the run with --skip-bad leaves them out; inspect --check-files lists them)"
            )
        plan, rows_in = plan_manifest(
            source,
            label_col=label_col,
            split_col=split_col,
            detect_split=not no_split,
            missing=policy,
            only_splits=only_split,
            all_splits=all_splits,
            cleaning=params.get("sampling_strategy"),
            **plan_options,
        )
        refused = None
        try:
            check_size(
                plan,
                rows_in,
                allow_large=allow_large,
                bytes_per_row=None if source.is_stdio else bytes_per_row(source.path, rows_in),
            )
        except RebalanceError as exc:
            refused = str(exc)  # the plan is still worth seeing
        if plan_json:
            doc = {"source": source.name, "method": method, "seed": seed, **plan.to_dict()}
            doc["refused"] = refused
            render.write_stdout(render.dump_json(doc))
        else:
            render.print_plan(
                plan,
                top=top,
                show_all=show_all,
                title=f"{source.name} · plan (dry run)",
                refused=refused,
            )
        return
    assert output is not None
    dest = resolve_destination(
        output, output_format=out_format or (source.format if output == "-" else None)
    )
    images = method in ("cluster", "dedup", "augment") or image_features is not None
    if engine != "local" and method != "random":
        raise RebalanceError(
            f"--engine {engine} resamples with --method random only ({method} needs every row "
            "in one process: leave out --engine)"
        )
    runner = _engine(engine, scheduler)
    # image methods count images (total unknown up front); the others count 3 stages
    with staged(), render.progress("resampling", total=None if images else 3) as bar:
        result = resample_file(
            source,
            dest,
            label_col=label_col,
            split_col=split_col,
            detect_split=not no_split,
            group_col=group_col,
            id_col=id_col,
            step=lambda: bar.advance(1),
            seed=seed,
            only_splits=only_split,
            all_splits=all_splits,
            features=features,
            params=params,
            n_jobs=n_jobs,
            provenance=provenance,
            shuffle=shuffle,
            replacement=replacement,
            sort_output=sort_output,
            strict=strict,
            missing=policy,
            allow_large=allow_large,
            image_features=image_features,
            path_col=path_col,
            root=root,
            workers=workers,
            threshold=threshold,
            image_dir=image_dir,
            augment=augment,
            mask_col=mask_col,
            skip_bad=skip_bad,
            weights=weights,
            image_progress=bar.advance if images else None,
            engine=runner,
            paths=paths.value,
            **plan_options,
        )
        _engine_done(runner)
        sidecar = render.dump_json({"source": source.name, "output": dest.name, **result.to_dict()})
        if plan_out:
            write_text(plan_out, sidecar)
    doubt = label_doubt(result.label_col, result.plan.counts)
    for line in [*result.messages, *([doubt] if doubt else [])]:
        render.warn(line)
    for line in result.notes:
        render.message(f"rebalance: {line}")
    render.print_resample_summary(result, dest.name if not dest.is_stdio else "stdout", top=top)
    if plan_json:
        render.write_stdout(sidecar)


def _only_these(ctx: typer.Context, allowed: tuple[str, ...], mode: str) -> None:
    """Refuse every option given on the command line that ``mode`` does not take."""
    for name in ctx.params:
        if name not in allowed and _from_command_line(ctx, name):
            raise RebalanceError(f"--{name.replace('_', '-')} does not apply with {mode}")


def _resample_destinations(ctx, manifest, output, dry_run, plan_out, plan_json, input_format,
                           encoding) -> Any:  # fmt: skip
    """Check -o, --plan-out and --plan-json before reading; the resolved input."""
    from rebalance.manifest import resolve_source
    from rebalance.output import check_destinations

    if not dry_run and output is None:
        raise RebalanceError("name the output with -o FILE (or -o - for stdout), or use --dry-run")
    check_destinations(
        [
            ("-o", None if dry_run else output),
            ("--plan-out", None if dry_run else plan_out),
            ("--plan-json", "-" if plan_json else None),
        ],
        _inputs(ctx, manifest),
    )
    return resolve_source(manifest, input_format=input_format, encoding=encoding)


def _write_resampled(table, source, output, out_format, plan_out, plan_json, sidecar, paths) -> None:  # fmt: skip
    """The resampled manifest (and its plan sidecar) written together, atomically."""
    from rebalance import render
    from rebalance.output import staged, write_text

    with staged():
        _write_table(table, source, output, out_format, paths)
        if plan_out:
            write_text(plan_out, sidecar)
    if plan_json:
        render.write_stdout(sidecar)


_REGRESSION_RESAMPLE_OPTIONS = ("target", "mode", "seed", "label_col", "bins", "binning",
                                "rare_quantile", "over", "under", "k_neighbors", "features",
                                "provenance", "allow_large", "dry_run", "plan_json", "plan_out",
                                "input_format", "encoding", "output", "out_format", "method",
                                "regression", "manifest", "split_col", "no_split", "only_split",
                                "all_splits", "paths")  # fmt: skip


def _resample_regression(ctx, manifest, output, out_format, method, target, mode, seed,
                         label_col, bins, binning, rare_quantile, over, under, k_neighbors,
                         features, provenance, allow_large, dry_run, plan_json, plan_out,
                         input_format, encoding, split_col, no_split, only_split,
                         all_splits) -> None:  # fmt: skip
    from rebalance import render
    from rebalance.manifest import read_manifest
    from rebalance.regression.resample import resample_regression

    _only_these(ctx, _REGRESSION_RESAMPLE_OPTIONS, "--regression")
    if method == "smoter":
        for name in ("target", "mode", "bins", "binning"):
            if _from_command_line(ctx, name):
                raise RebalanceError(f"--{name} plans --method random; smoter takes --over/--under")
    elif method == "random":
        for name in ("rare_quantile", "over", "under", "k_neighbors", "features"):
            if _from_command_line(ctx, name):
                raise RebalanceError(f"--{name.replace('_', '-')} applies to --method smoter")
    source = _resample_destinations(ctx, manifest, output, dry_run, plan_out, plan_json,
                                    input_format, encoding)  # fmt: skip
    result = resample_regression(
        read_manifest(source),
        label_col=label_col,
        method=method,
        seed=seed,
        bins=bins,
        binning=binning,
        target=target,
        mode=mode.value if mode else None,
        rare_quantile=rare_quantile,
        over=over,
        under=under,
        k_neighbors=5 if k_neighbors is None else k_neighbors,
        features=features,
        provenance=provenance,
        allow_large=allow_large,
        split_col=split_col,
        detect_split=not no_split,
        only_splits=only_split,
        all_splits=all_splits,
        where=source.name,
    )
    for message in result.messages:
        render.warn(message)
    sidecar = render.dump_json(result.to_dict())
    if dry_run:
        if plan_json:
            render.write_stdout(sidecar)
        else:
            lines = [f"{'range' if method == 'random' else 'rows'}\tbefore\tafter"]
            lines += [f"{k}\t{v['before']}\t{v['after']}" for k, v in result.plan.items()]
            lines.append(f"total\t{result.rows_in}\t{result.table.num_rows}")
            render.write_stdout("\n".join(lines) + "\n")
        return
    _write_resampled(result.table, source, output, out_format, plan_out, plan_json, sidecar,
                     str(ctx.params["paths"]))  # fmt: skip
    render.message(
        f"rebalance: {result.rows_in:,} rows → {result.table.num_rows:,} "
        f"({result.synthetic_rows:,} synthetic) with {method} → {output}"
    )


_MULTILABEL_RESAMPLE_OPTIONS = ("seed", "label_col", "multi_label", "sep", "label_cols",
                                "percentage", "target_meanir", "provenance", "allow_large",
                                "dry_run", "plan_json", "plan_out", "input_format", "encoding",
                                "output", "out_format", "method", "manifest", "split_col",
                                "no_split", "only_split", "all_splits", "features",
                                "k_neighbors", "label_mode", "paths")  # fmt: skip


def _resample_multilabel(ctx, manifest, output, out_format, method, seed, label_col, sep,
                         label_cols, percentage, target_meanir, provenance, allow_large, dry_run,
                         plan_json, plan_out, input_format, encoding, split_col, no_split,
                         only_split, all_splits, features, k_neighbors, label_mode) -> None:  # fmt: skip
    from rebalance import render
    from rebalance.manifest import (
        read_manifest,
    )
    from rebalance.multilabel.resample import resample_multilabel

    _only_these(ctx, _MULTILABEL_RESAMPLE_OPTIONS, "--multi-label")
    if not _from_command_line(ctx, "method"):
        method = "ml-ros"
    if method != "mlsmote":
        for name in ("features", "k_neighbors", "label_mode"):
            if _from_command_line(ctx, name):
                raise RebalanceError(f"--{name.replace('_', '-')} applies to --method mlsmote")
    source = _resample_destinations(ctx, manifest, output, dry_run, plan_out, plan_json,
                                    input_format, encoding)  # fmt: skip
    table, result = resample_multilabel(
        read_manifest(source),
        method=method,
        label_col=label_col,
        sep=sep,
        label_cols=label_cols,
        percentage=percentage,
        target_meanir=target_meanir,
        seed=seed,
        split_col=split_col,
        detect_split=not no_split,
        only_splits=only_split,
        all_splits=all_splits,
        provenance=provenance,
        allow_large=allow_large,
        features=features,
        k_neighbors=5 if k_neighbors is None else k_neighbors,
        label_mode=label_mode,
        where=source.name,
    )
    for message in result.messages:
        render.warn(message)
    sidecar = render.dump_json(result.to_dict())
    summary = (
        f"rebalance: {method}: {len(result.rows) - result.copies + result.removed:,} rows → "
        f"{len(result.rows) + result.synthetic:,} ({result.copies:,} copied, "
        f"{result.removed:,} removed, {result.synthetic:,} synthetic); MeanIR "
        f"{result.mean_ir_before:.3g} → {result.mean_ir_after:.3g}"
    )
    if dry_run:
        if plan_json:
            render.write_stdout(sidecar)
        else:
            lines = ["label\tbefore\tafter"]
            lines += [f"{k}\t{v['before']}\t{v['after']}" for k, v in result.labels.items()]
            render.write_stdout("\n".join(lines) + "\n")
            render.message(summary + " (dry run: nothing written)")
        return
    _write_resampled(table, source, output, out_format, plan_out, plan_json, sidecar,
                     str(ctx.params["paths"]))  # fmt: skip
    render.message(summary)


def _check_image_dir(image_dir: str) -> None:
    """--image-dir must be a folder, or one that can be made: checked before any work."""
    import os

    if os.path.exists(image_dir) and not os.path.isdir(image_dir):
        raise RebalanceError(f"--image-dir {image_dir}: is a file, not a folder")
    parent = os.path.dirname(os.path.abspath(image_dir))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    target = image_dir if os.path.isdir(image_dir) else parent
    if not os.access(target, os.W_OK | os.X_OK):
        raise RebalanceError(f"--image-dir {image_dir}: folder {target} is not writable")


def _repeat_masks(manifest, output, out_format, mask_col, target, seed, root, workers,
                  provenance, allow_large, dry_run, plan_json, plan_out, paths):  # fmt: skip
    """``resample --mask-col --target repeat-factor:T``: LVIS image repeat factors."""
    from rebalance import render
    from rebalance.images.repeat import parse_threshold, repeat_file
    from rebalance.output import staged, write_text

    threshold = parse_threshold(target)
    if threshold is None:
        raise RebalanceError(
            "resample --mask-col repeats images by their rarest class: give --target "
            "repeat-factor:T (or --method augment to transform the masks)"
        )
    with staged():
        with render.progress("reading masks") as bar:
            plan = repeat_file(
                manifest,
                output or "-",
                mask_col=mask_col,
                threshold=threshold,
                seed=seed,
                root=root,
                workers=workers,
                provenance=provenance,
                allow_large=allow_large,
                output_format=out_format,
                dry_run=dry_run,
                step=bar.advance,
                paths=paths,
            )
        doc = render.dump_json(
            {"source": manifest, "method": "repeat-factor", "seed": seed, **plan.to_dict()}
        )
        if plan_out and not dry_run:
            write_text(plan_out, doc)
    if plan_json:
        render.write_stdout(doc)
    factors = plan.to_dict()["image_repeat_factor"]
    render.message(
        f"rebalance: {'plan' if dry_run else 'wrote ' + (output or 'stdout')}: {plan.rows_before:,} → "
        f"{plan.rows_after:,} rows (image repeat factors {factors['min']:.2f}–{factors['max']:.2f}, "
        f"mean {factors['mean']:.2f}; repeat-factor:{threshold:g}, seed {seed})"
    )
