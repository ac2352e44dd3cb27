"""``rebalance resample``."""

from types import SimpleNamespace
from typing import Any

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
    MaskColOpt,
    MaxImagePixelsOpt,
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
    _engine,
    _engine_done,
    _from_command_line,
    _inputs,
    _label_cols,
    _list_labels,
    _path_text,
    _pixel_limit,
    _settle,
    _split_flags,
    _write_table,
)
from rebalance.cli.resample_options import (  # the flags of the command
    AllowLargeOpt,
    AllSplitsOpt,
    AugmentOpt,
    BinsOpt,
    DryRunOpt,
    FeaturesOpt,
    GroupColOpt,
    IdColOpt,
    ImageDirOpt,
    ImageFeaturesOpt,
    KNeighborsOpt,
    LabelModeOpt,
    MaxPerClassOpt,
    MethodOpt,
    MinPerClassOpt,
    ModeOpt,
    NJobsOpt,
    NNeighborsOpt,
    OnlySplitOpt,
    OverOpt,
    ParamOpt,
    PathsMode,
    PathsOpt,
    PercentageOpt,
    PlanFileOpt,
    PlanJsonOpt,
    PlanOutOpt,
    PreviewOpt,
    ProvenanceOpt,
    RareQuantileOpt,
    ReplacementOpt,
    ShowAllOpt,
    ShuffleOpt,
    SkipBadOpt,
    SortOutputOpt,
    StrictOpt,
    TargetMeanirOpt,
    TargetOpt,
    ThresholdOpt,
    TopOpt,
    UnderOpt,
    VersionOpt,
    WeightsOpt,
)
from rebalance.errors import RebalanceError

