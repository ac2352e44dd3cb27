"""The ``rebalance`` command line: parse flags, call one library function, render.

Module-level imports are the standard library and typer only, so that
``rebalance --help`` starts fast; each command imports what it needs.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from rebalance._version import __version__
from rebalance.errors import RebalanceError, RebalanceWarning
from rebalance.text import printable


class _Group(TyperGroup):
    """The one seam where failures become one line on stderr.

    A :class:`RebalanceError` (bad input) and a usage error (unknown flag, bad value)
    both print ``rebalance: error: ...`` and exit 2; a :class:`RebalanceWarning`
    prints one ``rebalance: warning: ...`` line. Control characters from user data
    are shown escaped.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        import warnings

        standalone = kwargs.pop("standalone_mode", True)
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning  # type: ignore[assignment]
            try:
                code = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
            except typer.Abort:
                typer.echo("rebalance: aborted", err=True)
                code = 1
            except Exception as exc:
                if not _is_usage_error(exc):
                    raise
                if type(exc).__name__ == "NoArgsIsHelpError":  # bare `rebalance`: the help
                    typer.echo(exc.format_message(), err=True)  # type: ignore[attr-defined]
                    return _exit(2, standalone)
                typer.echo(f"rebalance: error: {_usage_line(exc)}", err=True)
                code = 2
        return _exit(code if isinstance(code, int) else 0, standalone)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except RebalanceError as exc:
            typer.echo(f"rebalance: error: {printable(str(exc))}", err=True)
            raise typer.Exit(2) from None


def _exit(code: int, standalone: bool) -> int:
    if standalone:
        sys.exit(code)
    return code


def _is_usage_error(exc: BaseException) -> bool:
    # typer vendors click and exports none of its exception classes but BadParameter:
    # the usage errors are the exceptions that carry an exit code and a formatted message
    return hasattr(exc, "exit_code") and hasattr(exc, "format_message") and hasattr(exc, "show")


def _usage_line(exc: Any) -> str:
    """A usage error as one line, with the hint to the command's --help."""
    text = " ".join(str(exc.format_message()).split())
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "rebalance"
    return printable(f"{text} (see '{path} --help')")


def _show_warning(message: Any, category: Any, filename: Any, lineno: Any, *rest: Any) -> None:
    if issubclass(category, RebalanceWarning):
        typer.echo(f"rebalance: warning: {printable(str(message))}", err=True)
    else:
        typer.echo(f"rebalance: warning: {printable(str(message))} ({category.__name__})", err=True)


app = typer.Typer(
    cls=_Group,
    name="rebalance",
    help="Fix class imbalance in ML datasets: inspect, resample, weights, evaluate.",
    no_args_is_help=True,
    # help texts hold literal brackets ([resample], recall[fraud]): no rich markup
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish)
    context_settings={"help_option_names": ["-h", "--help"]},
)


# ---------------------------------------------------------------- shared options

# Path-typed, so shells complete file names; each command turns it back into text
ManifestArg = Annotated[
    Path, typer.Argument(help="Manifest file (CSV, TSV, Parquet, JSONL; .gz ok), or - for stdin.")
]


def _path_text(value: Any) -> str:
    """The argument as typed: a Path argument folds ``s3://b/k`` to ``s3:/b/k``; undo that."""
    import re

    text = str(value)
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):/(?!/)", text)
    if match and match.group(1).lower() != "file" and len(match.group(1)) > 1:
        return f"{match.group(1)}://{text[len(match.group(0)) :]}"
    return text


