"""``rebalance sample``: the epochs of a PlanSampler, written as a table of row positions."""

from __future__ import annotations

from typing import Annotated

import typer

from rebalance.cli.app import PanelCommand, app
from rebalance.cli.options import (
    EncodingOpt,
    InputFormatOpt,
    LabelOpt,
    ManifestArg,
    OutputFormatOpt,
    OutputOpt,
    SeedOpt,
    SplitOpt,
    _inputs,
    _path_text,
)

SAMPLE_HELP = """Balanced epochs for a data pipeline: each epoch's row positions, as PlanSampler
draws them (exactly the planned rows per class; a fresh subset of large classes each
epoch). The output has columns epoch, position (the manifest's row) and label.

It writes indices rather than a resampled manifest so that a training job can take
epoch e's rows from the manifest it already has.

Example:

    rebalance sample train.csv --target sqrt --epochs 10 -o epochs.parquet
"""

TargetOpt = Annotated[
    str, typer.Option("--target", help="The plan, as for resample (max, min, median, N, sqrt, ratio:R...).", rich_help_panel="Plan")
]  # fmt: skip
EpochsOpt = Annotated[
    int, typer.Option("--epochs", min=1, help="Epochs to draw (0..E-1).", rich_help_panel="Plan")
]  # fmt: skip
FromSplitOpt = Annotated[
    str | None, typer.Option("--from-split", help="The split drawn from (default: train, when there is a split column).", rich_help_panel="Columns and splits")
]  # fmt: skip


@app.command("sample", help=SAMPLE_HELP, cls=PanelCommand)
def sample_command(
    ctx: typer.Context,
    manifest: ManifestArg,
    output: OutputOpt = None,
    target: TargetOpt = "max",
    epochs: EpochsOpt = 1,
    seed: SeedOpt = 0,
    label_col: LabelOpt = None,
    split_col: SplitOpt = None,
    from_split: FromSplitOpt = None,
    out_format: OutputFormatOpt = None,
    input_format: InputFormatOpt = None,
    encoding: EncodingOpt = "utf-8",
) -> None:
    """``rebalance sample``: destinations checked, the epochs drawn, one table written."""
    from rebalance import emit
    from rebalance.manifest import read_manifest, resolve_destination, resolve_source
    from rebalance.output import check_destinations
    from rebalance.sampling import epochs_table

    source_path = _path_text(manifest)
    target_path = output or "-"
    check_destinations([("-o", target_path)], _inputs(ctx, source_path))
    source = resolve_source(source_path, input_format=input_format, encoding=encoding)
    table = read_manifest(source)
    drawn = epochs_table(
        table, epochs=epochs, target=target, seed=seed, label_col=label_col,
        split_col=split_col, split=from_split,
    )  # fmt: skip
    dest = resolve_destination(
        target_path, output_format=out_format or (source.format if target_path == "-" else None)
    )
    from rebalance.manifest import write_manifest

    write_manifest(drawn, dest)
    emit.message(
        f"rebalance: {epochs} epoch(s) of {drawn.num_rows // epochs:,} rows "
        f"({target}, seed {seed}) → {dest.name}"
    )
