"""``rebalance inspect``."""

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
    JsonOpt,
    LabelColsOpt,
    LabelOpt,
    ManifestArg,
    MaskClassesOpt,
    MaskColOpt,
    MaxImagePixelsOpt,
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
    _inputs,
    _label_cols,
    _list_labels,
    _missing_flags,
    _missing_policy,
    _path_text,
    _pixel_limit,
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


MinCountOpt = Annotated[
    int,
    typer.Option(
        "--min-count",
        min=1,
        help="Classes under this many rows are 'small'.",
        rich_help_panel="Columns and splits",
    ),
]

MaxRatioOpt = Annotated[
    float | None,
    typer.Option(
        "--max-ratio",
        min=1.0,
        help="Gate: exit 1 when max/min class count > R.",
        rich_help_panel="Gates",
    ),
]

FailOnSmallOpt = Annotated[
    bool,
    typer.Option(
        "--fail-on-small",
        help="Gate: exit 1 when a class is under --min-count.",
        rich_help_panel="Gates",
    ),
]

OutputFormatOpt = Annotated[
    InspectFormat,
    typer.Option(
        "--format", help="table (default), json, markdown or csv.", rich_help_panel="Output"
    ),
]

ShowAllOpt = Annotated[
    bool,
    typer.Option(
        "--all", help="List every class (default: top and bottom rows).", rich_help_panel="Output"
    ),
]

TopOpt = Annotated[
    int, typer.Option("--top", min=1, help="Rows shown at each end.", rich_help_panel="Output")
]

CheckFilesOpt = Annotated[
    bool,
    typer.Option(
        "--check-files",
        help="Open every image of the path column: missing, unreadable and corrupt files, "
        "sizes and modes.",
        rich_help_panel="Images",
    ),
]

FailOnBadFilesOpt = Annotated[
    bool,
    typer.Option(
        "--fail-on-bad-files",
        help="Gate (with --check-files): exit 1 when any file is missing, unreadable, corrupt or too large.",
        rich_help_panel="Gates",
    ),
]

MaxMeanirOpt = Annotated[
    float | None,
    typer.Option(
        "--max-meanir",
        min=1.0,
        help="Gate (multi-label): exit 1 when MeanIR > R.",
        rich_help_panel="Multi-label",
    ),
]

HtmlOpt = Annotated[
    str | None,
    typer.Option(
        "--html",
        help="Also write a self-contained HTML report here: the distribution as charts, a "
        "contact sheet per class (rarest first), bad files, mask pixels and overlays.",
        rich_help_panel="Output",
    ),
]

HtmlSeedOpt = Annotated[
    int,
    typer.Option(
        "--seed",
        min=0,
        max=2**32 - 1,
        help="Which images the --html report shows (same seed, same report).",
        rich_help_panel="Output",
    ),
]

BinsOpt = Annotated[
    int,
    typer.Option(
        "--bins",
        min=1,
        help="Regression: histogram bins (default 20).",
        rich_help_panel="Regression",
    ),
]


INSPECT_HELP = """Show the class distribution of a manifest and how imbalanced it is.

    Example:

        rebalance inspect train.parquet

        rebalance inspect train.csv --json | jq .imbalance_ratio

        cat manifest.csv | rebalance inspect - --label-col class

        rebalance inspect train.csv --max-ratio 50 --fail-on-small

        rebalance inspect tags.csv --multi-label --sep '|' --max-meanir 20

        rebalance inspect ages.csv --label-col age --regression --bins 20

        rebalance inspect images.csv --check-files --html report.html
"""


