"""``rebalance inspect``."""

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
    JsonOpt,
    LabelColsOpt,
    LabelOpt,
    ManifestArg,
    MaskClassesOpt,
    MaskColOpt,
    MultiLabelOpt,
    NoSplitOpt,
    PathColOpt,
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
    _label_cols,
    _missing_flags,
    _missing_policy,
    _path_text,
    _settle,
    _split_flags,
)
from rebalance.errors import RebalanceError

# ---------------------------------------------------------------- inspect


class InspectFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    csv = "csv"


@app.command("inspect")
def inspect_command(
    ctx: typer.Context,
    manifest: ManifestArg,
    label_col: LabelOpt = None,
    split_col: SplitOpt = None,
    no_split: NoSplitOpt = False,
    min_count: Annotated[
        int, typer.Option("--min-count", min=1, help="Classes under this many rows are 'small'.")
    ] = 10,
    max_ratio: Annotated[
        float | None,
        typer.Option("--max-ratio", min=1.0, help="Gate: exit 1 when max/min class count > R."),
    ] = None,
    fail_on_small: Annotated[
        bool,
        typer.Option("--fail-on-small", help="Gate: exit 1 when a class is under --min-count."),
    ] = False,
    output_format: Annotated[
        InspectFormat, typer.Option("--format", help="table (default), json, markdown or csv.")
    ] = InspectFormat.table,
    json_out: JsonOpt = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="List every class (default: top and bottom rows).")
    ] = False,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows shown at each end.")] = 10,
    drop_missing: DropMissingOpt = False,
    strict: StrictOpt = False,
    input_format: InputFormatOpt = None,
    encoding: EncodingOpt = "utf-8",
    check_files: Annotated[
        bool,
        typer.Option(
            "--check-files",
            help="Open every image of the path column: missing, unreadable and corrupt files, "
            "sizes and modes.",
        ),
    ] = False,
    fail_on_bad_files: Annotated[
        bool,
        typer.Option(
            "--fail-on-bad-files",
            help="Gate (with --check-files): exit 1 when any file is missing, unreadable or corrupt.",
        ),
    ] = False,
    path_col: PathColOpt = None,
    root: RootOpt = None,
    workers: WorkersOpt = None,
    mask_col: MaskColOpt = None,
    mask_classes: MaskClassesOpt = None,
    multi_label: MultiLabelOpt = False,
    sep: SepOpt = None,
    label_cols: LabelColsOpt = None,
    max_meanir: Annotated[
        float | None,
        typer.Option("--max-meanir", min=1.0, help="Gate (multi-label): exit 1 when MeanIR > R."),
    ] = None,
    regression: RegressionOpt = False,
    bins: Annotated[
        int, typer.Option("--bins", min=1, help="Regression: histogram bins (default 20).")
    ] = 20,
    binning: BinningOpt = "width",
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
) -> None:
    """Show the class distribution of a manifest and how imbalanced it is.

    Example:

        rebalance inspect train.parquet

        rebalance inspect train.csv --json | jq .imbalance_ratio

        cat manifest.csv | rebalance inspect - --label-col class

        rebalance inspect train.csv --max-ratio 50 --fail-on-small

        rebalance inspect tags.csv --multi-label --sep '|' --max-meanir 20

        rebalance inspect ages.csv --label-col age --regression --bins 20
    """
    manifest = _path_text(manifest)  # type: ignore[assignment]
    from rebalance import emit
    from rebalance.stats import gate_failures, inspect, label_doubt

    if engine != "local" and (regression or multi_label or sep is not None or label_cols):
        raise RebalanceError(f"--engine {engine} counts single labels: leave it out here")
    if regression:
        for name in ("check_files", "mask_col", "multi_label", "sep", "label_cols", "max_meanir",
                     "max_ratio", "fail_on_small", "drop_missing"):  # fmt: skip
            if _from_command_line(ctx, name):
                flag = "--" + name.replace("_", "-")
                raise RebalanceError(f"{flag} does not apply with --regression")
        split_col, no_split = _split_flags(ctx, split_col, no_split)
        fmt = InspectFormat.json if json_out else output_format
        _inspect_regression(manifest, label_col, split_col, no_split, bins, binning, fmt,
                            input_format, encoding)  # fmt: skip
        return
    for name in ("bins", "binning"):
        if _from_command_line(ctx, name):
            raise RebalanceError(f"--{name} bins a regression target: give --regression too")

    label_cols = _label_cols(label_cols)
    if multi_label or sep is not None or label_cols:
        if check_files or mask_col is not None:
            raise RebalanceError("--check-files and --mask-col do not apply with --multi-label")
        split_col, no_split = _split_flags(ctx, split_col, no_split)
        drop_missing, strict = _missing_flags(ctx, drop_missing, strict)
        fmt = InspectFormat.json if json_out else output_format
        _inspect_multilabel(manifest, label_col, sep, label_cols, split_col, no_split,
                            min_count, top, show_all, fmt, drop_missing, strict, input_format,
                            encoding, max_meanir, max_ratio, fail_on_small)  # fmt: skip
        return
    if max_meanir is not None:
        raise RebalanceError("--max-meanir gates multi-label data: give --multi-label too")

    if mask_classes is not None and mask_col is None:
        raise RebalanceError("--mask-classes names the values of --mask-col: give --mask-col too")
    if (path_col is not None or root is not None) and not (check_files or mask_col):
        raise RebalanceError("--path-col and --root apply with --check-files or --mask-col")
    if fail_on_bad_files and not check_files:
        raise RebalanceError("--fail-on-bad-files gates the file checks: give --check-files too")
    split_col, no_split = _split_flags(ctx, split_col, no_split)
    if (
        mask_col is not None
        and label_col is None
        and not _has_label(manifest, input_format, encoding)
    ):
        # an image + mask manifest needs no label column: the pixels are the classes
        _inspect_pixels_only(manifest, mask_col, mask_classes, root, workers, check_files,
                             path_col, output_format, json_out, top, show_all, input_format,
                             encoding, fail_on_bad_files)  # fmt: skip
        return
    drop_missing, strict = _missing_flags(ctx, drop_missing, strict)
    runner = _engine(engine, scheduler)
    if runner is not None and (check_files or mask_col is not None):
        raise RebalanceError(
            "--check-files and --mask-col read images in this process: leave out --engine dask"
        )
    if json_out and output_format is not InspectFormat.table:
        if (
            _settle(ctx, ("json_out", "--json", json_out), ("output_format", "--format", True))
            == "json_out"
        ):
            json_out = False
    try:
        report = inspect(
            manifest,
            label_col=label_col,
            split_col=split_col,
            detect_split=not no_split,
            min_count=min_count,
            missing=_missing_policy(drop_missing, strict),
            input_format=input_format,
            encoding=encoding,
            engine=runner,
        )
    finally:
        _engine_done(runner)
    if label_col is None:
        emit.message(f"rebalance: label column {report.label_col!r}")
    if split_col is None and report.split_col is not None:
        emit.message(f"rebalance: split column {report.split_col!r} (use --no-split to ignore it)")
    if report.overall.missing_labels:
        emit.warn(
            f"{report.overall.missing_labels:,} row(s) have no label "
            f"(first at data row {report.first_missing_row}); --drop-missing leaves them out"
        )
    if report.overall.classes == 1:
        emit.warn("only one class: there is nothing to balance")
    doubt = label_doubt(report.label_col, report.overall.counts)
    if doubt is not None:
        emit.warn(doubt)
    from rebalance.regression.target import looks_like_regression

    if looks_like_regression(list(report.overall.counts)):
        emit.warn(
            f"label column {report.label_col!r} holds {report.overall.classes:,} distinct numbers: "
            "if it is a quantity to predict, try --regression"
        )
    scan = None
    if check_files or mask_col is not None:
        scan = _scan(manifest, check_files, path_col, mask_col, mask_classes, root, workers,
                     input_format, encoding)  # fmt: skip
    fmt = InspectFormat.json if json_out else output_format
    if fmt is InspectFormat.json:
        emit.write_stdout(emit.dump_json({**report.to_dict(), **(scan.to_dict() if scan else {})}))
    else:
        from rebalance import render  # rich, for people: never on the JSON path

        if fmt is InspectFormat.markdown:
            emit.write_stdout(render.inspect_markdown(report, top=top, show_all=show_all))
        elif fmt is InspectFormat.csv:
            emit.write_stdout(render.inspect_csv(report))
        else:
            render.print_inspect(report, top=top, show_all=show_all)
            if scan is not None:
                render.print_scan(scan, top=top, show_all=show_all)
    if scan is not None and scan.files is not None and scan.files.bad:
        emit.warn(_bad_files_line(scan.files))
    failures = gate_failures(report, max_ratio=max_ratio, fail_on_small=fail_on_small)
    if fail_on_bad_files and scan is not None:
        failures += _bad_files_gate(scan.files)
    for failure in failures:
        emit.message(f"rebalance: gate failed: {failure}")
    if failures:
        raise typer.Exit(1)