RESAMPLE_HELP = """Write a rebalanced manifest: plan the rows per class, then sample them.

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


@app.command("resample", help=RESAMPLE_HELP, cls=PanelCommand)
def resample_command(
    ctx: typer.Context,
    manifest: ManifestArg,
    output: OutputOpt = None,
    target: TargetOpt = None,
    mode: ModeOpt = None,
    min_per_class: MinPerClassOpt = None,
    max_per_class: MaxPerClassOpt = None,
    plan_file: PlanFileOpt = None,
    method: MethodOpt = "random",
    seed: SeedOpt = 0,
    id_col: IdColOpt = None,
    features: FeaturesOpt = None,
    k_neighbors: KNeighborsOpt = None,
    n_neighbors: NNeighborsOpt = None,
    version: VersionOpt = None,
    param: ParamOpt = None,
    n_jobs: NJobsOpt = None,
    provenance: ProvenanceOpt = False,
    shuffle: ShuffleOpt = False,
    replacement: ReplacementOpt = False,
    sort_output: SortOutputOpt = False,
    dry_run: DryRunOpt = False,
    plan_json: PlanJsonOpt = False,
    plan_out: PlanOutOpt = None,
    label_col: LabelOpt = None,
    split_col: SplitOpt = None,
    no_split: NoSplitOpt = False,
    only_split: OnlySplitOpt = None,
    all_splits: AllSplitsOpt = False,
    group_col: GroupColOpt = None,
    allow_large: AllowLargeOpt = False,
    strict: StrictOpt = False,
    drop_missing: DropMissingOpt = False,
    out_format: OutputFormatOpt = None,
    input_format: InputFormatOpt = None,
    encoding: EncodingOpt = "utf-8",
    top: TopOpt = 10,
    show_all: ShowAllOpt = False,
    image_features: ImageFeaturesOpt = None,
    threshold: ThresholdOpt = None,
    path_col: PathColOpt = None,
    root: RootOpt = None,
    workers: WorkersOpt = None,
    max_image_pixels: MaxImagePixelsOpt = None,
    image_dir: ImageDirOpt = None,
    augment: AugmentOpt = None,
    mask_col: MaskColOpt = None,
    skip_bad: SkipBadOpt = False,
    weights: WeightsOpt = None,
    preview: PreviewOpt = None,
    regression: RegressionOpt = False,
    bins: BinsOpt = 10,
    binning: BinningOpt = "width",
    rare_quantile: RareQuantileOpt = 0.1,
    over: OverOpt = 2.0,
    under: UnderOpt = 1.0,
    multi_label: MultiLabelOpt = False,
    sep: SepOpt = None,
    label_cols: LabelColsOpt = None,
    percentage: PercentageOpt = None,
    target_meanir: TargetMeanirOpt = None,
    label_mode: LabelModeOpt = "ranking",
    paths: PathsOpt = PathsMode.relative,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
) -> None:
    """``rebalance resample``: the flags name the target kind, which runs the rest."""
    flags = SimpleNamespace(**{k: v for k, v in locals().items() if k != "ctx"})  # typed values
    flags.manifest, flags.label_cols = _path_text(manifest), _label_cols(label_cols)
    with _pixel_limit(max_image_pixels, root, "skip" if skip_bad else "error"):
        _RESAMPLERS[_target_kind(ctx, flags)](ctx, flags)


# Options that belong to one target kind: given without it, they are refused.
_KIND_ONLY = {
    "multi-label": (("percentage", "target_meanir", "label_mode"), "resamples multi-label rows: give --multi-label too"),
    "regression": (("bins", "binning", "rare_quantile", "over", "under"), "resamples a regression target: give --regression too"),
}  # fmt: skip


def _target_kind(ctx: typer.Context, f: SimpleNamespace) -> str:
    """``multi-label``, ``regression`` or ``single`` (which also handles masks), chosen once."""
    multi = bool(f.multi_label or f.sep is not None or f.label_cols)
    if not (multi or f.regression):
        listed = _list_labels(f.manifest, f.label_col, f.input_format, f.encoding)
        multi, f.label_col = bool(listed), listed or f.label_col
    if f.engine != "local" and (f.regression or multi):
        raise RebalanceError(f"--engine {f.engine} resamples single labels: leave it out here")
    if f.engine != "local" and f.mask_col is not None:
        raise RebalanceError(f"--engine {f.engine} does not read masks: leave it out here")
    kind = "multi-label" if multi else "regression" if f.regression else "single"
    # the options of the kinds listed before this one are refused here; those listed
    # after it, the kind refuses itself ("does not apply with --multi-label")
    kinds = list(_KIND_ONLY)
    for other in kinds[: kinds.index(kind)] if kind in kinds else kinds:
        names, needs = _KIND_ONLY[other]
        for name in names:
            if _from_command_line(ctx, name):
                raise RebalanceError(f"--{name.replace('_', '-')} {needs}")
    f.split_col, f.no_split = _split_flags(ctx, f.split_col, f.no_split)
    return kind


def _resample_single(ctx: typer.Context, f: SimpleNamespace) -> None:
    """Single-label resampling (or LVIS repeat factors of masks): plan, run, report."""
    from rebalance.manifest import resolve_source

    _check_single(ctx, f)
    if f.mask_col is not None and f.method == "random":
        _repeat_masks(f)
        return
    source = resolve_source(f.manifest, input_format=f.input_format, encoding=f.encoding)
    if f.dry_run:
        _dry_run(source, f)
        return
    _run_single(source, f)


def _check_single(ctx: typer.Context, f: SimpleNamespace) -> None:
    """Every destination and option, before anything is read; the request is built."""
    from rebalance.output import check_destinations
    from rebalance.plan import read_plan_file
    from rebalance.samplers.registry import method_kind
    from rebalance.samplers.tabular import parse_params

    dropped = _settle(
        ctx, ("only_split", "--only-split", f.only_split), ("all_splits", "--all-splits", f.all_splits)
    )  # fmt: skip
    f.only_split = None if dropped == "only_split" else f.only_split
    f.all_splits = f.all_splits and dropped != "all_splits"
    if not f.dry_run and f.output is None:
        raise RebalanceError("name the output with -o FILE (or -o - for stdout), or use --dry-run")
    if f.preview is not None and f.method not in ("augment", "cluster", "dedup"):
        raise RebalanceError(
            "--preview shows what an image method did: give --method augment, cluster or dedup"
        )
    if f.preview is not None and f.dry_run:
        raise RebalanceError("--preview shows the images of a run: leave out --dry-run")
    check_destinations(
        [
            ("-o", None if f.dry_run else f.output),
            ("--plan-out", None if f.dry_run else f.plan_out),
            ("--plan-json", "-" if f.plan_json else None),
            ("--preview", f.preview),
        ],
        _inputs(ctx, f.manifest, f.plan_file),
        folders=("-o",),
    )
    if f.image_dir is not None and not f.dry_run:
        _check_image_dir(f.image_dir)
    method_kind(f.method)
    f.per_class = read_plan_file(f.plan_file) if f.plan_file else None
    f.params = parse_params(f.param or [])
    for name in ("k_neighbors", "n_neighbors", "version"):
        if getattr(f, name) is not None:
            f.params[name] = getattr(f, name)
    # --strict also makes small classes errors, so with --drop-missing both apply
    f.policy = "drop" if f.drop_missing else "error" if f.strict else "keep"


def _plan_options(f: SimpleNamespace) -> dict[str, Any]:
    return {
        "target": f.target,
        "method": f.method,
        "mode": f.mode.value if f.mode else None,
        "min_per_class": f.min_per_class,
        "max_per_class": f.max_per_class,
        "per_class": f.per_class,
    }


def _request(f: SimpleNamespace) -> Any:
    """The library's typed request, from the flags (checked as it is made)."""
    from rebalance.resampling.request import ResampleRequest

    return ResampleRequest.of(
        label_col=f.label_col, split_col=f.split_col, detect_split=not f.no_split,
        group_col=f.group_col, id_col=f.id_col, seed=f.seed, only_splits=f.only_split,
        all_splits=f.all_splits, features=f.features, params=f.params, n_jobs=f.n_jobs,
        provenance=f.provenance, shuffle=f.shuffle, replacement=f.replacement,
        strict=f.strict, missing=f.policy, allow_large=f.allow_large,
        image_features=f.image_features, path_col=f.path_col, root=f.root,
        workers=f.workers, threshold=f.threshold, image_dir=f.image_dir, augment=f.augment,
        mask_col=f.mask_col, skip_bad=f.skip_bad, weights=f.weights, **_plan_options(f),
    )  # fmt: skip