@app.command("inspect", help=INSPECT_HELP, cls=PanelCommand)
def inspect_command(
    ctx: typer.Context,
    manifest: ManifestArg,
    label_col: LabelOpt = None,
    split_col: SplitOpt = None,
    no_split: NoSplitOpt = False,
    min_count: MinCountOpt = 10,
    max_ratio: MaxRatioOpt = None,
    fail_on_small: FailOnSmallOpt = False,
    output_format: OutputFormatOpt = InspectFormat.table,
    json_out: JsonOpt = False,
    show_all: ShowAllOpt = False,
    top: TopOpt = 10,
    drop_missing: DropMissingOpt = False,
    strict: StrictOpt = False,
    input_format: InputFormatOpt = None,
    encoding: EncodingOpt = "utf-8",
    check_files: CheckFilesOpt = False,
    fail_on_bad_files: FailOnBadFilesOpt = False,
    path_col: PathColOpt = None,
    root: RootOpt = None,
    workers: WorkersOpt = None,
    max_image_pixels: MaxImagePixelsOpt = None,
    mask_col: MaskColOpt = None,
    mask_classes: MaskClassesOpt = None,
    multi_label: MultiLabelOpt = False,
    sep: SepOpt = None,
    label_cols: LabelColsOpt = None,
    max_meanir: MaxMeanirOpt = None,
    regression: RegressionOpt = False,
    bins: BinsOpt = 20,
    binning: BinningOpt = "width",
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
    html: HtmlOpt = None,
    seed: HtmlSeedOpt = 0,
) -> None:
    """``rebalance inspect``: the flags name the target kind, which reports; gates exit 1."""
    flags = SimpleNamespace(**{k: v for k, v in locals().items() if k != "ctx"})  # typed values
    flags.manifest = _path_text(manifest)
    _check_html(ctx, flags)
    with _pixel_limit(max_image_pixels, root, "keep" if check_files else "error"):
        failures = _INSPECTORS[_inspect_kind(ctx, flags)](ctx, flags)
    if failures:
        from rebalance import emit

        for failure in failures:
            emit.message(f"rebalance: gate failed: {failure}")
        raise typer.Exit(1)


def _check_html(ctx: typer.Context, f: SimpleNamespace) -> None:
    """``--html`` (and ``--seed``, which only chooses its images), before anything is read."""
    from rebalance.output import check_destinations

    if f.html is None:
        if _from_command_line(ctx, "seed"):
            raise RebalanceError("--seed chooses the images of the --html report: give --html too")
        return
    json_out = f.json_out or f.output_format is InspectFormat.json
    check_destinations(
        [("--json", "-" if json_out else None), ("--html", f.html)],
        _inputs(ctx, f.manifest, f.mask_classes),
    )


def _write_html(f: SimpleNamespace, what: Any) -> None:
    """The ``--html`` report (``what``: a :class:`rebalance.visual.inspect_page.PageInput`)."""
    if f.html is None:
        return
    from rebalance import render
    from rebalance.output import write_text
    from rebalance.visual.inspect_page import SheetOptions, inspect_html

    with render.progress("thumbnails") as bar:
        text = inspect_html(what, SheetOptions(seed=f.seed, workers=f.workers), step=bar.advance)
    write_text(f.html, text)
    if f.html != "-":
        render.message(f"rebalance: wrote the HTML report {f.html}")


def _page_images(f: SimpleNamespace, kind: str, label_col: str | None) -> Any:
    """The manifest's images for the contact sheet, when it is an image manifest."""
    from rebalance.visual.inspect_page import manifest_images

    if f.html is None or f.manifest == "-":
        return None
    return manifest_images(
        f.manifest, kind=kind, label_col=label_col, path_col=f.path_col, root=f.root,
        labels={"sep": f.sep, "label_cols": f.label_cols},
        input_format=f.input_format, encoding=f.encoding,
    )  # fmt: skip


def _page_masks(f: SimpleNamespace, scan: Any) -> dict[str, Any]:
    """The masks and class ids the overlays need (nothing without --mask-col)."""
    if f.html is None or scan is None or scan.pixels is None:
        return {}
    from rebalance.images.masks import read_mask_classes
    from rebalance.visual.inspect_page import mask_material

    names = read_mask_classes(f.mask_classes) if f.mask_classes else None
    shown, masks, ids = mask_material(
        f.manifest, f.mask_col, f.root, names, list(scan.pixels.counts),
        input_format=f.input_format, encoding=f.encoding,
    )  # fmt: skip
    return {"masks": masks, "mask_names": shown, "mask_ids": ids, "examples": scan.pixels.examples}


