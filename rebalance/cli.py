"""The ``rebalance`` command line: parse flags, call one library function, render.

Module-level imports are the standard library and typer only, so that
``rebalance --help`` starts fast; each command imports what it needs.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from rebalance._version import __version__
from rebalance.errors import RebalanceError


class _Group(TyperGroup):
    """Turns a :class:`RebalanceError` into one line on stderr and exit status 2."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except RebalanceError as exc:
            typer.echo(f"rebalance: error: {exc}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=_Group,
    name="rebalance",
    help="Fix class imbalance in ML datasets: inspect, resample, weights, evaluate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# ---------------------------------------------------------------- shared options

ManifestArg = Annotated[
    str, typer.Argument(help="Manifest file (CSV, TSV, Parquet, JSONL; .gz ok), or - for stdin.")
]
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
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]


def _missing_policy(drop_missing: bool, strict: bool) -> str:
    if drop_missing and strict:
        raise RebalanceError("--drop-missing and --strict cannot be used together")
    return "drop" if drop_missing else "error" if strict else "keep"


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
) -> None:
    """Fix class imbalance in ML datasets.

    Exit status: 0 ok, 1 a gate failed, 2 bad usage or bad input.
    """
    if config is None:
        return
    from rebalance.config import check_preset, load_preset

    try:
        preset = load_preset(config)
        commands = getattr(ctx.command, "commands", {})
        options = {name: [p.name for p in cmd.params if p.name] for name, cmd in commands.items()}
        check_preset(config, preset, options)
    except RebalanceError as exc:
        typer.echo(f"rebalance: error: {exc}", err=True)
        raise typer.Exit(2) from None
    ctx.default_map = preset


# ---------------------------------------------------------------- inspect


class InspectFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    csv = "csv"


@app.command("inspect")
def inspect_command(
    manifest: ManifestArg,
    label_col: LabelOpt = None,
    split_col: SplitOpt = None,
    no_split: Annotated[bool, typer.Option("--no-split", help="Ignore any split column.")] = False,
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
) -> None:
    """Show the class distribution of a manifest and how imbalanced it is.

    Example:

        rebalance inspect train.parquet

        rebalance inspect train.csv --json | jq .imbalance_ratio

        cat manifest.csv | rebalance inspect - --label-col class

        rebalance inspect train.csv --max-ratio 50 --fail-on-small
    """
    from rebalance import render
    from rebalance.stats import gate_failures, inspect

    if split_col is not None and no_split:
        raise RebalanceError("--split-col and --no-split cannot be used together")
    report = inspect(
        manifest,
        label_col=label_col,
        split_col=split_col,
        detect_split=not no_split,
        min_count=min_count,
        missing=_missing_policy(drop_missing, strict),
        input_format=input_format,
        encoding=encoding,
    )
    if label_col is None:
        render.message(f"rebalance: label column {report.label_col!r}")
    if split_col is None and report.split_col is not None:
        render.message(
            f"rebalance: split column {report.split_col!r} (use --no-split to ignore it)"
        )
    if report.overall.missing_labels:
        render.warn(
            f"{report.overall.missing_labels:,} row(s) have no label "
            f"(first at data row {report.first_missing_row}); --drop-missing leaves them out"
        )
    if report.overall.classes == 1:
        render.warn("only one class: there is nothing to balance")
    fmt = InspectFormat.json if json_out else output_format
    if fmt is InspectFormat.json:
        render.write_stdout(render.dump_json(report.to_dict()))
    elif fmt is InspectFormat.markdown:
        render.write_stdout(render.inspect_markdown(report, top=top, show_all=show_all))
    elif fmt is InspectFormat.csv:
        render.write_stdout(render.inspect_csv(report))
    else:
        render.print_inspect(report, top=top, show_all=show_all)
    failures = gate_failures(report, max_ratio=max_ratio, fail_on_small=fail_on_small)
    for failure in failures:
        render.message(f"rebalance: gate failed: {failure}")
    if failures:
        raise typer.Exit(1)


# ---------------------------------------------------------------- not yet built


def _not_implemented(name: str) -> None:
    typer.echo(f"rebalance: error: '{name}' is not implemented yet", err=True)
    raise typer.Exit(2)


@app.command(
    "resample",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def resample_command(ctx: typer.Context) -> None:
    """Write a rebalanced manifest (not implemented yet)."""
    _not_implemented("resample")


@app.command(
    "weights",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def weights_command(ctx: typer.Context) -> None:
    """Class weights for the loss (not implemented yet)."""
    _not_implemented("weights")


@app.command(
    "evaluate",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def evaluate_command(ctx: typer.Context) -> None:
    """A metrics report that does not lie under imbalance (not implemented yet)."""
    _not_implemented("evaluate")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="rebalance")


if __name__ == "__main__":  # pragma: no cover
    main()