LabelOpt = Annotated[
    str | None,
    typer.Option(
        "--label-col",
        help="Label column. Default: the one of label/class/target/y/category present.",
    ),
]
SplitOpt = Annotated[
    str | None,
    typer.Option("--split-col", help="Split column (train/val/test). Default: 'split' if present."),
]
NoSplitOpt = Annotated[bool, typer.Option("--no-split", help="Ignore any split column.")]
InputFormatOpt = Annotated[
    str | None,
    typer.Option("--input-format", help="csv, tsv, parquet or jsonl; overrides the extension."),
]
EncodingOpt = Annotated[
    str, typer.Option("--encoding", help="Text encoding of CSV/TSV/JSONL input.")
]
DropMissingOpt = Annotated[
    bool, typer.Option("--drop-missing", help="Leave out rows whose label is empty or null.")
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Make rows without a label an error (exit 2).")
]
OutputOpt = Annotated[
    str | None,
    typer.Option("--output", "-o", help="Write here (atomically) instead of stdout; - is stdout."),
]
OutputFormatOpt = Annotated[
    str | None,
    typer.Option("--output-format", help="csv, tsv, parquet or jsonl; overrides the -o extension."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
PathColOpt = Annotated[
    str | None,
    typer.Option(
        "--path-col",
        help="Image path column. Default: the one of path/file/filepath/image/filename/image_path.",
    ),
]
RootOpt = Annotated[
    str | None,
    typer.Option(
        "--root", help="Folder relative image paths start from (default: the manifest's)."
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Parallel image readers (default: every core)."),
]
MaskColOpt = Annotated[
    str | None,
    typer.Option("--mask-col", help="Segmentation mask column: pixel values are class ids."),
]
MaskClassesOpt = Annotated[
    str | None,
    typer.Option(
        "--mask-classes", help='JSON {"id": "name"} (or a list by id) naming mask values.'
    ),
]
SeedOpt = Annotated[
    int,
    typer.Option(
        "--seed",
        min=0,
        max=2**32 - 1,
        help="Seed, 0..2^32-1: same input + same seed → same output.",
    ),
]

MultiLabelOpt = Annotated[
    bool,
    typer.Option(
        "--multi-label",
        help="Rows hold several labels: a list column, text split on --sep, or --label-cols.",
    ),
]
SepOpt = Annotated[
    str | None,
    typer.Option(
        "--sep", help="Text between the labels of one cell, e.g. '|' (implies --multi-label)."
    ),
]
LabelColsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--label-cols",
        help="0/1 columns, one per label: names or globs, repeatable or comma-separated "
        "(implies --multi-label).",
    ),
]

EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        help="local (in-process, default) or dask (pip install 'rebalance[dask]'; Parquet).",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="--engine dask: scheduler address (default DASK_SCHEDULER_ADDRESS, else a local cluster).",
    ),
]


def _engine(engine: str, scheduler: str | None) -> Any:
    """The engine the flags ask for (checked before any reading)."""
    if scheduler is not None and engine != "dask":
        raise RebalanceError("--scheduler applies with --engine dask")
    if engine == "local":
        return None
    from rebalance.engine import get_engine

    if engine != "dask":
        get_engine(engine)  # the error names the engines
    from rebalance.engine.dask import DaskEngine

    return DaskEngine(scheduler)


def _engine_done(engine: Any) -> None:
    if engine is None:
        return
    from rebalance import emit

    for message in getattr(engine, "messages", []):
        emit.message(f"rebalance: {message}")
    engine.close()


RegressionOpt = Annotated[
    bool,
    typer.Option("--regression", help="The label column is a number (age, price): bin it."),
]
BinningOpt = Annotated[
    str,
    typer.Option("--binning", help="Regression bins: width (equal width, default) or quantile."),
]


def _label_cols(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part for value in values for part in value.split(",") if part]


# the training manifest and score columns, as evaluate and adjust read them
TrainLabelColOpt = Annotated[
    str | None, typer.Option("--train-label-col", help="Label column of --train-manifest.")
]
TrainSplitOpt = Annotated[
    str | None,
    typer.Option(
        "--train-split",
        help="Split of --train-manifest that was trained on (default: train, when it has a split column).",
    ),
]
TrainSplitColOpt = Annotated[
    str | None,
    typer.Option("--train-split-col", help="Split column of --train-manifest (default: split)."),
]
ProbaColsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--proba-cols", help="Per-class score columns, e.g. A,B,C (named as the classes)."
    ),
]


def _inputs(ctx: typer.Context, *paths: Any) -> list[Any]:
    """The files a command reads: its own, plus the --config preset."""
    root = ctx.find_root()
    return [*paths, root.params.get("config")]


METHOD_NAMES = (
    "random", "smote", "borderline-smote", "svm-smote", "adasyn", "smotenc", "smoten",
    "kmeans-smote", "near-miss", "tomek", "enn", "renn", "allknn", "one-sided-selection",
    "neighbourhood-cleaning", "condensed-nearest-neighbour", "cluster-centroids", "instance-hardness", "smote-tomek",
    "smote-enn", "cluster", "dedup", "augment",
)  # fmt: skip


