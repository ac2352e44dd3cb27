"""``rebalance adjust``."""

from pathlib import Path
from typing import Annotated, Any

import typer

from rebalance.cli.app import PanelCommand, app
from rebalance.cli.options import (
    EncodingOpt,
    EstimateMethod,
    InputFormatOpt,
    JsonOpt,
    OutputFormatOpt,
    ProbaColsOpt,
    TrainLabelColOpt,
    TrainSplitColOpt,
    TrainSplitOpt,
    _inputs,
)

PredictionsOpt = Annotated[
    Path,
    typer.Argument(
        help="Predictions with one score column per class (test scores; no labels needed), or - for stdin."
    ),
]

OutputOpt = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        help="Write the adjusted predictions here (atomically); - is stdout.",
        rich_help_panel="Output",
    ),
]

ProbaPrefixOpt = Annotated[
    str | None,
    typer.Option(
        "--proba-prefix",
        help="Per-class score columns PREFIX<label> (default p_).",
        rich_help_panel="Scores",
    ),
]

TrainManifestOpt = Annotated[
    str | None,
    typer.Option(
        "--train-manifest",
        help="Training manifest: its label counts are the training priors.",
        rich_help_panel="Training and priors",
    ),
]

TrainPriorsOpt = Annotated[
    str | None,
    typer.Option(
        "--train-priors",
        help="JSON {label: prior} of the training set.",
        rich_help_panel="Training and priors",
    ),
]

TargetPriorsOpt = Annotated[
    str | None,
    typer.Option(
        "--target-priors",
        help="JSON {label: prior} of the test set, or 'uniform'.",
        rich_help_panel="Training and priors",
    ),
]

EstimateOpt = Annotated[
    EstimateMethod | None,
    typer.Option(
        "--estimate",
        help="Estimate the test priors: em (from these scores) or bbse (needs --val-preds).",
        rich_help_panel="Training and priors",
    ),
]

ValPredsOpt = Annotated[
    str | None,
    typer.Option(
        "--val-preds",
        help="Labelled validation predictions (same score columns), for bbse.",
        rich_help_panel="Training and priors",
    ),
]

TrueColOpt = Annotated[
    str | None,
    typer.Option(
        "--true-col", help="True labels of --val-preds.", rich_help_panel="Columns and splits"
    ),
]

MaxIterOpt = Annotated[
    int,
    typer.Option(
        "--max-iter", min=1, help="Most EM iterations.", rich_help_panel="Training and priors"
    ),
]

TolOpt = Annotated[
    float,
    typer.Option(
        "--tol",
        min=0.0,
        help="EM stops when no prior moves more than this.",
        rich_help_panel="Training and priors",
    ),
]

PriorsOutOpt = Annotated[
    str | None,
    typer.Option(
        "--priors-out",
        help="Write the priors used (JSON) here. Default: OUTPUT.priors.json (none for -o -).",
        rich_help_panel="Output",
    ),
]


ADJUST_HELP = """Adjust predicted scores for a prior shift (Bayes' rule), with test priors given or estimated.

    Adds adjusted_<score column> (renormalised) and adjusted_pred to every row; the
    priors used go to a JSON sidecar.

    Example:

        rebalance adjust test_preds.csv --train-manifest train.csv --estimate em -o adjusted.csv

        rebalance adjust test_preds.csv --train-manifest train.csv --target-priors priors.json -o adjusted.parquet

        rebalance adjust test.csv --train-priors train_priors.json --estimate bbse --val-preds val.csv -o out.csv
"""


@app.command("adjust", help=ADJUST_HELP, cls=PanelCommand)
def adjust_command(
    ctx: typer.Context,
    predictions: PredictionsOpt,
    output: OutputOpt,
    proba_prefix: ProbaPrefixOpt = None,
    proba_cols: ProbaColsOpt = None,
    train_manifest: TrainManifestOpt = None,
    train_priors: TrainPriorsOpt = None,
    train_label_col: TrainLabelColOpt = None,
    train_split: TrainSplitOpt = None,
    train_split_col: TrainSplitColOpt = None,
    target_priors: TargetPriorsOpt = None,
    estimate: EstimateOpt = None,
    val_preds: ValPredsOpt = None,
    true_col: TrueColOpt = None,
    max_iter: MaxIterOpt = 1000,
    tol: TolOpt = 1e-8,
    priors_out: PriorsOutOpt = None,
    json_out: JsonOpt = False,
    output_format: OutputFormatOpt = None,
    input_format: InputFormatOpt = None,
    encoding: EncodingOpt = "utf-8",
) -> None:
    """``rebalance adjust``: destinations checked, one library call, the priors said."""
    from rebalance import emit
    from rebalance.counts import TrainingSource
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
    inputs = _inputs(ctx, source, train_manifest, train_priors, target_priors, val_preds)
    check_destinations(destinations, inputs)
    training = TrainingSource.of(
        train_manifest, label_col=train_label_col, split=train_split, split_col=train_split_col
    )
    result = adjust_file(
        source, output, priors_out=priors_out, output_format=output_format,
        input_format=input_format, encoding=encoding, train_manifest=training,
        train_priors=train_priors, target_priors=target_priors,
        estimate=None if estimate is None else estimate.value, val_predictions=val_preds,
        true_col=true_col, proba_prefix=proba_prefix, proba_cols=proba_cols, tol=tol,
        max_iter=max_iter,
    )  # fmt: skip
    _say_priors(result, target_priors)
    emit.message(
        f"rebalance: wrote {output}: {result.table.num_rows:,} rows, "
        f"{result.changed:,} prediction(s) changed"
        + (f"; priors in {priors_out}" if priors_out else "")
    )
    if result.target.method == "em" and not result.target.converged:
        emit.warn(f"EM did not converge in {max_iter} iterations")
    if json_out:
        emit.write_stdout(emit.dump_json(result.to_dict()))


def _say_priors(result: Any, target_priors: Any) -> None:
    """The priors on both sides, and where the test priors came from, on stderr."""
    from rebalance import emit

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