def _dry_run(source: Any, f: SimpleNamespace) -> None:
    """``--dry-run``: the plan from the streamed label counts, refused or not."""
    from rebalance import render
    from rebalance.resampling import bytes_per_row, check_size, plan_manifest

    if f.skip_bad:
        render.message(
            "rebalance: --dry-run opens no image: the plan counts every row, bad images "
            "included (the run with --skip-bad leaves them out; inspect --check-files lists them)"
        )
    plan, rows_in = plan_manifest(
        source, label_col=f.label_col, split_col=f.split_col, detect_split=not f.no_split,
        missing=f.policy, only_splits=f.only_split, all_splits=f.all_splits,
        cleaning=f.params.get("sampling_strategy"), **_plan_options(f),
    )  # fmt: skip
    refused = None
    try:
        size = None if source.is_stdio else bytes_per_row(source.path, rows_in)
        check_size(plan, rows_in, allow_large=f.allow_large, bytes_per_row=size)
    except RebalanceError as exc:
        refused = str(exc)  # the plan is still worth seeing
    if f.plan_json:
        doc = {"source": source.name, "method": f.method, "seed": f.seed, **plan.to_dict()}
        doc["refused"] = refused
        render.write_stdout(render.dump_json(doc))
        return
    title = f"{source.name} · plan (dry run)"
    render.print_plan(plan, top=f.top, show_all=f.show_all, title=title, refused=refused)