def _complete_method(incomplete: str) -> list[str]:
    """Shell completion of --method (the list is checked against the library by a test)."""
    return [m for m in METHOD_NAMES if m.startswith(incomplete)]


def _from_command_line(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def _settle(ctx: typer.Context, first: tuple[str, str, Any], second: tuple[str, str, Any]) -> Any:
    """Two options that exclude each other, each ``(parameter, flag, value)``.

    Both given on the command line: exit 2. One from a ``--config`` preset and the
    other on the command line: the command line wins, and the preset's is dropped.
    Returns the name of the parameter to drop (or ``None``); ``ctx.params`` is updated.
    """
    (a, flag_a, value_a), (b, flag_b, value_b) = first, second
    if not (value_a and value_b):
        return None
    cli_a, cli_b = _from_command_line(ctx, a), _from_command_line(ctx, b)
    if cli_a == cli_b:
        raise RebalanceError(f"{flag_a} and {flag_b} cannot be used together")
    return b if cli_a else a


def _missing_policy(drop_missing: bool, strict: bool) -> str:
    return "drop" if drop_missing else "error" if strict else "keep"


def _split_flags(ctx: typer.Context, split_col: str | None, no_split: bool) -> tuple[Any, bool]:
    """--split-col and --no-split, settled (see :func:`_settle`)."""
    dropped = _settle(
        ctx, ("split_col", "--split-col", split_col), ("no_split", "--no-split", no_split)
    )
    return (None if dropped == "split_col" else split_col), (
        False if dropped == "no_split" else no_split
    )


def _missing_flags(ctx: typer.Context, drop_missing: bool, strict: bool) -> tuple[bool, bool]:
    """--drop-missing and --strict, settled (see :func:`_settle`)."""
    dropped = _settle(
        ctx, ("drop_missing", "--drop-missing", drop_missing), ("strict", "--strict", strict)
    )
    return drop_missing and dropped != "drop_missing", strict and dropped != "strict"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rebalance {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            help="TOML preset whose [inspect]/[resample]/[weights]/[evaluate] tables set defaults; "
            "flags given here win.",
        ),
    ] = None,
    storage_option: Annotated[
        list[str] | None,
        typer.Option(
            "--storage-option",
            help="KEY=VALUE for s3:// URLs (endpoint_url, region, access_key, secret_key, "
            "session_token, anonymous); repeatable.",
        ),
    ] = None,
) -> None:
    """Fix class imbalance in ML datasets.

    Exit status: 0 ok, 1 a gate failed, 2 bad usage or bad input.
    """
    from rebalance.storage import set_options

    try:
        set_options(storage_option or [])
    except RebalanceError as exc:
        typer.echo(f"rebalance: error: {printable(str(exc))}", err=True)
        raise typer.Exit(2) from None
    if config is None:
        return
    from rebalance.config import check_preset, load_preset

    try:
        preset = load_preset(config)
        commands = getattr(ctx.command, "commands", {})
        # a key is an option's name (format, max_ratio) or its parameter's (output_format)
        keys: dict[str, dict[str, str]] = {}
        for name, cmd in commands.items():
            keys[name] = {}
            for param in cmd.params:
                if not param.name:
                    continue
                keys[name][param.name] = param.name
                for opt in getattr(param, "opts", []):
                    if opt.startswith("--"):
                        keys[name].setdefault(opt[2:].replace("-", "_"), param.name)
        check_preset(config, preset, {name: list(k) for name, k in keys.items()})
    except RebalanceError as exc:
        typer.echo(f"rebalance: error: {printable(str(exc))}", err=True)
        raise typer.Exit(2) from None
    ctx.default_map = {
        command: {keys[command][key]: value for key, value in table.items()}
        for command, table in preset.items()
    }


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


def _write_table(table, source, target, out_format, paths="relative") -> None:
    """A manifest written as the command's output: its relative paths rewritten for the
    output's folder (:mod:`rebalance.relocate`), in the input's format on stdout."""
    from rebalance import render
    from rebalance.manifest import resolve_destination, write_manifest
    from rebalance.relocate import relocate_table

    default_format = source.format if target == "-" else None
    dest = resolve_destination(target, output_format=out_format or default_format)
    table, note = relocate_table(table, source.path, dest.path, mode=paths)
    if note is not None:
        render.message(f"rebalance: {note}")
    write_manifest(table, dest)


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


