"""``rebalance sample``: the epochs of a PlanSampler, written as a table of row positions."""

from typing import Annotated

import typer

from rebalance.cli.app import PanelCommand, app
from rebalance.cli.options import (
    EncodingOpt,
    InputFormatOpt,
    LabelOpt,
    ManifestArg,
    MaskColOpt,
    OutputFormatOpt,
    OutputOpt,
    RootOpt,
    SeedOpt,
    SplitOpt,
    _inputs,
    _path_text,
)

SAMPLE_HELP = """Balanced epochs for a data pipeline: each epoch's row positions, as PlanSampler
draws them (exactly the planned rows per class; a fresh subset of large classes each
epoch). The output has columns epoch, position (the manifest's row) and label.
With --target repeat-factor:T, rows are repeated by their LVIS repeat factor, drawn
afresh each epoch (from the classes of --mask-col, a label-set column, or the label),
and the output has each row's repeat_factor instead of its label.

It writes indices rather than a resampled manifest so that a training job can take
epoch e's rows from the manifest it already has.

Example:

    rebalance sample train.csv --target sqrt --epochs 10 -o epochs.parquet

    rebalance sample coco/instances_train.json --target repeat-factor:0.001 --epochs 3 -o rfs.parquet
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
    mask_col: MaskColOpt = None,
    root: RootOpt = None,
) -> None:
    """``rebalance sample``: destinations checked, the epochs drawn, one table written."""
    from rebalance import emit
    from rebalance.manifest import FORMATS, resolve_destination, resolve_source
    from rebalance.manifest.ondisk import layout_reading
    from rebalance.output import check_destinations
    from rebalance.sampling import epochs_table

    source_path = _path_text(manifest)
    target_path = output or "-"
    check_destinations([("-o", target_path)], _inputs(ctx, source_path))
    with layout_reading(root):
        source = resolve_source(source_path, input_format=input_format, encoding=encoding)
        drawn = epochs_table(
            source, epochs=epochs, target=target, seed=seed, label_col=label_col,
            split_col=split_col, split=from_split, mask_col=mask_col, root=root,
        )  # fmt: skip
    same = source.format if target_path == "-" and source.format in FORMATS else None
    dest = resolve_destination(target_path, output_format=out_format or same)
    from rebalance.manifest import write_manifest

    write_manifest(drawn, dest)
    emit.message(
        f"rebalance: {epochs} epoch(s) of {drawn.num_rows // epochs:,} rows "
        f"({target}, seed {seed}) → {'stdout' if dest.is_stdio else dest.name}"
    )