def _run_single(source: Any, f: SimpleNamespace) -> None:
    """Resample the file into the output (and the sidecar), then report on stderr."""
    from rebalance import render
    from rebalance.manifest import resolve_destination
    from rebalance.output import staged, write_text
    from rebalance.resampling import resample_file
    from rebalance.stats import label_doubt

    output = f.output
    dest = resolve_destination(
        output, output_format=f.out_format or (source.format if output == "-" else None)
    )
    images = f.method in ("cluster", "dedup", "augment") or f.image_features is not None
    if f.engine != "local" and f.method != "random":
        raise RebalanceError(
            f"--engine {f.engine} resamples with --method random only ({f.method} needs every row "
            "in one process: leave out --engine)"
        )
    if f.preview is not None and f.image_features is None and f.method != "augment" and f.features:
        from rebalance.images.files import path_column
        from rebalance.manifest import read_columns

        try:  # features from columns: the preview still needs the images' paths
            path_column(read_columns(source), f.path_col, where=source.name)
        except RebalanceError as exc:
            raise RebalanceError(f"--preview shows images: {exc}") from None
    request = _request(f)
    runner = _engine(f.engine, f.scheduler)
    # image methods count images (total unknown up front); the others count 3 stages
    with staged(), render.progress("resampling", total=None if images else 3) as bar:
        result = resample_file(
            source, dest, request, step=lambda: bar.advance(1), sort_output=f.sort_output,
            image_progress=bar.advance if images else None, engine=runner, paths=f.paths.value,
            keep_choice=f.preview is not None,
        )  # fmt: skip
        _engine_done(runner)
        sidecar = ""  # the plan sidecar (5,000 classes: 0.1 s of JSON), made when asked for
        if f.plan_out or f.plan_json:
            sidecar = render.dump_json(
                {"source": source.name, "output": dest.name, **result.to_dict()}
            )
        if f.plan_out:
            write_text(f.plan_out, sidecar)
    doubt = label_doubt(result.label_col, result.plan.counts)
    for line in [*result.messages, *([doubt] if doubt else [])]:
        render.warn(line)
    for line in result.notes:
        render.message(f"rebalance: {line}")
    render.print_resample_summary(result, dest.name if not dest.is_stdio else "stdout", top=f.top)
    if f.plan_json:
        render.write_stdout(sidecar)
    if f.preview is not None:
        _write_preview(f, result, source.name)


def _write_preview(f: SimpleNamespace, result: Any, source: str) -> None:
    """``--preview``: the page of what the image method did (the output is already written)."""
    from rebalance import render
    from rebalance.output import write_text
    from rebalance.visual.preview import preview_html
    from rebalance.visual.sheet import SheetOptions

    assert result.image_choice is not None  # a path column was checked before the run
    with render.progress("preview") as bar:
        page = preview_html(
            result.image_choice, SheetOptions(seed=f.seed, workers=f.workers), source=source,
            step=bar.advance,
        )  # fmt: skip
    write_text(f.preview, page)
    if f.preview != "-":
        render.message(f"rebalance: wrote the preview {f.preview}")


def _only_these(ctx: typer.Context, allowed: tuple[str, ...], mode: str) -> None:
    """Refuse every option given on the command line that ``mode`` does not take."""
    for name in ctx.params:
        if name not in allowed and _from_command_line(ctx, name):
            raise RebalanceError(f"--{name.replace('_', '-')} does not apply with {mode}")


def _resample_destinations(ctx: typer.Context, f: SimpleNamespace) -> Any:
    """Check -o, --plan-out and --plan-json before reading; the resolved input."""
    from rebalance.manifest import resolve_source
    from rebalance.output import check_destinations

    if not f.dry_run and f.output is None:
        raise RebalanceError("name the output with -o FILE (or -o - for stdout), or use --dry-run")
    check_destinations(
        [
            ("-o", None if f.dry_run else f.output),
            ("--plan-out", None if f.dry_run else f.plan_out),
            ("--plan-json", "-" if f.plan_json else None),
        ],
        _inputs(ctx, f.manifest),
    )
    return resolve_source(f.manifest, input_format=f.input_format, encoding=f.encoding)


def _one_split_list(table: Any, f: SimpleNamespace) -> Any:
    """An image list (``-o train.txt``) is one split: with --only-split, the rows of the
    other splits (passed through in a manifest) are left out of it, as stderr says."""
    from rebalance import render
    from rebalance.manifest import SPLIT_CANDIDATES, detect_column, resolve_destination

    if not f.only_split or f.output is None:
        return table
    if resolve_destination(f.output, output_format=f.out_format).format != "list":
        return table
    split = detect_column(
        table.column_names,
        f.split_col,
        SPLIT_CANDIDATES,
        where="output",
        flag="--split-col",
        required=False,
    )
    if split is None:
        return table
    import pyarrow as pa
    import pyarrow.compute as pc

    keep = pc.is_in(table.column(split).cast(pa.string()), pa.array(f.only_split, pa.string()))
    kept = table.filter(pc.fill_null(keep, False))
    if kept.num_rows < table.num_rows:
        render.message(
            f"rebalance: {f.output} lists the {', '.join(f.only_split)} split only (an image list "
            f"is one split): {table.num_rows - kept.num_rows:,} rows of other splits left out"
        )
    return kept