@app.command("advise")
def advise_command(
    ctx: typer.Context,
    manifest: ManifestArg,
    features: Annotated[
        list[str] | None,
        typer.Option(
            "--features",
            help="Feature columns (names or globs, repeatable), or one list column of embeddings. Default: every numeric column.",
        ),
    ] = None,
    image_features: Annotated[
        str | None,
        typer.Option(
            "--image-features", help="Use image descriptors of the path column: builtin or cnn."
        ),
    ] = None,
    label_col: LabelOpt = None,
    split_col: SplitOpt = None,
    no_split: NoSplitOpt = False,
    from_split: Annotated[
        str | None,
        typer.Option(
            "--from-split",
            help="Split whose rows are used (default: train, when there is a split column).",
        ),
    ] = None,
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="Rank by: balanced_accuracy, macro_f1, g_mean, minority_recall or pr_auc (threshold moving tunes for it too).",
        ),
    ] = "balanced_accuracy",
    model: Annotated[
        str,
        typer.Option(
            "--model", help="logreg (standardised logistic regression) or hgb (gradient boosting)."
        ),
    ] = "logreg",
    folds: Annotated[int, typer.Option("--folds", min=2, help="Stratified folds.")] = 5,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Repeats of the k folds.")] = 2,
    seed: SeedOpt = 0,
    remedies: Annotated[
        list[str] | None,
        typer.Option(
            "--remedies",
            help="Remedies to score (comma-separated or repeatable; none is always scored). Default: all.",
        ),
    ] = None,
    n_jobs: Annotated[
        int | None, typer.Option("--n-jobs", help="Folds fitted in parallel (-1: every core).")
    ] = None,
    max_rows: Annotated[
        int,
        typer.Option(
            "--max-rows",
            min=100,
            help="Above this, a stratified sample of it is used (with a warning).",
        ),
    ] = 200_000,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write the JSON result here.")
    ] = None,
    json_out: JsonOpt = False,
    html_out: Annotated[
        str | None, typer.Option("--html", help="Write a self-contained HTML chart here.")
    ] = None,
    path_col: PathColOpt = None,
    root: RootOpt = None,
    workers: WorkersOpt = None,
    drop_missing: DropMissingOpt = False,
    input_format: InputFormatOpt = None,
    encoding: EncodingOpt = "utf-8",
) -> None:
    """Which remedy helps on your data: each one cross-validated inside the training folds.

    Example:

        rebalance advise train.csv --features 'f*' --metric balanced_accuracy

        rebalance advise emb.parquet --features embedding --model hgb --folds 5 --json

        rebalance advise fraud.csv --remedies smote,balanced-weights --html advice.html
    """
    from rebalance import emit
    from rebalance.advise import advise_file
    from rebalance.output import check_destinations, staged, write_text

    source = _path_text(manifest)
    destinations = [("-o", output), ("--json", "-" if json_out else None), ("--html", html_out)]
    check_destinations(destinations, _inputs(ctx, source))
    data_on_stdout = json_out or output == "-"
    result = advise_file(
        source,
        features=features,
        image_features=image_features,
        label_col=label_col,
        split_col=split_col,
        detect_split=not no_split,
        from_split=from_split,
        path_col=path_col,
        root=root,
        workers=workers,
        max_rows=max_rows,
        drop_missing=drop_missing,
        input_format=input_format,
        encoding=encoding,
        estimate=True,
        messages=emit.message,
        remedies=remedies,
        model=model,
        folds=folds,
        repeats=repeats,
        seed=seed,
        metric=metric,
        n_jobs=n_jobs,
    )
    doc = result.to_dict()
    html = None
    if html_out:
        from rebalance.advise_html import render_advice_html

        html = render_advice_html(doc)
    with staged():
        if output:
            write_text(output, emit.dump_json(doc))
        if json_out:
            emit.write_stdout(emit.dump_json(doc))
        if html_out and html is not None:
            write_text(html_out, html)
    emit.message(f"rebalance: advise took {result.seconds:.1f} s")
    if not data_on_stdout:
        from rebalance import render

        render.print_advice(doc)


class EstimateMethod(StrEnum):
    em = "em"
    bbse = "bbse"


