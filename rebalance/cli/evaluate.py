"""``rebalance evaluate``."""

from types import SimpleNamespace
from typing import Annotated, Any

import typer

from rebalance.cli.app import PanelCommand, app
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
    _list_labels,
)
from rebalance.errors import RebalanceError

PredictionsOpt = Annotated[
    list[str],
    typer.Argument(
        help="Predictions file(s); several are compared side by side (delta against the first)."
    ),
]

TrueColOpt = Annotated[
    str | None,
    typer.Option(
        "--true-col",
        help="True labels. Default: y_true, label or target.",
        rich_help_panel="Columns and splits",
    ),
]

PredColOpt = Annotated[
    str | None,
    typer.Option(
        "--pred-col",
        help="Predicted labels. Default: y_pred, pred or prediction.",
        rich_help_panel="Columns and splits",
    ),
]

ProbaPrefixOpt = Annotated[
    str | None,
    typer.Option(
        "--proba-prefix",
        help="Per-class score columns PREFIX<label>, e.g. p_.",
        rich_help_panel="Scores",
    ),
]

ScoreColOpt = Annotated[
    str | None,
    typer.Option(
        "--score-col",
        help="One score column for the --positive class (binary).",
        rich_help_panel="Scores",
    ),
]

PositiveOpt = Annotated[
    str | None,
    typer.Option(
        "--positive", help="The positive class of a binary task.", rich_help_panel="Scores"
    ),
]

AtSpecificityOpt = Annotated[
    float | None,
    typer.Option(
        "--at-specificity",
        min=0.0,
        max=1.0,
        help="Best sensitivity at specificity ≥ S (binary).",
        rich_help_panel="Scores",
    ),
]

AtRecallOpt = Annotated[
    float | None,
    typer.Option(
        "--at-recall",
        min=0.0,
        max=1.0,
        help="Best precision at recall ≥ R (binary).",
        rich_help_panel="Scores",
    ),
]

ThresholdsOpt = Annotated[
    bool,
    typer.Option(
        "--thresholds",
        help="Threshold sweep with F1- and Youden-optimal cut-offs (binary).",
        rich_help_panel="Scores",
    ),
]

BinsOpt = Annotated[
    int,
    typer.Option(
        "--bins", min=2, help="Bins of the calibration (ECE) table.", rich_help_panel="Scores"
    ),
]

BootstrapOpt = Annotated[
    int,
    typer.Option(
        "--bootstrap",
        min=0,
        help="Bootstrap resamples for 95% intervals (gates then use the bound).",
        rich_help_panel="Scores",
    ),
]

TrainManifestOpt = Annotated[
    str | None,
    typer.Option(
        "--train-manifest",
        help="Training manifest: per-bucket metrics and priors.",
        rich_help_panel="Training and priors",
    ),
]

ManyShotOpt = Annotated[
    int,
    typer.Option(
        "--many-shot",
        help="Many-shot classes have more training rows.",
        rich_help_panel="Training and priors",
    ),
]

FewShotOpt = Annotated[
    int,
    typer.Option(
        "--few-shot",
        help="Few-shot classes have fewer training rows.",
        rich_help_panel="Training and priors",
    ),
]

AdjustPriorsOpt = Annotated[
    bool,
    typer.Option(
        "--adjust-priors",
        help="Re-weight scores by target/train priors; report before and after.",
        rich_help_panel="Training and priors",
    ),
]

TargetPriorsOpt = Annotated[
    str | None,
    typer.Option(
        "--target-priors",
        help="JSON {label: prior} for --adjust-priors (default uniform).",
        rich_help_panel="Training and priors",
    ),
]

EstimatePriorsOpt = Annotated[
    EstimateMethod | None,
    typer.Option(
        "--estimate-priors",
        help="Estimate the priors of --test-preds (em or bbse); report before and after adjusting.",
        rich_help_panel="Training and priors",
    ),
]

TestPredsOpt = Annotated[
    str | None,
    typer.Option(
        "--test-preds",
        help="Unlabelled test predictions (same score columns), for --estimate-priors.",
        rich_help_panel="Training and priors",
    ),
]

FailUnderOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-under",
        help="Gate METRIC=VALUE: exit 1 when below (repeatable), e.g. 'recall[fraud]=0.8'.",
        rich_help_panel="Gates",
    ),
]

FailOverOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-over",
        help="Gate METRIC=VALUE: exit 1 when above (ece, brier).",
        rich_help_panel="Gates",
    ),
]

OutputOpt = Annotated[
    str | None,
    typer.Option("--output", "-o", help="Write the JSON report here.", rich_help_panel="Output"),
]

MarkdownOpt = Annotated[
    str | None,
    typer.Option("--markdown", help="Write a Markdown report here.", rich_help_panel="Output"),
]

HtmlOutOpt = Annotated[
    str | None,
    typer.Option(
        "--html", help="Write a self-contained HTML report here.", rich_help_panel="Output"
    ),
]

TopOpt = Annotated[
    int,
    typer.Option("--top", min=1, help="Worst classes by recall shown.", rich_help_panel="Output"),
]

ShowAllOpt = Annotated[
    bool, typer.Option("--all", help="Show every class.", rich_help_panel="Output")
]

LabelColsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--label-cols",
        help="Multi-label truth as 0/1 columns (names or globs), scored by --proba-prefix.",
        rich_help_panel="Multi-label",
    ),
]

ThresholdOpt = Annotated[
    float,
    typer.Option(
        "--threshold",
        help="Multi-label: a label is predicted when its score is ≥ T.",
        rich_help_panel="Multi-label",
    ),
]


EVALUATE_HELP = """A metrics report that does not lie under imbalance, with CI gates.

    Example:

        rebalance evaluate preds.csv

        rebalance evaluate preds.parquet --proba-prefix p_ -o report.json

        rebalance evaluate preds.csv --fail-under macro_f1=0.6 --fail-under 'recall[fraud]=0.8'

        rebalance evaluate preds.csv --positive fraud --at-specificity 0.9

        rebalance evaluate baseline.csv rebalanced.csv

        rebalance evaluate tag_preds.parquet --multi-label --proba-prefix p_
"""


@app.command("evaluate", help=EVALUATE_HELP, cls=PanelCommand)
def evaluate_command(
    ctx: typer.Context,
    predictions: PredictionsOpt,
    true_col: TrueColOpt = None,
    pred_col: PredColOpt = None,
    proba_prefix: ProbaPrefixOpt = None,
    proba_cols: ProbaColsOpt = None,
    score_col: ScoreColOpt = None,
    positive: PositiveOpt = None,
    at_specificity: AtSpecificityOpt = None,
    at_recall: AtRecallOpt = None,
    thresholds: ThresholdsOpt = False,
    bins: BinsOpt = 15,
    bootstrap: BootstrapOpt = 0,
    seed: SeedOpt = 0,
    train_manifest: TrainManifestOpt = None,
    train_label_col: TrainLabelColOpt = None,
    train_split: TrainSplitOpt = None,
    train_split_col: TrainSplitColOpt = None,
    many_shot: ManyShotOpt = 100,
    few_shot: FewShotOpt = 20,
    adjust_priors: AdjustPriorsOpt = False,
    target_priors: TargetPriorsOpt = None,
    estimate_priors: EstimatePriorsOpt = None,
    test_preds: TestPredsOpt = None,
    fail_under: FailUnderOpt = None,
    fail_over: FailOverOpt = None,
    output: OutputOpt = None,
    json_out: JsonOpt = False,
    markdown: MarkdownOpt = None,
    html_out: HtmlOutOpt = None,
    top: TopOpt = 10,
    show_all: ShowAllOpt = False,
    drop_missing: DropMissingOpt = False,
    input_format: InputFormatOpt = None,
    encoding: EncodingOpt = "utf-8",
    multi_label: MultiLabelOpt = False,
    sep: SepOpt = None,
    label_cols: LabelColsOpt = None,
    threshold: ThresholdOpt = 0.5,
) -> None:
    """``rebalance evaluate``: gates and destinations checked, then one kind evaluates."""
    from rebalance import render
    from rebalance.metrics import parse_gate

    flags = SimpleNamespace(**{k: v for k, v in locals().items() if k != "ctx"})  # typed values
    flags.gates_under = [parse_gate(g, "--fail-under") for g in fail_under or []]
    flags.gates_over = [parse_gate(g, "--fail-over") for g in fail_over or []]
    _check_evaluate_destinations(ctx, flags)
    flags.label_cols = _label_cols(label_cols)
    failures = _EVALUATORS[_evaluate_kind(ctx, flags)](flags)
    for failure in failures:
        render.message(f"rebalance: gate failed: {failure}")
    if failures:
        raise typer.Exit(1)


