"""``rebalance advise``."""

from typing import Annotated, Any

import typer

from rebalance.cli.app import PanelCommand, app
from rebalance.cli.options import (
    DropMissingOpt,
    EncodingOpt,
    InputFormatOpt,
    JsonOpt,
    LabelOpt,
    ManifestArg,
    MaxImagePixelsOpt,
    NoSplitOpt,
    PathColOpt,
    RootOpt,
    SeedOpt,
    SplitOpt,
    WorkersOpt,
    _inputs,
    _path_text,
    _pixel_limit,
)

FeaturesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--features",
        help="Feature columns (names or globs, repeatable), or one list column of embeddings. Default: every numeric column.",
        rich_help_panel="Columns and splits",
    ),
]

ImageFeaturesOpt = Annotated[
    str | None,
    typer.Option(
        "--image-features",
        help="Use image descriptors of the path column: builtin or cnn.",
        rich_help_panel="Images",
    ),
]

FromSplitOpt = Annotated[
    str | None,
    typer.Option(
        "--from-split",
        help="Split whose rows are used (default: train, when there is a split column).",
        rich_help_panel="Columns and splits",
    ),
]

MetricOpt = Annotated[
    str,
    typer.Option(
        "--metric",
        help="Rank by: balanced_accuracy, macro_f1, g_mean, minority_recall or pr_auc (threshold moving tunes for it too).",
        rich_help_panel="Measurement",
    ),
]

ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        help="logreg (standardised logistic regression) or hgb (gradient boosting).",
        rich_help_panel="Measurement",
    ),
]

FoldsOpt = Annotated[
    int, typer.Option("--folds", min=2, help="Stratified folds.", rich_help_panel="Measurement")
]

RepeatsOpt = Annotated[
    int,
    typer.Option("--repeats", min=1, help="Repeats of the k folds.", rich_help_panel="Measurement"),
]

RemediesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--remedies",
        help="Remedies to score (comma-separated or repeatable; none is always scored). Default: all.",
        rich_help_panel="Measurement",
    ),
]

NJobsOpt = Annotated[
    int | None,
    typer.Option(
        "--n-jobs", help="Folds fitted in parallel (-1: every core).", rich_help_panel="Measurement"
    ),
]

MaxRowsOpt = Annotated[
    int,
    typer.Option(
        "--max-rows",
        min=100,
        help="Above this, a stratified sample of it is used (with a warning).",
        rich_help_panel="Measurement",
    ),
]

OutputOpt = Annotated[
    str | None,
    typer.Option("--output", "-o", help="Write the JSON result here.", rich_help_panel="Output"),
]

HtmlOutOpt = Annotated[
    str | None,
    typer.Option(
        "--html", help="Write a self-contained HTML chart here.", rich_help_panel="Output"
    ),
]


ADVISE_HELP = """Which remedy helps on your data: each one cross-validated inside the training folds.

    Example:

        rebalance advise train.csv --features 'f*' --metric balanced_accuracy

        rebalance advise emb.parquet --features embedding --model hgb --folds 5 --json

        rebalance advise fraud.csv --remedies smote,balanced-weights --html advice.html
"""


@app.command("advise", help=ADVISE_HELP, cls=PanelCommand)
def advise_command(
    ctx: typer.Context,
    manifest: ManifestArg,
    features: FeaturesOpt = None,
    image_features: ImageFeaturesOpt = None,
    label_col: LabelOpt = None,
    split_col: SplitOpt = None,
    no_split: NoSplitOpt = False,
    from_split: FromSplitOpt = None,
    metric: MetricOpt = "balanced_accuracy",
    model: ModelOpt = "logreg",
    folds: FoldsOpt = 5,
    repeats: RepeatsOpt = 2,
    seed: SeedOpt = 0,
    remedies: RemediesOpt = None,
    n_jobs: NJobsOpt = None,
    max_rows: MaxRowsOpt = 200_000,
    output: OutputOpt = None,
    json_out: JsonOpt = False,
    html_out: HtmlOutOpt = None,
    path_col: PathColOpt = None,
    root: RootOpt = None,
    workers: WorkersOpt = None,
    max_image_pixels: MaxImagePixelsOpt = None,
    drop_missing: DropMissingOpt = False,
    input_format: InputFormatOpt = None,
    encoding: EncodingOpt = "utf-8",
) -> None:
    """``rebalance advise``: destinations checked, one library call, the advice rendered."""
    from rebalance import emit
    from rebalance.advise import ImageFeatures, advise_file
    from rebalance.output import check_destinations

    source = _path_text(manifest)
    images = None
    if image_features is not None:
        images = ImageFeatures(image_features, path_col=path_col, root=root, workers=workers)
    destinations = [("-o", output), ("--json", "-" if json_out else None), ("--html", html_out)]
    check_destinations(destinations, _inputs(ctx, source))
    with _pixel_limit(max_image_pixels, root):
        result = advise_file(
            source, features=features, image_features=images, label_col=label_col,
            split_col=split_col, detect_split=not no_split, from_split=from_split,
            max_rows=max_rows,
            drop_missing=drop_missing, input_format=input_format, encoding=encoding,
            estimate=True, messages=emit.message, remedies=remedies, model=model, folds=folds,
            repeats=repeats, seed=seed, metric=metric, n_jobs=n_jobs,
        )  # fmt: skip
    doc = result.to_dict()
    _write_advice(doc, output, json_out, html_out)
    emit.message(f"rebalance: advise took {result.seconds:.1f} s")
    if not (json_out or output == "-"):  # stdout holds no data: the table for people
        from rebalance import render

        render.print_advice(doc)


def _write_advice(
    doc: dict[str, Any], output: str | None, json_out: bool, html_out: str | None
) -> None:
    """The JSON document (-o, --json) and the HTML page, written together."""
    from rebalance import emit
    from rebalance.output import staged, write_text

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