@app.command("evaluate")
def evaluate_command(
    ctx: typer.Context,
    predictions: Annotated[
        list[str],
        typer.Argument(
            help="Predictions file(s); several are compared side by side (delta against the first)."
        ),
    ],
    true_col: Annotated[
        str | None,
        typer.Option("--true-col", help="True labels. Default: y_true, label or target."),
    ] = None,
    pred_col: Annotated[
        str | None,
        typer.Option("--pred-col", help="Predicted labels. Default: y_pred, pred or prediction."),
    ] = None,
    proba_prefix: Annotated[
        str | None,
        typer.Option("--proba-prefix", help="Per-class score columns PREFIX<label>, e.g. p_."),
    ] = None,
    proba_cols: ProbaColsOpt = None,
    score_col: Annotated[
        str | None,
        typer.Option("--score-col", help="One score column for the --positive class (binary)."),
    ] = None,
    positive: Annotated[
        str | None, typer.Option("--positive", help="The positive class of a binary task.")
    ] = None,
    at_specificity: Annotated[
        float | None,
        typer.Option(
            "--at-specificity",
            min=0.0,
            max=1.0,
            help="Best sensitivity at specificity ≥ S (binary).",
        ),
    ] = None,
    at_recall: Annotated[
        float | None,
        typer.Option(
            "--at-recall", min=0.0, max=1.0, help="Best precision at recall ≥ R (binary)."
        ),
    ] = None,
    thresholds: Annotated[
        bool,
        typer.Option(
            "--thresholds", help="Threshold sweep with F1- and Youden-optimal cut-offs (binary)."
        ),
    ] = False,
    bins: Annotated[
        int, typer.Option("--bins", min=2, help="Bins of the calibration (ECE) table.")
    ] = 15,
    bootstrap: Annotated[
        int,
        typer.Option(
            "--bootstrap",
            min=0,
            help="Bootstrap resamples for 95% intervals (gates then use the bound).",
        ),
    ] = 0,
    seed: SeedOpt = 0,
    train_manifest: Annotated[
        str | None,
        typer.Option("--train-manifest", help="Training manifest: per-bucket metrics and priors."),
    ] = None,
    train_label_col: TrainLabelColOpt = None,
    train_split: TrainSplitOpt = None,
    train_split_col: TrainSplitColOpt = None,
    many_shot: Annotated[
        int, typer.Option("--many-shot", help="Many-shot classes have more training rows.")
    ] = 100,
    few_shot: Annotated[
        int, typer.Option("--few-shot", help="Few-shot classes have fewer training rows.")
    ] = 20,
    adjust_priors: Annotated[
        bool,
        typer.Option(
            "--adjust-priors",
            help="Re-weight scores by target/train priors; report before and after.",
        ),
    ] = False,
    target_priors: Annotated[
        str | None,
        typer.Option(
            "--target-priors", help="JSON {label: prior} for --adjust-priors (default uniform)."
        ),
    ] = None,
    estimate_priors: Annotated[
        EstimateMethod | None,
        typer.Option(
            "--estimate-priors",
            help="Estimate the priors of --test-preds (em or bbse); report before and after adjusting.",
        ),
    ] = None,
    test_preds: Annotated[
        str | None,
        typer.Option(
            "--test-preds",
            help="Unlabelled test predictions (same score columns), for --estimate-priors.",
        ),
    ] = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-under",
            help="Gate METRIC=VALUE: exit 1 when below (repeatable), e.g. 'recall[fraud]=0.8'.",
        ),
    ] = None,
    fail_over: Annotated[
        list[str] | None,
        typer.Option("--fail-over", help="Gate METRIC=VALUE: exit 1 when above (ece, brier)."),
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write the JSON report here.")
    ] = None,
    json_out: JsonOpt = False,
    markdown: Annotated[
        str | None, typer.Option("--markdown", help="Write a Markdown report here.")
    ] = None,
    html_out: Annotated[
        str | None, typer.Option("--html", help="Write a self-contained HTML report here.")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Worst classes by recall shown.")] = 10,
    show_all: Annotated[bool, typer.Option("--all", help="Show every class.")] = False,
    drop_missing: DropMissingOpt = False,
    input_format: InputFormatOpt = None,
    encoding: EncodingOpt = "utf-8",
    multi_label: MultiLabelOpt = False,
    sep: SepOpt = None,
    label_cols: Annotated[
        list[str] | None,
        typer.Option(
            "--label-cols",
            help="Multi-label truth as 0/1 columns (names or globs), scored by --proba-prefix.",
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold", help="Multi-label: a label is predicted when its score is ≥ T."
        ),
    ] = 0.5,
) -> None:
    """A metrics report that does not lie under imbalance, with CI gates.

    Example:

        rebalance evaluate preds.csv

        rebalance evaluate preds.parquet --proba-prefix p_ -o report.json

        rebalance evaluate preds.csv --fail-under macro_f1=0.6 --fail-under 'recall[fraud]=0.8'

        rebalance evaluate preds.csv --positive fraud --at-specificity 0.9

        rebalance evaluate baseline.csv rebalanced.csv

        rebalance evaluate tag_preds.parquet --multi-label --proba-prefix p_
    """
    from rebalance import render
    from rebalance.evaluation import evaluate
    from rebalance.metrics import curve_points, parse_gate
    from rebalance.output import check_destinations, staged, write_text

    gates_under = [parse_gate(g, "--fail-under") for g in fail_under or []]
    gates_over = [parse_gate(g, "--fail-over") for g in fail_over or []]
    destinations = [
        ("-o", output),
        ("--json", "-" if json_out else None),
        ("--markdown", markdown),
        ("--html", html_out),
    ]
    check_destinations(
        destinations, _inputs(ctx, *predictions, train_manifest, target_priors, test_preds)
    )
    label_cols = _label_cols(label_cols)
    if multi_label or sep is not None or label_cols:
        single_only = ["proba_cols", "score_col", "positive", "at_specificity", "at_recall",
                       "thresholds", "bootstrap", "train_manifest", "adjust_priors",
                       "target_priors", "estimate_priors", "test_preds", "html_out",
                       "drop_missing"]  # fmt: skip
        for name in single_only:
            if _from_command_line(ctx, name):
                flag = "--" + name.replace("_out", "").replace("_", "-")
                raise RebalanceError(f"{flag} does not apply with --multi-label")
        if len(predictions) > 1:
            raise RebalanceError("--multi-label evaluates one predictions file at a time")
        _evaluate_multilabel(str(predictions[0]), true_col, pred_col, sep, label_cols,
                             proba_prefix, threshold, input_format, encoding, output, json_out,
                             markdown, gates_under, gates_over, top, show_all)  # fmt: skip
        return
    if _from_command_line(ctx, "threshold"):
        raise RebalanceError("--threshold applies with --multi-label (binary: --thresholds)")
    data_on_stdout = any(path == "-" for _, path in destinations)
    result = evaluate(
        predictions,
        true_col=true_col,
        pred_col=pred_col,
        proba_prefix=proba_prefix,
        proba_cols=proba_cols,
        score_col=score_col,
        positive=positive,
        drop_missing=drop_missing,
        input_format=input_format,
        encoding=encoding,
        train_manifest=train_manifest,
        train_label_col=train_label_col,
        train_split=train_split,
        train_split_col=train_split_col,
        target_priors=target_priors,
        estimate_priors=None if estimate_priors is None else estimate_priors.value,
        test_predictions=test_preds,
        at_specificity=at_specificity,
        at_recall=at_recall,
        thresholds=thresholds,
        bins=bins,
        bootstrap=bootstrap,
        seed=seed,
        many_shot=many_shot,
        few_shot=few_shot,
        prior_adjust=adjust_priors,
    )
    trained = result.training
    if trained is not None:
        where = (
            f"split {trained.split!r} of column {trained.split_col!r}"
            if trained.split is not None
            else "every row (no split column)"
        )
        render.message(
            f"rebalance: training counts from {where} of {train_manifest}: {trained.rows:,} rows, "
            f"{len(trained.counts):,} classes"
            + (" (choose with --train-split)" if trained.split is not None else "")
        )
    # gates are checked (unknown metric names are errors) before anything is written
    failures = result.gate_failures(gates_under, gates_over)
    doc = result.report
    preds0, first = result.predictions[0], result.evaluations[0]
    several = len(result.evaluations) > 1
    html = None
    if html_out:
        from rebalance.report_html import render_html

        curves = None
        if preds0.scores is not None:
            curves = curve_points(
                preds0.y_true,
                preds0.scores,
                positive=(first.report.get("binary") or {}).get("positive"),
            )
        html = render_html(
            first.report,
            title=f"rebalance evaluate · {preds0.source}",
            warnings=first.warnings,
            curves=curves,
        )
    with staged():
        if output:
            write_text(output, render.dump_json(doc))
        if json_out:
            render.write_stdout(render.dump_json(doc))
        if markdown:
            write_text(
                markdown,
                render.evaluation_markdown(first.report, first.warnings, source=preds0.source),
            )
        if html_out and html is not None:
            write_text(html_out, html)
    for w in result.warnings:
        render.warn(w)
    if data_on_stdout or several:
        # stdout holds data (or a comparison follows): warnings alone, on stderr
        for p, e in zip(result.predictions, result.evaluations, strict=True):
            for w in e.warnings:
                render.warn(f"{p.source}: {w}" if several else w)
    if not data_on_stdout:
        if several:
            render.print_compare(doc)
        else:
            render.print_evaluation(doc, first.warnings, top=top, show_all=show_all)
    for failure in failures:
        render.message(f"rebalance: gate failed: {failure}")
    if failures:
        raise typer.Exit(1)


