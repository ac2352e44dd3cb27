"""Options and helpers shared by the commands (``Annotated`` aliases, as ``hf`` does)."""

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from rebalance.errors import RebalanceError
from rebalance.samplers.registry import method_names

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
        rich_help_panel="Columns and splits",
    ),
]
SplitOpt = Annotated[
    str | None,
    typer.Option(
        "--split-col",
        help="Split column (train/val/test). Default: 'split' if present.",
        rich_help_panel="Columns and splits",
    ),
]
NoSplitOpt = Annotated[
    bool,
    typer.Option(
        "--no-split", help="Ignore any split column.", rich_help_panel="Columns and splits"
    ),
]
InputFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--input-format",
        help="csv, tsv, parquet, jsonl, or an image dataset: imagefolder, coco, yolo, voc; overrides the extension (and what a folder holds).",
        rich_help_panel="Output",
    ),
]
EncodingOpt = Annotated[
    str,
    typer.Option(
        "--encoding", help="Text encoding of CSV/TSV/JSONL input.", rich_help_panel="Output"
    ),
]
DropMissingOpt = Annotated[
    bool,
    typer.Option(
        "--drop-missing",
        help="Leave out rows whose label is empty or null.",
        rich_help_panel="Columns and splits",
    ),
]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Make rows without a label an error (exit 2).",
        rich_help_panel="Columns and splits",
    ),
]
OutputOpt = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="Write here (atomically) instead of stdout; - is stdout.",
        rich_help_panel="Output",
    ),
]
OutputFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--output-format",
        help="csv, tsv, parquet, jsonl, coco (from a COCO input) or list (image paths, one a line); overrides the -o extension.",
        rich_help_panel="Output",
    ),
]
JsonOpt = Annotated[
    bool,
    typer.Option("--json", help="Print the result as JSON on stdout.", rich_help_panel="Output"),
]
PathColOpt = Annotated[
    str | None,
    typer.Option(
        "--path-col",
        help="Image path column. Default: the one of path/file/filepath/image/filename/image_path.",
        rich_help_panel="Images",
    ),
]
RootOpt = Annotated[
    str | None,
    typer.Option(
        "--root",
        help="Folder relative image paths start from (default: the manifest's).",
        rich_help_panel="Images",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        help="Parallel image readers (default: every core).",
        rich_help_panel="Images",
    ),
]
MaskColOpt = Annotated[
    str | None,
    typer.Option(
        "--mask-col",
        help="Segmentation mask column: pixel values are class ids.",
        rich_help_panel="Images",
    ),
]
MaskClassesOpt = Annotated[
    str | None,
    typer.Option(
        "--mask-classes",
        help='JSON {"id": "name"} (or a list by id) naming mask values.',
        rich_help_panel="Images",
    ),
]
SeedOpt = Annotated[
    int,
    typer.Option(
        "--seed",
        min=0,
        max=2**32 - 1,
        help="Seed, 0..2^32-1: same input + same seed → same output.",
        rich_help_panel="Method",
    ),
]

MultiLabelOpt = Annotated[
    bool,
    typer.Option(
        "--multi-label",
        help="Rows hold several labels: a list column, text split on --sep, or --label-cols.",
        rich_help_panel="Multi-label",
    ),
]
SepOpt = Annotated[
    str | None,
    typer.Option(
        "--sep",
        help="Text between the labels of one cell, e.g. '|' (implies --multi-label).",
        rich_help_panel="Multi-label",
    ),
]
LabelColsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--label-cols",
        help="0/1 columns, one per label: names or globs, repeatable or comma-separated "
        "(implies --multi-label).",
        rich_help_panel="Multi-label",
    ),
]

EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        help="local (in-process, default) or dask (pip install 'rebalance[dask]'; Parquet).",
        rich_help_panel="Engine",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="--engine dask: scheduler address (default DASK_SCHEDULER_ADDRESS, else a local cluster).",
        rich_help_panel="Engine",
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
    typer.Option(
        "--regression",
        help="The label column is a number (age, price): bin it.",
        rich_help_panel="Regression",
    ),
]
BinningOpt = Annotated[
    str,
    typer.Option(
        "--binning",
        help="Regression bins: width (equal width, default) or quantile.",
        rich_help_panel="Regression",
    ),
]