def _write_resampled(table: Any, source: Any, f: SimpleNamespace, sidecar: str) -> None:
    """The resampled manifest (and its plan sidecar) written together, atomically."""
    from rebalance import render
    from rebalance.output import staged, write_text

    table = _one_split_list(table, f)
    with staged():
        _write_table(table, source, f.output, f.out_format, str(f.paths))
        if f.plan_out:
            write_text(f.plan_out, sidecar)
    if f.plan_json:
        render.write_stdout(sidecar)


_REGRESSION_RESAMPLE_OPTIONS = ("target", "mode", "seed", "label_col", "bins", "binning",
                                "rare_quantile", "over", "under", "k_neighbors", "features",
                                "provenance", "allow_large", "dry_run", "plan_json", "plan_out",
                                "input_format", "encoding", "output", "out_format", "method",
                                "regression", "manifest", "split_col", "no_split", "only_split",
                                "all_splits", "paths")  # fmt: skip


def _resample_regression(ctx: typer.Context, f: SimpleNamespace) -> None:
    """``--regression``: random resampling of bins, or SMOTER."""
    from rebalance import render
    from rebalance.manifest import read_manifest
    from rebalance.regression.resample import resample_regression

    _only_these(ctx, _REGRESSION_RESAMPLE_OPTIONS, "--regression")
    if f.method == "smoter":
        for name in ("target", "mode", "bins", "binning"):
            if _from_command_line(ctx, name):
                raise RebalanceError(f"--{name} plans --method random; smoter takes --over/--under")
    elif f.method == "random":
        for name in ("rare_quantile", "over", "under", "k_neighbors", "features"):
            if _from_command_line(ctx, name):
                raise RebalanceError(f"--{name.replace('_', '-')} applies to --method smoter")
    source = _resample_destinations(ctx, f)
    result = resample_regression(
        read_manifest(source), label_col=f.label_col, method=f.method, seed=f.seed,
        bins=f.bins, binning=f.binning, target=f.target, mode=f.mode.value if f.mode else None,
        rare_quantile=f.rare_quantile, over=f.over, under=f.under,
        k_neighbors=5 if f.k_neighbors is None else f.k_neighbors, features=f.features,
        provenance=f.provenance, allow_large=f.allow_large, split_col=f.split_col,
        detect_split=not f.no_split, only_splits=f.only_split, all_splits=f.all_splits,
        where=source.name,
    )  # fmt: skip
    for message in result.messages:
        render.warn(message)
    sidecar = render.dump_json(result.to_dict())
    if f.dry_run:
        if f.plan_json:
            render.write_stdout(sidecar)
        else:
            lines = [f"{'range' if f.method == 'random' else 'rows'}\tbefore\tafter"]
            lines += [f"{k}\t{v['before']}\t{v['after']}" for k, v in result.plan.items()]
            lines.append(f"total\t{result.rows_in}\t{result.table.num_rows}")
            render.write_stdout("\n".join(lines) + "\n")
        return
    _write_resampled(result.table, source, f, sidecar)
    render.message(
        f"rebalance: {result.rows_in:,} rows → {result.table.num_rows:,} "
        f"({result.synthetic_rows:,} synthetic) with {f.method} → {f.output}"
    )


_MULTILABEL_RESAMPLE_OPTIONS = ("target", "skip_bad", "root", "seed", "label_col", "multi_label", "sep", "label_cols",
                                "percentage", "target_meanir", "provenance", "allow_large",
                                "dry_run", "plan_json", "plan_out", "input_format", "encoding",
                                "output", "out_format", "method", "manifest", "split_col",
                                "no_split", "only_split", "all_splits", "features",
                                "k_neighbors", "label_mode", "paths")  # fmt: skip