def _evaluate_multilabel(predictions, true_col, pred_col, sep, label_cols, proba_prefix,
                         threshold, input_format, encoding, output, json_out, markdown,
                         gates_under, gates_over, top, show_all) -> None:  # fmt: skip
    from rebalance import render
    from rebalance.multilabel.evaluation import evaluate_multilabel, gate_failures
    from rebalance.multilabel.render import evaluation_markdown, print_evaluation
    from rebalance.output import staged, write_text

    result = evaluate_multilabel(
        predictions,
        true_col=true_col,
        pred_col=pred_col,
        sep=sep,
        label_cols=label_cols,
        proba_prefix=proba_prefix,
        threshold=threshold,
        input_format=input_format,
        encoding=encoding,
    )
    failures = gate_failures(result, under=gates_under, over=gates_over)
    doc = result.to_dict()
    with staged():
        if output:
            write_text(output, render.dump_json(doc))
        if json_out:
            render.write_stdout(render.dump_json(doc))
        if markdown:
            write_text(markdown, evaluation_markdown(result))
    for w in result.warnings:
        render.warn(w)
    if not json_out and output != "-" and markdown != "-":
        print_evaluation(result, top=top, show_all=show_all)
    for failure in failures:
        render.message(f"rebalance: gate failed: {failure}")
    if failures:
        raise typer.Exit(1)


