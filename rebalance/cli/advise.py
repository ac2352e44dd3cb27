"""``rebalance advise``."""

from __future__ import annotations

from typing import Annotated

import typer

from rebalance.cli.app import app
from rebalance.cli.options import (
    DropMissingOpt,
    EncodingOpt,
    InputFormatOpt,
    JsonOpt,
    LabelOpt,
    ManifestArg,
    NoSplitOpt,
    PathColOpt,
    RootOpt,
    SeedOpt,
    SplitOpt,
    WorkersOpt,
    _inputs,
    _path_text,
)


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