def _verdicts(gates: list[tuple[str, Any]]) -> list[tuple[str, str | None]]:
    """Each gate given and its first failure (``None``: passed), for the HTML report."""
    out: list[tuple[str, str | None]] = []
    for name, check in gates:
        failures = check()
        out.append((name, failures[0] if failures else None))
    return out


_NOT_FOR_REGRESSION = ("check_files", "mask_col", "multi_label", "sep", "label_cols",
                       "max_meanir", "max_ratio", "fail_on_small", "drop_missing")  # fmt: skip


def _on_disk(f: SimpleNamespace) -> bool:
    """Whether the input is an image dataset on disk (COCO, YOLO, VOC, class folders)."""
    from rebalance.manifest import resolve_source

    return resolve_source(f.manifest, input_format=f.input_format, encoding=f.encoding).layout


def _inspect_kind(ctx: typer.Context, f: SimpleNamespace) -> str:
    """``regression``, ``multi-label``, ``pixels`` (masks, no label column) or ``single``,
    chosen once; the options another kind owns are refused here."""
    if f.engine != "local" and (f.regression or f.multi_label or f.sep is not None or f.label_cols):
        raise RebalanceError(f"--engine {f.engine} counts single labels: leave it out here")
    if f.regression:
        for name in _NOT_FOR_REGRESSION:
            if _from_command_line(ctx, name):
                raise RebalanceError(f"--{name.replace('_', '-')} does not apply with --regression")
        f.split_col, f.no_split = _split_flags(ctx, f.split_col, f.no_split)
        return "regression"
    for name in ("bins", "binning"):
        if _from_command_line(ctx, name):
            raise RebalanceError(f"--{name} bins a regression target: give --regression too")
    f.label_cols = _label_cols(f.label_cols)
    if not (f.multi_label or f.sep is not None or f.label_cols):
        listed = _list_labels(f.manifest, f.label_col, f.input_format, f.encoding)
        f.multi_label, f.label_col = bool(listed) or f.multi_label, listed or f.label_col
    if f.multi_label or f.sep is not None or f.label_cols:
        if f.mask_col is not None:
            raise RebalanceError("--mask-col does not apply with --multi-label")
        if f.fail_on_bad_files and not f.check_files:
            raise RebalanceError(
                "--fail-on-bad-files gates the file checks: give --check-files too"
            )
        f.split_col, f.no_split = _split_flags(ctx, f.split_col, f.no_split)
        f.drop_missing, f.strict = _missing_flags(ctx, f.drop_missing, f.strict)
        return "multi-label"
    if f.max_meanir is not None:
        raise RebalanceError("--max-meanir gates multi-label data: give --multi-label too")
    if f.mask_classes is not None and f.mask_col is None:
        raise RebalanceError("--mask-classes names the values of --mask-col: give --mask-col too")
    if f.path_col is not None and not (f.check_files or f.mask_col):
        raise RebalanceError("--path-col applies with --check-files or --mask-col")
    if f.root is not None and not (f.check_files or f.mask_col or _on_disk(f)):
        raise RebalanceError(
            "--root applies with --check-files, --mask-col or an image dataset on disk"
        )
    if f.fail_on_bad_files and not f.check_files:
        raise RebalanceError("--fail-on-bad-files gates the file checks: give --check-files too")
    f.split_col, f.no_split = _split_flags(ctx, f.split_col, f.no_split)
    if f.mask_col is not None and f.label_col is None and not _has_label(f):
        return "pixels"  # an image + mask manifest needs no label column: pixels are classes
    return "single"