def _inspect_regression(manifest, label_col, split_col, no_split, bins, binning, fmt,
                        input_format, encoding) -> None:  # fmt: skip
    from rebalance import emit
    from rebalance.regression.stats import inspect_regression

    report = inspect_regression(
        manifest,
        label_col=label_col,
        bins=bins,
        binning=binning,
        split_col=split_col,
        detect_split=not no_split,
        input_format=input_format,
        encoding=encoding,
    )
    if label_col is None:
        emit.message(f"rebalance: target column {report.target_col!r}")
    if fmt is InspectFormat.json:
        emit.write_stdout(emit.dump_json(report.to_dict()))
        return
    from rebalance.regression.render import print_regression, regression_csv, regression_markdown

    if fmt is InspectFormat.markdown:
        emit.write_stdout(regression_markdown(report))
    elif fmt is InspectFormat.csv:
        emit.write_stdout(regression_csv(report))
    else:
        print_regression(report)


def _inspect_multilabel(manifest, label_col, sep, label_cols, split_col, no_split, min_count,
                        top, show_all, fmt, drop_missing, strict, input_format, encoding,
                        max_meanir, max_ratio, fail_on_small) -> None:  # fmt: skip
    from rebalance import emit
    from rebalance.multilabel.stats import gate_failures, inspect_multilabel

    report = inspect_multilabel(
        manifest,
        label_col=label_col,
        sep=sep,
        label_cols=label_cols,
        split_col=split_col,
        detect_split=not no_split,
        min_count=min_count,
        top=top,
        strict=strict,
        drop_empty=drop_missing,
        input_format=input_format,
        encoding=encoding,
    )
    if report.split_col is not None and split_col is None:
        emit.message(f"rebalance: split column {report.split_col!r} (use --no-split to ignore it)")
    if report.overall.empty_rows:
        emit.message(
            f"rebalance: {report.overall.empty_rows:,} row(s) have no label; they count as empty "
            "label sets (--drop-missing leaves them out, --strict makes them an error)"
        )
    if fmt is InspectFormat.json:
        emit.write_stdout(emit.dump_json(report.to_dict()))
    elif fmt is InspectFormat.markdown:
        from rebalance.multilabel.render import multilabel_markdown

        emit.write_stdout(multilabel_markdown(report, top=top, show_all=show_all))
    elif fmt is InspectFormat.csv:
        from rebalance.multilabel.render import multilabel_csv

        emit.write_stdout(multilabel_csv(report))
    else:
        from rebalance.multilabel.render import print_multilabel

        print_multilabel(report, top=top, show_all=show_all)
    failures = gate_failures(
        report, max_meanir=max_meanir, max_ratio=max_ratio, fail_on_small=fail_on_small
    )
    for failure in failures:
        emit.message(f"rebalance: gate failed: {failure}")
    if failures:
        raise typer.Exit(1)