def _label_cols(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part for value in values for part in value.split(",") if part]


# the training manifest and score columns, as evaluate and adjust read them
TrainLabelColOpt = Annotated[
    str | None,
    typer.Option(
        "--train-label-col",
        help="Label column of --train-manifest.",
        rich_help_panel="Training and priors",
    ),
]
TrainSplitOpt = Annotated[
    str | None,
    typer.Option(
        "--train-split",
        help="Split of --train-manifest that was trained on (default: train, when it has a split column).",
        rich_help_panel="Training and priors",
    ),
]
TrainSplitColOpt = Annotated[
    str | None,
    typer.Option(
        "--train-split-col",
        help="Split column of --train-manifest (default: split).",
        rich_help_panel="Training and priors",
    ),
]
ProbaColsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--proba-cols",
        help="Per-class score columns, e.g. A,B,C (named as the classes).",
        rich_help_panel="Scores",
    ),
]


def _inputs(ctx: typer.Context, *paths: Any) -> list[Any]:
    """The files a command reads: its own, plus the --config preset. A YOLO or VOC folder
    is what its readers read: its subfolders and YAML files, so that an output may lie in
    its top folder (where YOLO's train.txt lists live) but not among its images."""
    from rebalance.manifest.ondisk import read_parts

    root = ctx.find_root()
    return [*(part for p in paths for part in read_parts(p)), root.params.get("config")]


METHOD_NAMES = method_names()  # the registry's, for completion


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


def _write_table(table, source, target, out_format, paths="relative") -> None:
    """A manifest written as the command's output: its relative paths rewritten for the
    output's folder (:mod:`rebalance.relocate`), in the input's format on stdout."""
    from rebalance import render
    from rebalance.manifest import FORMATS, resolve_destination, write_manifest
    from rebalance.relocate import relocate_table

    default_format = source.format if target == "-" and source.format in FORMATS else None
    dest = resolve_destination(target, output_format=out_format or default_format)
    table, note = relocate_table(table, source, dest.path, mode=paths)
    if note is not None:
        render.message(f"rebalance: {note}")
    write_manifest(table, dest, source=source)


class EstimateMethod(StrEnum):
    em = "em"
    bbse = "bbse"


def _list_labels(path: Any, label_col: str | None, input_format: str | None, encoding: str,
                 candidates: tuple[str, ...] | None = None, flag: str = "--label-col") -> str | None:  # fmt: skip
    """The label column when the manifest declares it a list column (Parquet): multi-label
    data, said once on stderr; ``None`` otherwise (text formats declare no lists)."""
    from rebalance import emit
    from rebalance.manifest import (
        LABEL_CANDIDATES,
        detect_column,
        is_list_type,
        read_types,
        resolve_source,
    )

    source = resolve_source(path, input_format=input_format, encoding=encoding)
    types = read_types(source)
    if not types:
        return None
    # "labels" and "tags" after the single-label names: a COCO/YOLO/VOC manifest's sets
    name = detect_column(
        list(types), label_col, candidates or (*LABEL_CANDIDATES, "labels", "tags"),
        where=source.name, flag=flag, required=False,
    )  # fmt: skip
    if name is None or not is_list_type(types[name]):
        return None
    emit.message(f"rebalance: column {name!r} holds lists: read as --multi-label")
    return name


MaxImagePixelsOpt = Annotated[
    str | None,
    typer.Option(
        "--max-image-pixels",
        help="Images over this many pixels (width × height, from the header) are bad files, "
        "like corrupt ones; none allows any size. Default: 178956970.",
        rich_help_panel="Images",
    ),
]


@contextmanager
def _pixel_limit(
    text: str | None, root: str | None = None, missing: str = "error"
) -> Iterator[None]:
    """The --max-image-pixels policy for the command run inside (its default when not
    given), and how image datasets on disk are read: their image folder (--root) and what
    a missing image does (an error; left out with --skip-bad; kept for --check-files)."""
    from rebalance.images.files import DEFAULT_MAX_PIXELS, image_pixel_limit, parse_max_pixels
    from rebalance.manifest.ondisk import layout_reading

    with (
        image_pixel_limit(DEFAULT_MAX_PIXELS if text is None else parse_max_pixels(text)),
        layout_reading(root, missing),
    ):
        yield