def _inspect_single(ctx: typer.Context, f: SimpleNamespace) -> list[str]:
    """One label per row: counts per class and split, file and mask scans, gates."""
    from rebalance import emit
    from rebalance.stats import gate_failures, inspect

    f.drop_missing, f.strict = _missing_flags(ctx, f.drop_missing, f.strict)
    runner = _engine(f.engine, f.scheduler)
    if runner is not None and (f.check_files or f.mask_col is not None):
        raise RebalanceError(
            "--check-files and --mask-col read images in this process: leave out --engine dask"
        )
    if f.json_out and f.output_format is not InspectFormat.table:
        pair = (("json_out", "--json", f.json_out), ("output_format", "--format", True))
        if _settle(ctx, *pair) == "json_out":
            f.json_out = False
    try:
        report = inspect(
            f.manifest, label_col=f.label_col, split_col=f.split_col,
            detect_split=not f.no_split, min_count=f.min_count,
            missing=_missing_policy(f.drop_missing, f.strict), input_format=f.input_format,
            encoding=f.encoding, engine=runner,
        )  # fmt: skip
    finally:
        _engine_done(runner)
    _say_about(report, f)
    scan = _scan(f) if f.check_files or f.mask_col is not None else None
    _show_single(report, scan, f)
    if scan is not None and scan.files is not None and scan.files.bad:
        emit.warn(_bad_files_line(scan.files))
    failures = gate_failures(report, max_ratio=f.max_ratio, fail_on_small=f.fail_on_small)
    if f.fail_on_bad_files and scan is not None:
        failures += _bad_files_gate(scan.files)
    if f.html is not None:
        from rebalance.visual.inspect_page import PageInput

        gates = [
            *([(f"--max-ratio {f.max_ratio:g}", lambda: gate_failures(report, max_ratio=f.max_ratio))]
              if f.max_ratio is not None else []),
            *([("--fail-on-small", lambda: gate_failures(report, fail_on_small=True))]
              if f.fail_on_small else []),
            *([("--fail-on-bad-files", lambda: _bad_files_gate(scan.files))]
              if f.fail_on_bad_files and scan is not None else []),
        ]  # fmt: skip
        _write_html(f, PageInput(
            report.to_dict(), "single", scan.to_dict() if scan else None, _verdicts(gates),
            _page_images(f, "single", report.label_col), **_page_masks(f, scan),
        ))  # fmt: skip
    return failures


def _say_about(report: Any, f: SimpleNamespace) -> None:
    """On stderr: the columns chosen, rows without a label, a label column in doubt."""
    from rebalance import emit
    from rebalance.regression.target import looks_like_regression
    from rebalance.stats import label_doubt

    if f.label_col is None:
        emit.message(f"rebalance: label column {report.label_col!r}")
    if f.split_col is None and report.split_col is not None:
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
    if looks_like_regression(list(report.overall.counts)):
        emit.warn(
            f"label column {report.label_col!r} holds {report.overall.classes:,} distinct numbers: "
            "if it is a quantity to predict, try --regression"
        )


def _show_single(report: Any, scan: Any, f: SimpleNamespace) -> None:
    """The report on stdout: JSON, Markdown, CSV or rich tables."""
    from rebalance import emit

    fmt = InspectFormat.json if f.json_out else f.output_format
    if fmt is InspectFormat.json:
        emit.write_stdout(emit.dump_json({**report.to_dict(), **(scan.to_dict() if scan else {})}))
        return
    if f.html == "-":
        return  # stdout holds the HTML report
    from rebalance import render  # rich, for people: never on the JSON path

    if fmt is InspectFormat.markdown:
        emit.write_stdout(render.inspect_markdown(report, top=f.top, show_all=f.show_all))
    elif fmt is InspectFormat.csv:
        emit.write_stdout(render.inspect_csv(report))
    else:
        render.print_inspect(report, top=f.top, show_all=f.show_all)
        if scan is not None:
            render.print_scan(scan, top=f.top, show_all=f.show_all)