def _has_label(manifest: Any, input_format: str | None, encoding: str) -> bool:
    from rebalance.manifest import LABEL_CANDIDATES, read_columns, resolve_source

    if manifest == "-":
        return True
    names = read_columns(resolve_source(manifest, input_format=input_format, encoding=encoding))
    return any(c.lower() in LABEL_CANDIDATES for c in names)


def _scan(
    manifest, check_files, path_col, mask_col, mask_classes, root, workers, input_format, encoding
):
    from rebalance import render
    from rebalance.images.scan import scan_images

    with render.progress("reading images") as bar:
        return scan_images(
            manifest,
            check=check_files,
            path_col=path_col,
            mask_col=mask_col,
            mask_classes=mask_classes,
            root=root,
            workers=workers,
            input_format=input_format,
            encoding=encoding,
            step=bar.advance,
        )


def _bad_files_line(files: Any) -> str:
    parts = [
        f"{len(files.missing):,} missing",
        f"{len(files.unreadable):,} unreadable",
        f"{len(files.corrupt):,} corrupt",
    ]
    first = (files.missing + files.unreadable + files.corrupt)[:5]
    return (
        f"{files.bad:,} of {files.rows:,} image file(s) are bad ({', '.join(parts)}): "
        f"{', '.join(first)}{', …' if files.bad > len(first) else ''} (--json lists them all)"
    )


def _bad_files_gate(files: Any) -> list[str]:
    """The --fail-on-bad-files gate: one failure line when any file is bad."""
    if files is None or not files.bad:
        return []
    return [f"{files.bad:,} bad image file(s) of {files.rows:,} (--fail-on-bad-files)"]


def _inspect_pixels_only(manifest, mask_col, mask_classes, root, workers, check_files, path_col,
                         output_format, json_out, top, show_all, input_format, encoding,
                         fail_on_bad_files):  # fmt: skip
    from rebalance import render

    scan = _scan(manifest, check_files, path_col, mask_col, mask_classes, root, workers,
                 input_format, encoding)  # fmt: skip
    if json_out or output_format is InspectFormat.json:
        render.write_stdout(render.dump_json({"source": scan.source, **scan.to_dict()}))
    elif output_format is not InspectFormat.table:
        raise RebalanceError("--format markdown and csv need a label column; use --json")
    else:
        render.print_scan(scan, top=top, show_all=show_all)
    if scan.files is not None and scan.files.bad:
        render.warn(_bad_files_line(scan.files))
    failures = _bad_files_gate(scan.files) if fail_on_bad_files else []
    for failure in failures:
        render.message(f"rebalance: gate failed: {failure}")
    if failures:
        raise typer.Exit(1)