_SINGLE_ONLY = ("proba_cols", "score_col", "positive", "at_specificity", "at_recall",
                "thresholds", "bootstrap", "train_manifest", "adjust_priors", "target_priors",
                "estimate_priors", "test_preds", "html_out", "drop_missing")  # fmt: skip


def _check_evaluate_destinations(ctx: typer.Context, f: SimpleNamespace) -> None:
    from rebalance.output import check_destinations

    f.destinations = [
        ("-o", f.output),
        ("--json", "-" if f.json_out else None),
        ("--markdown", f.markdown),
        ("--html", f.html_out),
    ]
    check_destinations(
        f.destinations,
        _inputs(ctx, *f.predictions, f.train_manifest, f.target_priors, f.test_preds),
    )


def _evaluate_kind(ctx: typer.Context, f: SimpleNamespace) -> str:
    """``multi-label`` or ``single``, chosen once; the other kind's options are refused."""
    if not (f.multi_label or f.sep is not None or f.label_cols) and len(f.predictions) == 1:
        from rebalance.multilabel.evaluation import TRUE_CANDIDATES

        listed = _list_labels(
            str(f.predictions[0]), f.true_col, f.input_format, f.encoding,
            candidates=TRUE_CANDIDATES, flag="--true-col",
        )  # fmt: skip
        f.multi_label, f.true_col = bool(listed) or f.multi_label, listed or f.true_col
    if not (f.multi_label or f.sep is not None or f.label_cols):
        if _from_command_line(ctx, "threshold"):
            raise RebalanceError("--threshold applies with --multi-label (binary: --thresholds)")
        return "single"
    for name in _SINGLE_ONLY:
        if _from_command_line(ctx, name):
            flag = "--" + name.replace("_out", "").replace("_", "-")
            raise RebalanceError(f"{flag} does not apply with --multi-label")
    if len(f.predictions) > 1:
        raise RebalanceError("--multi-label evaluates one predictions file at a time")
    return "multi-label"


def _evaluate_single(f: SimpleNamespace) -> list[str]:
    """One label per row (one file, or several compared): report, render, the gates failed."""
    from rebalance import render
    from rebalance.evaluation import evaluate

    result = evaluate(
        f.predictions, true_col=f.true_col, pred_col=f.pred_col, proba_prefix=f.proba_prefix,
        proba_cols=f.proba_cols, score_col=f.score_col, positive=f.positive,
        drop_missing=f.drop_missing, input_format=f.input_format, encoding=f.encoding,
        train_manifest=_training(f),
        target_priors=f.target_priors,
        estimate_priors=None if f.estimate_priors is None else f.estimate_priors.value,
        test_predictions=f.test_preds, at_specificity=f.at_specificity, at_recall=f.at_recall,
        thresholds=f.thresholds, bins=f.bins, bootstrap=f.bootstrap, seed=f.seed,
        many_shot=f.many_shot, few_shot=f.few_shot, prior_adjust=f.adjust_priors,
    )  # fmt: skip
    trained = result.training
    if trained is not None:
        where = (
            f"split {trained.split!r} of column {trained.split_col!r}"
            if trained.split is not None
            else "every row (no split column)"
        )
        render.message(
            f"rebalance: training counts from {where} of {f.train_manifest}: "
            f"{trained.rows:,} rows, {len(trained.counts):,} classes"
            + (" (choose with --train-split)" if trained.split is not None else "")
        )
    # gates are checked (unknown metric names are errors) before anything is written
    failures = result.gate_failures(f.gates_under, f.gates_over)
    _write_reports(f, result)
    _show_single(f, result)
    return failures