def _inspect_regression(ctx: typer.Context, f: SimpleNamespace) -> list[str]:
    """``--regression``: the distribution of a numeric target, binned."""
    from rebalance import emit
    from rebalance.regression.stats import inspect_regression

    report = inspect_regression(
        f.manifest, label_col=f.label_col, bins=f.bins, binning=f.binning,
        split_col=f.split_col, detect_split=not f.no_split, input_format=f.input_format,
        encoding=f.encoding,
    )  # fmt: skip
    if f.label_col is None:
        emit.message(f"rebalance: target column {report.target_col!r}")
    fmt = InspectFormat.json if f.json_out else f.output_format
    if f.html is not None:
        from rebalance.visual.inspect_page import PageInput

        _write_html(f, PageInput(report.to_dict(), "regression"))
    if fmt is InspectFormat.json:
        emit.write_stdout(emit.dump_json(report.to_dict()))
        return []
    from rebalance.regression.render import print_regression, regression_csv, regression_markdown

    if f.html == "-":
        pass  # stdout holds the HTML report
    elif fmt is InspectFormat.markdown:
        emit.write_stdout(regression_markdown(report))
    elif fmt is InspectFormat.csv:
        emit.write_stdout(regression_csv(report))
    else:
        print_regression(report)
    return []


def _inspect_multilabel(ctx: typer.Context, f: SimpleNamespace) -> list[str]:
    """``--multi-label``: label frequencies, MeanIR and co-occurrence; its gates."""
    from rebalance import emit
    from rebalance.multilabel.stats import gate_failures, inspect_multilabel

    report = inspect_multilabel(
        f.manifest, label_col=f.label_col, sep=f.sep, label_cols=f.label_cols,
        split_col=f.split_col, detect_split=not f.no_split, min_count=f.min_count, top=f.top,
        strict=f.strict, drop_empty=f.drop_missing, input_format=f.input_format,
        encoding=f.encoding,
    )  # fmt: skip
    if report.split_col is not None and f.split_col is None:
        emit.message(f"rebalance: split column {report.split_col!r} (use --no-split to ignore it)")
    if report.overall.empty_rows:
        emit.message(
            f"rebalance: {report.overall.empty_rows:,} row(s) have no label; they count as empty "
            "label sets (--drop-missing leaves them out, --strict makes them an error)"
        )
    scan = _scan(f) if f.check_files else None
    fmt = InspectFormat.json if f.json_out else f.output_format
    if fmt is InspectFormat.json:
        emit.write_stdout(emit.dump_json({**report.to_dict(), **(scan.to_dict() if scan else {})}))
    elif f.html == "-":
        pass  # stdout holds the HTML report
    elif fmt is InspectFormat.markdown:
        from rebalance.multilabel.render import multilabel_markdown

        emit.write_stdout(multilabel_markdown(report, top=f.top, show_all=f.show_all))
    elif fmt is InspectFormat.csv:
        from rebalance.multilabel.render import multilabel_csv

        emit.write_stdout(multilabel_csv(report))
    else:
        from rebalance.multilabel.render import print_multilabel

        print_multilabel(report, top=f.top, show_all=f.show_all)
        if scan is not None:
            from rebalance import render

            render.print_scan(scan, top=f.top, show_all=f.show_all)
    if scan is not None and scan.files is not None and scan.files.bad:
        emit.warn(_bad_files_line(scan.files))
    failures = gate_failures(
        report, max_meanir=f.max_meanir, max_ratio=f.max_ratio, fail_on_small=f.fail_on_small
    )
    if f.html is not None:
        _multilabel_html(f, report, scan)
    return failures + (_bad_files_gate(scan.files) if f.fail_on_bad_files and scan else [])