def _resample_multilabel(ctx: typer.Context, f: SimpleNamespace) -> None:
    """``--multi-label``: ML-ROS, ML-RUS, MLSMOTE or repeat factors over label sets."""
    from rebalance import render
    from rebalance.manifest import read_manifest
    from rebalance.multilabel.resample import resample_multilabel

    _only_these(ctx, _MULTILABEL_RESAMPLE_OPTIONS, "--multi-label")
    method = f.method if _from_command_line(ctx, "method") else "ml-ros"
    if method != "mlsmote":
        for name in ("features", "k_neighbors", "label_mode"):
            if _from_command_line(ctx, name):
                raise RebalanceError(f"--{name.replace('_', '-')} applies to --method mlsmote")
    source = _resample_destinations(ctx, f)
    table, result = resample_multilabel(
        read_manifest(source), method=method, label_col=f.label_col, sep=f.sep,
        label_cols=f.label_cols, percentage=f.percentage, target_meanir=f.target_meanir,
        seed=f.seed, split_col=f.split_col, detect_split=not f.no_split,
        only_splits=f.only_split, all_splits=f.all_splits, provenance=f.provenance,
        allow_large=f.allow_large, features=f.features,
        k_neighbors=5 if f.k_neighbors is None else f.k_neighbors, label_mode=f.label_mode,
        target=f.target, where=source.name,
    )  # fmt: skip
    method = result.method
    for message in result.messages:
        render.warn(message)
    sidecar = render.dump_json(result.to_dict())
    summary = (
        f"rebalance: {method}: {len(result.rows) - result.copies + result.removed:,} rows → "
        f"{len(result.rows) + result.synthetic:,} ({result.copies:,} copied, "
        f"{result.removed:,} removed, {result.synthetic:,} synthetic); MeanIR "
        f"{result.mean_ir_before:.3g} → {result.mean_ir_after:.3g}"
    )
    if f.dry_run:
        if f.plan_json:
            render.write_stdout(sidecar)
        else:
            lines = ["label\tbefore\tafter"]
            lines += [f"{k}\t{v['before']}\t{v['after']}" for k, v in result.labels.items()]
            render.write_stdout("\n".join(lines) + "\n")
            render.message(summary + " (dry run: nothing written)")
        return
    _write_resampled(table, source, f, sidecar)
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


def _repeat_masks(f: SimpleNamespace) -> None:
    """``resample --mask-col --target repeat-factor:T``: LVIS image repeat factors."""
    from rebalance import render
    from rebalance.images.repeat import parse_threshold, repeat_file
    from rebalance.output import staged, write_text

    threshold = parse_threshold(f.target)
    if threshold is None:
        raise RebalanceError(
            "resample --mask-col repeats images by their rarest class: give --target "
            "repeat-factor:T (or --method augment to transform the masks)"
        )
    with staged():
        with render.progress("reading masks") as bar:
            plan = repeat_file(
                f.manifest, f.output or "-", mask_col=f.mask_col, threshold=threshold,
                seed=f.seed, root=f.root, workers=f.workers, provenance=f.provenance,
                allow_large=f.allow_large, output_format=f.out_format, dry_run=f.dry_run,
                step=bar.advance, paths=f.paths.value,
            )  # fmt: skip
        doc = render.dump_json(
            {"source": f.manifest, "method": "repeat-factor", "seed": f.seed, **plan.to_dict()}
        )
        if f.plan_out and not f.dry_run:
            write_text(f.plan_out, doc)
    if f.plan_json:
        render.write_stdout(doc)
    factors = plan.to_dict()["image_repeat_factor"]
    render.message(
        f"rebalance: {'plan' if f.dry_run else 'wrote ' + (f.output or 'stdout')}: "
        f"{plan.rows_before:,} → {plan.rows_after:,} rows (image repeat factors "
        f"{factors['min']:.2f}–{factors['max']:.2f}, mean {factors['mean']:.2f}; "
        f"repeat-factor:{threshold:g}, seed {f.seed})"
    )


_RESAMPLERS = {
    "single": _resample_single,
    "multi-label": _resample_multilabel,
    "regression": _resample_regression,
}