@app.command("adjust")
def adjust_command(
    ctx: typer.Context,
    predictions: Annotated[
        Path,
        typer.Argument(
            help="Predictions with one score column per class (test scores; no labels needed), or - for stdin."
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", help="Write the adjusted predictions here (atomically); - is stdout."
        ),
    ],
    proba_prefix: Annotated[
        str | None,
        typer.Option("--proba-prefix", help="Per-class score columns PREFIX<label> (default p_)."),
    ] = None,
    proba_cols: ProbaColsOpt = None,
    train_manifest: Annotated[
        str | None,
        typer.Option(
            "--train-manifest", help="Training manifest: its label counts are the training priors."
        ),
    ] = None,
    train_priors: Annotated[
        str | None, typer.Option("--train-priors", help="JSON {label: prior} of the training set.")
    ] = None,
    train_label_col: TrainLabelColOpt = None,
    train_split: TrainSplitOpt = None,
    train_split_col: TrainSplitColOpt = None,
    target_priors: Annotated[
        str | None,
        typer.Option("--target-priors", help="JSON {label: prior} of the test set, or 'uniform'."),
    ] = None,
    estimate: Annotated[
        EstimateMethod | None,
        typer.Option(
            "--estimate",
            help="Estimate the test priors: em (from these scores) or bbse (needs --val-preds).",
        ),
    ] = None,
    val_preds: Annotated[
        str | None,
        typer.Option(
            "--val-preds", help="Labelled validation predictions (same score columns), for bbse."
        ),
    ] = None,
    true_col: Annotated[
        str | None, typer.Option("--true-col", help="True labels of --val-preds.")
    ] = None,
    max_iter: Annotated[int, typer.Option("--max-iter", min=1, help="Most EM iterations.")] = 1000,
    tol: Annotated[
        float, typer.Option("--tol", min=0.0, help="EM stops when no prior moves more than this.")
    ] = 1e-8,
    priors_out: Annotated[
        str | None,
        typer.Option(
            "--priors-out",
            help="Write the priors used (JSON) here. Default: OUTPUT.priors.json (none for -o -).",
        ),
    ] = None,
    json_out: JsonOpt = False,
    output_format: OutputFormatOpt = None,
    input_format: InputFormatOpt = None,
    encoding: EncodingOpt = "utf-8",
) -> None:
    """Adjust predicted scores for a prior shift (Bayes' rule), with test priors given or estimated.

    Adds adjusted_<score column> (renormalised) and adjusted_pred to every row; the
    priors used go to a JSON sidecar.

    Example:

        rebalance adjust test_preds.csv --train-manifest train.csv --estimate em -o adjusted.csv

        rebalance adjust test_preds.csv --train-manifest train.csv --target-priors priors.json -o adjusted.parquet

        rebalance adjust test.csv --train-priors train_priors.json --estimate bbse --val-preds val.csv -o out.csv
    """
    from rebalance import emit
    from rebalance.output import check_destinations
    from rebalance.priors import adjust_file

    source = str(predictions)
    if priors_out is None and output != "-":
        priors_out = output + ".priors.json"
    destinations = [
        ("-o", output),
        ("--priors-out", priors_out),
        ("--json", "-" if json_out else None),
    ]
    check_destinations(
        destinations, _inputs(ctx, source, train_manifest, train_priors, target_priors, val_preds)
    )
    result = adjust_file(
        source,
        output,
        priors_out=priors_out,
        output_format=output_format,
        input_format=input_format,
        encoding=encoding,
        train_manifest=train_manifest,
        train_priors=train_priors,
        train_label_col=train_label_col,
        train_split=train_split,
        train_split_col=train_split_col,
        target_priors=target_priors,
        estimate=None if estimate is None else estimate.value,
        val_predictions=val_preds,
        true_col=true_col,
        proba_prefix=proba_prefix,
        proba_cols=proba_cols,
        tol=tol,
        max_iter=max_iter,
    )
    found = result.target
    how = {"file": f"from {target_priors}", "uniform": "uniform", "bbse": "estimated by BBSE"}.get(
        found.method,
        f"estimated by EM in {found.iterations} iteration(s)"
        + ("" if found.converged else ", NOT converged (raise --max-iter or --tol)"),
    )
    shown = ", ".join(
        f"{c} {result.train_priors[c]:.4g} → {found.priors[c]:.4g}" for c in result.classes[:20]
    )
    emit.message(f"rebalance: priors (train → test, {how}): {shown}")
    emit.message(
        f"rebalance: wrote {output}: {result.table.num_rows:,} rows, "
        f"{result.changed:,} prediction(s) changed"
        + (f"; priors in {priors_out}" if priors_out else "")
    )
    if found.method == "em" and not found.converged:
        emit.warn(f"EM did not converge in {max_iter} iterations")
    if json_out:
        emit.write_stdout(emit.dump_json(result.to_dict()))


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Console-script entry point."""
    import signal

    # `rebalance ... | head` ends quietly, as shell tools do (exit 141), not with exit 1
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # SIGTERM (timeout, CI cancellation, docker stop) unwinds like Ctrl-C, so temporary
    # files are removed and no output is left half written
    signal.signal(signal.SIGTERM, _terminated)
    app_for(sys.argv[1:])(prog_name="rebalance")


# root options that take a value (the next word, unless given as --opt=value)
_ROOT_VALUES = ("--config", "--storage-option")


def app_for(args: list[str]) -> typer.Typer:
    """The app that runs these arguments: ``app`` itself, or ``app`` with the one command
    they name.

    typer turns every command's options into click parameters before it parses anything
    (40 ms for the six commands, most of a small run's time after the imports); a run of
    one command needs only that command's. The full app serves everything else: help and
    version, completion, an unknown or missing command, and ``--config`` (a preset is
    checked against every command's options).
    """
    name = None
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _ROOT_VALUES:
            skip = True
        elif arg.startswith("--storage-option="):
            continue
        elif arg.startswith("-"):
            return app  # --help, --version, --config=..., completion
        else:
            name = arg
            break
    commands = [c for c in app.registered_commands if c.name == name]
    if name is None or not commands or "--config" in args:
        return app
    one = typer.Typer(
        cls=_Group,
        name="rebalance",
        help=app.info.help,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    one.registered_callback = app.registered_callback
    one.registered_commands = commands
    return one


if __name__ == "__main__":  # pragma: no cover
    main()