def _training(f: SimpleNamespace) -> Any:
    from rebalance.counts import TrainingSource

    return TrainingSource.of(
        f.train_manifest, label_col=f.train_label_col, split=f.train_split,
        split_col=f.train_split_col,
    )  # fmt: skip


def _write_reports(f: SimpleNamespace, result: Any) -> None:
    """The JSON report (-o, --json), Markdown and HTML, written together."""
    from rebalance import render
    from rebalance.output import staged, write_text

    preds0, first = result.predictions[0], result.evaluations[0]
    html = _html_report(result) if f.html_out else None
    with staged():
        if f.output:
            write_text(f.output, render.dump_json(result.report))
        if f.json_out:
            render.write_stdout(render.dump_json(result.report))
        if f.markdown:
            write_text(
                f.markdown,
                render.evaluation_markdown(first.report, first.warnings, source=preds0.source),
            )
        if f.html_out and html is not None:
            write_text(f.html_out, html)


def _html_report(result: Any) -> str:
    from rebalance.metrics import curve_points
    from rebalance.report_html import render_html

    preds0, first = result.predictions[0], result.evaluations[0]
    curves = None
    if preds0.scores is not None:
        positive = (first.report.get("binary") or {}).get("positive")
        curves = curve_points(preds0.y_true, preds0.scores, positive=positive)
    return render_html(
        first.report,
        title=f"rebalance evaluate · {preds0.source}",
        warnings=first.warnings,
        curves=curves,
    )


def _show_single(f: SimpleNamespace, result: Any) -> None:
    """Warnings on stderr; the report's table unless stdout holds data."""
    from rebalance import render

    data_on_stdout = any(path == "-" for _, path in f.destinations)
    several = len(result.evaluations) > 1
    for w in result.warnings:
        render.warn(w)
    if data_on_stdout or several:
        # stdout holds data (or a comparison follows): warnings alone, on stderr
        for p, e in zip(result.predictions, result.evaluations, strict=True):
            for w in e.warnings:
                render.warn(f"{p.source}: {w}" if several else w)
    if data_on_stdout:
        return
    if several:
        render.print_compare(result.report)
    else:
        first = result.evaluations[0]
        render.print_evaluation(result.report, first.warnings, top=f.top, show_all=f.show_all)


def _evaluate_multilabel(f: SimpleNamespace) -> list[str]:
    """``--multi-label``: per-label and averaged metrics over label sets; the gates failed."""
    from rebalance import render
    from rebalance.multilabel.evaluation import evaluate_multilabel, gate_failures
    from rebalance.multilabel.render import evaluation_markdown, print_evaluation
    from rebalance.output import staged, write_text

    result = evaluate_multilabel(
        str(f.predictions[0]), true_col=f.true_col, pred_col=f.pred_col, sep=f.sep,
        label_cols=f.label_cols, proba_prefix=f.proba_prefix, threshold=f.threshold,
        input_format=f.input_format, encoding=f.encoding,
    )  # fmt: skip
    failures = gate_failures(result, under=f.gates_under, over=f.gates_over)
    doc = result.to_dict()
    with staged():
        if f.output:
            write_text(f.output, render.dump_json(doc))
        if f.json_out:
            render.write_stdout(render.dump_json(doc))
        if f.markdown:
            write_text(f.markdown, evaluation_markdown(result))
    for w in result.warnings:
        render.warn(w)
    if not f.json_out and f.output != "-" and f.markdown != "-":
        print_evaluation(result, top=f.top, show_all=f.show_all)
    return failures


_EVALUATORS = {"single": _evaluate_single, "multi-label": _evaluate_multilabel}