def _multilabel_html(f: SimpleNamespace, report: Any, scan: Any) -> None:
    from rebalance.multilabel.stats import gate_failures
    from rebalance.visual.inspect_page import PageInput

    gates = [
        *([(f"--max-meanir {f.max_meanir:g}", lambda: gate_failures(report, max_meanir=f.max_meanir))]
          if f.max_meanir is not None else []),
        *([(f"--max-ratio {f.max_ratio:g}", lambda: gate_failures(report, max_ratio=f.max_ratio))]
          if f.max_ratio is not None else []),
        *([("--fail-on-small", lambda: gate_failures(report, fail_on_small=True))]
          if f.fail_on_small else []),
        *([("--fail-on-bad-files", lambda: _bad_files_gate(scan.files))]
          if f.fail_on_bad_files and scan is not None else []),
    ]  # fmt: skip
    columns = report.to_dict().get("label_columns") or [None]
    label_col = f.label_col if f.label_col is not None else columns[0]
    _write_html(f, PageInput(
        report.to_dict(), "multi-label", scan.to_dict() if scan else None, _verdicts(gates),
        _page_images(f, "multi-label", label_col),
    ))  # fmt: skip


def _has_label(f: SimpleNamespace) -> bool:
    from rebalance.manifest import LABEL_CANDIDATES, read_columns, resolve_source

    if f.manifest == "-":
        return True
    source = resolve_source(f.manifest, input_format=f.input_format, encoding=f.encoding)
    return any(c.lower() in LABEL_CANDIDATES for c in read_columns(source))


def _scan(f: SimpleNamespace) -> Any:
    from rebalance import render
    from rebalance.images.scan import scan_images

    with render.progress("reading images") as bar:
        return scan_images(
            f.manifest, check=f.check_files, path_col=f.path_col, mask_col=f.mask_col,
            mask_classes=f.mask_classes, root=f.root, workers=f.workers,
            input_format=f.input_format, encoding=f.encoding, step=bar.advance,
            examples=2 if f.html is not None else 0, seed=f.seed,
        )  # fmt: skip


def _bad_files_line(files: Any) -> str:
    parts = [
        f"{len(files.missing):,} missing",
        f"{len(files.unreadable):,} unreadable",
        f"{len(files.corrupt):,} corrupt",
        *([f"{len(files.too_large):,} too large"] if files.too_large else []),
    ]
    first = (files.missing + files.unreadable + files.corrupt + files.too_large)[:5]
    return (
        f"{files.bad:,} of {files.rows:,} image file(s) are bad ({', '.join(parts)}): "
        f"{', '.join(first)}{', …' if files.bad > len(first) else ''} (--json lists them all)"
    )


def _bad_files_gate(files: Any) -> list[str]:
    """The --fail-on-bad-files gate: one failure line when any file is bad."""
    if files is None or not files.bad:
        return []
    return [f"{files.bad:,} bad image file(s) of {files.rows:,} (--fail-on-bad-files)"]


def _inspect_pixels_only(ctx: typer.Context, f: SimpleNamespace) -> list[str]:
    """Images and masks without a label column: the pixels are the classes."""
    from rebalance import render

    scan = _scan(f)
    if f.html is not None:
        from rebalance.visual.inspect_page import PageInput

        gates = [("--fail-on-bad-files", lambda: _bad_files_gate(scan.files))]
        _write_html(f, PageInput(
            {"source": scan.source}, "pixels", scan.to_dict(),
            _verdicts(gates if f.fail_on_bad_files else []),
            _page_images(f, "pixels", None), **_page_masks(f, scan),
        ))  # fmt: skip
    if f.json_out or f.output_format is InspectFormat.json:
        render.write_stdout(render.dump_json({"source": scan.source, **scan.to_dict()}))
    elif f.html == "-":
        pass  # stdout holds the HTML report
    elif f.output_format is not InspectFormat.table:
        raise RebalanceError("--format markdown and csv need a label column; use --json")
    else:
        render.print_scan(scan, top=f.top, show_all=f.show_all)
    if scan.files is not None and scan.files.bad:
        render.warn(_bad_files_line(scan.files))
    return _bad_files_gate(scan.files) if f.fail_on_bad_files else []


_INSPECTORS = {
    "single": _inspect_single,
    "pixels": _inspect_pixels_only,
    "multi-label": _inspect_multilabel,
    "regression": _inspect_regression,
}
