"""``rebalance evaluate``."""

from __future__ import annotations

from typing import Annotated

import typer

from rebalance.cli.app import app
from rebalance.cli.options import (
    DropMissingOpt,
    EncodingOpt,
    EstimateMethod,
    InputFormatOpt,
    JsonOpt,
    MultiLabelOpt,
    ProbaColsOpt,
    SeedOpt,
    SepOpt,
    TrainLabelColOpt,
    TrainSplitColOpt,
    TrainSplitOpt,
    _from_command_line,
    _inputs,
    _label_cols,
)
from rebalance.errors import RebalanceError


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
