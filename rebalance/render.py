"""Printing results: rich tables for people, JSON/Markdown/CSV for machines.

The only module that imports rich. Commands hand it typed results; data goes to
stdout, messages to stderr. rich turns colour off by itself for non-TTY output and
when ``NO_COLOR`` is set.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from rebalance.emit import dump_json as dump_json
from rebalance.emit import message as message
from rebalance.emit import warn as warn
from rebalance.emit import write_stdout as write_stdout
from rebalance.manifest import MISSING
from rebalance.stats import Distribution, InspectReport
from rebalance.text import printable
from rebalance.weights import ClassWeights

if TYPE_CHECKING:
    from rebalance.images.scan import ImageScan
    from rebalance.plan import Plan
    from rebalance.resampling import ResampleResult

_BAR_WIDTH = 30
_OFF_TERMINAL_WIDTH = 240


class _Console(Console):
    """A console that shows control characters in the strings it prints as escapes."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        # text from user files ("[bold]x" is a label) is never read as rich markup
        kwargs.setdefault("markup", False)
        super().print(*(printable(o) if isinstance(o, str) else o for o in objects), **kwargs)


class _Table(Table):
    """A table whose titles, headers and cells show control characters as escapes."""

    def __init__(self, *headers: Any, title: str | None = None, **kwargs: Any) -> None:
        # the title is printed on its own line, whole: rich would wrap it to the table's width
        kwargs.pop("title_justify", None)
        super().__init__(*headers, **kwargs)
        self.heading = None if title is None else printable(title)

    def __rich_console__(self, console: Console, options: Any) -> Any:
        if self.heading:
            yield Text(self.heading, style="table.title", no_wrap=True, overflow="ignore")
        yield from super().__rich_console__(console, options)

    def add_column(self, header: Any = "", *args: Any, **kwargs: Any) -> None:
        super().add_column(
            printable(header) if isinstance(header, str) else header, *args, **kwargs
        )

    def add_row(self, *cells: Any, **kwargs: Any) -> None:
        super().add_row(*(Text(printable(c)) if isinstance(c, str) else c for c in cells), **kwargs)


def _width(file: Any) -> int | None:
    """Off a terminal (a file, a CI log, a pipe), lines are as long as they need to be.

    rich would wrap them at 80 columns; ``COLUMNS``, when set, still wins.
    """
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    isatty = getattr(file, "isatty", None)
    if isatty is not None and isatty():
        return None
    return _OFF_TERMINAL_WIDTH


def stdout_console() -> Console:
    return _Console(file=sys.stdout, highlight=False, soft_wrap=False, width=_width(sys.stdout))


def stderr_console() -> Console:
    return _Console(file=sys.stderr, highlight=False, soft_wrap=True, width=_width(sys.stderr))


@contextmanager
def progress(description: str, total: float | None = None) -> Iterator[Any]:
    """A progress bar on stderr, shown only when stderr is a terminal."""
    console = stderr_console()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)

        class _Tick:
            def advance(self, n: float) -> None:
                bar.advance(task, n)

        yield _Tick()


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.{digits}g}"


def _rows_to_show(items: Sequence[tuple[str, int]], top: int, show_all: bool) -> list[Any]:
    """Top and bottom rows with a '… N more' marker in between (``None``)."""
    if show_all or len(items) <= 2 * top + 1:
        return list(items)
    hidden = len(items) - 2 * top
    return [*items[:top], hidden, *items[-top:]]


def _bar(count: int, largest: int) -> str:
    if largest <= 0:
        return ""
    filled = count / largest * _BAR_WIDTH
    full = int(filled)
    bar = "█" * full
    if filled - full >= 0.5 or (count > 0 and full == 0):
        bar += "▌"
    return bar


def _distribution_table(d: Distribution, title: str, top: int, show_all: bool) -> Table:
    table = _Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("label", overflow="fold")
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    table.add_column("", no_wrap=True)
    total = sum(d.counts.values())
    largest = max(d.counts.values(), default=0)
    for row in _rows_to_show(list(d.counts.items()), top, show_all):
        if isinstance(row, int):
            table.add_row(f"… {row:,} more", "", "", "", style="dim")
            continue
        label, count = row
        table.add_row(label, f"{count:,}", f"{count / total:.2%}", _bar(count, largest))
    if d.missing_labels:
        table.add_row(MISSING, f"{d.missing_labels:,}", "", "", style="yellow")
    return table


def key_values(lines: Sequence[tuple[str, str]]) -> Table:
    """A two-column grid of measures: the name in bold, then its value."""
    grid = _Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in lines:
        grid.add_row(key, value)
    return grid


def _summary_lines(d: Distribution) -> list[tuple[str, str]]:
    if not d.counts:
        return [("rows", f"{d.rows:,}"), ("classes", "0")]
    return [
        ("rows", f"{d.rows:,}"),
        ("classes", f"{d.classes:,}"),
        ("imbalance ratio", f"{_fmt(d.imbalance_ratio)} : 1"),
        ("majority", f"{d.majority} ({d.counts[d.majority or '']:,})"),
        ("minority", f"{d.minority} ({d.counts[d.minority or '']:,})"),
        ("median class size", _fmt(d.median_count)),
        ("entropy (1 = balanced)", _fmt(d.entropy)),
        ("effective classes", _fmt(d.effective_classes)),
        ("gini (0 = balanced)", _fmt(d.gini)),
        ("singletons", f"{len(d.singletons):,}"),
        (f"classes under {d.min_count}", f"{len(d.small_classes):,}"),
        ("missing labels", f"{d.missing_labels:,}"),
    ]


def print_inspect(report: InspectReport, *, top: int = 10, show_all: bool = False) -> None:
    """The human view of an inspect report (stdout)."""
    console = stdout_console()
    d = report.overall
    console.print(
        _distribution_table(
            d, f"{report.source} · label column {report.label_col!r}", top, show_all
        )
    )
    console.print()
    console.print(key_values(_summary_lines(d)))
    if report.splits is None or report.drift is None:
        return
    console.print()
    splits = _Table(
        title=f"per split · column {report.split_col!r}", title_justify="left", show_edge=False
    )
    for name in ("split", "rows", "classes", "ratio", "minority", "singletons", "missing labels"):
        splits.add_column(name, justify="left" if name in ("split", "minority") else "right")
    for name, s in report.splits.items():
        splits.add_row(
            name,
            f"{s.rows:,}",
            f"{s.classes:,}",
            _fmt(s.imbalance_ratio),
            f"{s.minority} ({s.counts[s.minority]:,})" if s.minority else "—",
            f"{len(s.singletons):,}",
            f"{s.missing_labels:,}",
        )
    console.print(splits)
    drift = report.drift
    for name, labels in drift.absent.items():
        shown = ", ".join(labels[:top]) + (
            f", … {len(labels) - top:,} more" if len(labels) > top else ""
        )
        console.print(
            f"absent from {name}: {len(labels):,} class(es) seen in another split: {shown}"
        )
    if drift.max_shift_label is not None and drift.max_shift_splits is not None:
        a, b = drift.max_shift_splits
        console.print(
            f"largest share shift: {drift.max_share_shift:.2%} for {drift.max_shift_label!r} "
            f"({a} {report.splits[a].share(drift.max_shift_label):.2%} vs "
            f"{b} {report.splits[b].share(drift.max_shift_label):.2%})"
        )


def inspect_markdown(report: InspectReport, *, top: int = 10, show_all: bool = False) -> str:
    """A Markdown rendering of an inspect report (for CI summaries and PRs)."""
    d = report.overall
    out = [f"## Class distribution: `{report.source}` (label column `{report.label_col}`)", ""]
    out += ["| label | count | share |", "|---|---:|---:|"]
    total = sum(d.counts.values())
    for row in _rows_to_show(list(d.counts.items()), top, show_all):
        if isinstance(row, int):
            out.append(f"| … {row:,} more | | |")
        else:
            out.append(f"| {_md(row[0])} | {row[1]:,} | {row[1] / total:.2%} |")
    if d.missing_labels:
        out.append(f"| {MISSING} | {d.missing_labels:,} | |")
    out += ["", "| measure | value |", "|---|---:|"]
    out += [f"| {k} | {_md(v)} |" for k, v in _summary_lines(d)]
    if report.splits is not None:
        out += ["", f"### Per split (`{report.split_col}`)", ""]
        out += ["| split | rows | classes | ratio | singletons |", "|---|---:|---:|---:|---:|"]
        for name, s in report.splits.items():
            out.append(
                f"| {_md(name)} | {s.rows:,} | {s.classes:,} | {_fmt(s.imbalance_ratio)} "
                f"| {len(s.singletons):,} |"
            )
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return printable(text.replace("|", "\\|").replace("\n", " "))


def inspect_csv(report: InspectReport) -> str:
    """label,count,share rows (every class; split columns when present)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    d = report.overall
    total = sum(d.counts.values())
    if report.splits is None:
        writer.writerow(["label", "count", "share"])
        for label, count in d.counts.items():
            writer.writerow([label, count, repr(count / total)])
        return buf.getvalue()
    names = list(report.splits)
    writer.writerow(["label", "count", "share", *(f"count_{n}" for n in names)])
    for label, count in d.counts.items():
        writer.writerow(
            [
                label,
                count,
                repr(count / total),
                *(report.splits[n].counts.get(label, 0) for n in names),
            ]
        )
    return buf.getvalue()


def weights_csv(weights: ClassWeights) -> str:
    """label,count,weight in class-index order."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["label", "count", "weight"])
    for label in weights.classes:
        writer.writerow([label, weights.counts.get(label, 0), repr(weights.weights[label])])
    return buf.getvalue()


def plan_table(
    plan: Plan,
    *,
    produced: dict[str, int] | None = None,
    top: int = 10,
    show_all: bool = False,
    title: str = "",
) -> Table:
    """Before → after per class (and what was produced, when it differs)."""
    table = _Table(title=title or None, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("label", overflow="fold")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    table.add_column("change", justify="right")
    differs = produced is not None and any(produced[k] != plan.targets[k] for k in plan.counts)
    if differs:
        table.add_column("produced", justify="right")
    items = sorted(plan.counts.items(), key=lambda kv: (-kv[1], kv[0]))
    for row in _rows_to_show(items, top, show_all):
        if isinstance(row, int):
            table.add_row(f"… {row:,} more", "", "", "", *([""] if differs else []), style="dim")
            continue
        label, before = row
        after = plan.targets[label]
        extra = [f"{produced[label]:,}"] if differs and produced is not None else []
        if plan.cleaning:
            bound = plan.may_remove.get(label, 0)
            shown = f"{before - bound:,}–{before:,}" if bound else f"{before:,}"
            change = f"up to −{bound:,}" if bound else "kept (minority)"
            table.add_row(label, f"{before:,}", shown, change, *extra)
            continue
        table.add_row(label, f"{before:,}", f"{after:,}", f"{after - before:+,}", *extra)
    return table


def print_plan(
    plan: Plan,
    *,
    top: int = 10,
    show_all: bool = False,
    title: str = "",
    refused: str | None = None,
) -> None:
    """The dry-run view of a plan (stdout)."""
    console = stdout_console()
    console.print(plan_table(plan, top=top, show_all=show_all, title=title))
    console.print()
    if plan.cleaning:
        cleaned = len(plan.may_remove)
        console.print(
            f"rows {plan.rows_before:,} → at most {plan.rows_before:,}  (up to "
            f"{sum(plan.may_remove.values()):,} removed from {cleaned:,} class(es): a cleaning "
            "method removes the noisy and borderline rows it finds and adds none)",
            markup=False,
        )
    else:
        console.print(
            f"rows {plan.rows_before:,} → {plan.rows_after:,}  (+{plan.added:,} added, −{plan.removed:,} removed)  "
            f"target {plan.target}, mode {plan.mode}",
            markup=False,
        )
    if refused is not None:
        console.print(f"note: the real run would be refused: {refused}", markup=False)


def print_resample_summary(result: ResampleResult, destination: str, *, top: int = 10) -> None:
    """What a resample did, for the person at the terminal (stderr)."""
    console = stderr_console()
    if console.is_terminal:
        console.print(plan_table(result.plan, produced=result.produced, top=top))
    synthetic = f", {result.synthetic_rows:,} synthetic" if result.synthetic_rows else ""
    passed = f", {result.passthrough_rows:,} passed through" if result.passthrough_rows else ""
    console.print(
        f"rebalance: wrote {destination}: {result.table.num_rows:,} rows "
        f"({result.plan.rows_before:,} resampled → {sum(result.produced.values()):,}{synthetic}{passed}; "
        f"method {result.method}, target {result.plan.target}, seed {result.seed})",
        markup=False,
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def print_evaluation(
    report: dict[str, Any], warnings: Sequence[str], *, top: int = 10, show_all: bool = False
) -> None:
    """The human view of an evaluation (stdout); warnings go to stderr, loudly."""
    err = stderr_console()
    for w in warnings:
        err.print(
            f"rebalance: warning: {w}",
            style="bold red" if "PARADOX" in w else "yellow",
            markup=False,
        )
    console = stdout_console()
    console.print(_headline(report))
    console.print()
    _print_per_class(console, report, top=top, show_all=show_all)
    if report.get("binary"):
        _print_binary(console, report["binary"])
    if report.get("buckets"):
        _print_buckets(console, report["buckets"])
    if report.get("prior_adjusted"):
        _print_prior_adjusted(console, report)


def _headline(report: dict[str, Any]) -> Any:
    """The whole-report metrics, each beside what it is compared with."""
    head = _Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column(justify="right")
    head.add_column(style="dim")
    head.add_row("rows", f"{report['n']:,}", "")
    head.add_row(
        "accuracy",
        _pct(report["accuracy"]),
        f"always predicting {report['baseline_label']!r} scores {_pct(report['baseline_accuracy'])}",
    )
    head.add_row("balanced accuracy", _pct(report["balanced_accuracy"]), "mean recall over classes")
    head.add_row(
        "macro F1",
        _num(report["macro"]["f1"]),
        f"weighted {_num(report['weighted']['f1'])}, micro {_num(report['micro']['f1'])}",
    )
    head.add_row("MCC", _num(report["mcc"]), "")
    head.add_row("Cohen's kappa", _num(report["kappa"]), "")
    head.add_row("G-mean", _num(report["geometric_mean"]), "geometric mean of recalls")
    scores = report.get("scores")
    if scores:
        head.add_row("ROC AUC (macro)", _num(scores["roc_auc_macro"]), "one-vs-rest")
        head.add_row("PR AUC (macro)", _num(scores["pr_auc_macro"]), "average precision")
        head.add_row("Brier / ECE", f"{_num(scores['brier'])} / {_num(scores['ece'])}", "")
    boot = report.get("bootstrap")
    if boot:
        for name in ("balanced_accuracy", "macro_f1", "mcc"):
            if boot.get(name):
                head.add_row(
                    f"  95% CI {name}",
                    f"{boot[name]['low']:.4f}–{boot[name]['high']:.4f}",
                    f"{boot['resamples']} bootstrap resamples",
                )
    return head


def _print_per_class(console: Any, report: dict[str, Any], *, top: int, show_all: bool) -> None:
    """The classes by recall, worst first, and the confusion matrix when it is small."""
    per_class = report["per_class"]
    truth = [c for c, v in per_class.items() if v["support"] > 0]
    ordered = sorted(
        truth, key=lambda c: (per_class[c]["recall"] or 0.0, -per_class[c]["support"], c)
    )
    shown = ordered if show_all or len(ordered) <= top else ordered[:top]
    title = (
        "per class"
        if len(shown) == len(ordered)
        else f"worst {len(shown)} of {len(ordered):,} classes by recall (--all for every class)"
    )
    table = _Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for name in ("class", "support", "precision", "recall", "specificity", "F1"):
        table.add_column(name, justify="left" if name == "class" else "right", overflow="fold")
    has_auc = any("roc_auc" in v for v in per_class.values())
    if has_auc:
        table.add_column("ROC AUC", justify="right")
        table.add_column("PR AUC", justify="right")
    for c in shown:
        v = per_class[c]
        cells = [
            c,
            f"{v['support']:,}",
            _num(v["precision"]),
            _num(v["recall"]),
            _num(v["specificity"]),
            _num(v["f1"]),
        ]
        if has_auc:
            cells += [_num(v.get("roc_auc")), _num(v.get("pr_auc"))]
        table.add_row(*cells, style="red" if (v["recall"] or 0) == 0 else None)
    console.print(table)
    labels = report["confusion_matrix"]["labels"]
    if len(labels) <= 8:
        console.print()
        console.print("confusion matrix (rows: true, columns: predicted)", markup=False)
        cm = _Table(show_edge=False)
        cm.add_column("")
        for label in labels:
            cm.add_column(label, justify="right")
        for label, row in zip(labels, report["confusion_matrix"]["counts"], strict=True):
            cm.add_row(label, *(f"{v:,}" for v in row))
        console.print(cm)


def _print_binary(console: Any, binary: dict[str, Any]) -> None:
    """The positive class's operating points and threshold sweep."""
    console.print()
    console.print(f"positive class {binary['positive']!r}", markup=False)
    if "at_specificity" in binary:
        a = binary["at_specificity"]
        console.print(
            f"  sensitivity {_num(a['sensitivity'])} at specificity ≥ {a['specificity_required']} (threshold {_num(a['threshold'])})",
            markup=False,
        )
    if "at_recall" in binary:
        a = binary["at_recall"]
        console.print(
            f"  precision {_num(a['precision'])} at recall ≥ {a['recall_required']} (threshold {_num(a['threshold'])})",
            markup=False,
        )
    f1 = binary["f1_optimal"]
    console.print(
        f"  F1-optimal threshold {_num(f1['threshold'])}: F1 {_num(f1['f1'])}", markup=False
    )
    y = binary["youden"]
    console.print(
        f"  Youden-optimal threshold {_num(y['threshold'])}: sensitivity {_num(y['sensitivity'])}, specificity {_num(y['specificity'])}",
        markup=False,
    )
    if "sweep" in binary:
        sweep = _Table(title="threshold sweep", title_justify="left", show_edge=False)
        for name in ("threshold", "precision", "recall", "specificity", "F1"):
            sweep.add_column(name, justify="right")
        rows = binary["sweep"]
        step = max(1, len(rows) // 20)
        for r in rows[::step]:
            sweep.add_row(
                _num(r["threshold"]),
                _num(r["precision"]),
                _num(r["recall"]),
                _num(r["specificity"]),
                _num(r["f1"]),
            )
        console.print(sweep)


def _print_buckets(console: Any, buckets: dict[str, Any]) -> None:
    """Metrics by how often each class was seen in training."""
    console.print()
    bt = _Table(title="by training frequency", title_justify="left", show_edge=False)
    for name in ("bucket", "classes", "support", "accuracy", "macro recall", "macro F1"):
        bt.add_column(name, justify="left" if name == "bucket" else "right")
    th = buckets["thresholds"]
    names = {
        "many": f"many-shot (>{th['many_shot_over']})",
        "medium": "medium",
        "few": f"few-shot (<{th['few_shot_under']})",
        "unseen": "not in training",
    }
    for key, label in names.items():
        v = buckets[key]
        bt.add_row(
            label,
            f"{v['classes']:,}",
            f"{v['support']:,}",
            _num(v["accuracy"]),
            _num(v["macro_recall"]),
            _num(v["macro_f1"]),
        )
    console.print(bt)


def _print_prior_adjusted(console: Any, report: dict[str, Any]) -> None:
    """The report after correcting the scores for the test priors."""
    adjusted = report.get("prior_adjusted")
    if adjusted:
        a = adjusted["report"]
        estimate = adjusted.get("estimate")
        if estimate:
            how = f"{estimate['method'].upper()}-estimated"
            priors = ", ".join(f"{k} {v:.3g}" for k, v in list(estimate["priors"].items())[:10])
            console.print()
            console.print(f"estimated test priors ({estimate['method']}): {priors}", markup=False)
        else:
            how = "uniform" if adjusted["target_priors"] == "uniform" else "given"
        console.print()
        console.print(
            f"after prior correction ({how} target priors): "
            f"balanced accuracy {_pct(a['balanced_accuracy'])} (was {_pct(report['balanced_accuracy'])}), "
            f"macro F1 {_num(a['macro']['f1'])} (was {_num(report['macro']['f1'])})",
            markup=False,
        )


def print_compare(doc: dict[str, Any]) -> None:
    console = stdout_console()
    table = _Table(
        title="comparison (delta against the first file)", title_justify="left", show_edge=False
    )
    table.add_column("metric")
    for i, name in enumerate(doc["files"]):
        table.add_column(name, justify="right", overflow="fold")
        if i:
            table.add_column("Δ", justify="right")
    for key, v in doc["metrics"].items():
        cells = [key]
        for i, value in enumerate(v["values"]):
            cells.append(_num(value))
            if i:
                d = v["delta"][i]
                cells.append("—" if d is None else f"{d:+.4f}")
        table.add_row(*cells)
    console.print(table)


def evaluation_markdown(report: dict[str, Any], warnings: Sequence[str], *, source: str) -> str:
    out = [f"## Evaluation: `{source}`", ""]
    out += [f"> **warning:** {_md(w)}" for w in warnings]
    out += ["", "| metric | value |", "|---|---:|"]
    rows = [
        ("rows", f"{report['n']:,}"),
        ("accuracy", _pct(report["accuracy"])),
        (f"baseline (always `{report['baseline_label']}`)", _pct(report["baseline_accuracy"])),
        ("balanced accuracy", _pct(report["balanced_accuracy"])),
        ("macro F1", _num(report["macro"]["f1"])),
        ("MCC", _num(report["mcc"])),
        ("Cohen's kappa", _num(report["kappa"])),
        ("G-mean", _num(report["geometric_mean"])),
    ]
    if report.get("scores"):
        rows += [
            ("ROC AUC (macro)", _num(report["scores"]["roc_auc_macro"])),
            ("PR AUC (macro)", _num(report["scores"]["pr_auc_macro"])),
        ]
    out += [f"| {k} | {v} |" for k, v in rows]
    out += [
        "",
        "| class | support | precision | recall | specificity | F1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, v in sorted(report["per_class"].items(), key=lambda kv: (-kv[1]["support"], kv[0])):
        out.append(
            f"| {_md(label)} | {v['support']:,} | {_num(v['precision'])} | {_num(v['recall'])} | {_num(v['specificity'])} | {_num(v['f1'])} |"
        )
    return "\n".join(out) + "\n"


def print_scan(scan: ImageScan, *, top: int = 10, show_all: bool = False) -> None:
    """The image files and mask pixels sections of ``inspect`` (stdout)."""
    console = stdout_console()
    files = scan.files
    if files is not None:
        console.print()
        grid = _Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        grid.add_row("image files", f"{files.rows:,} rows, column {scan.path_col!r}")
        grid.add_row("readable", f"{files.ok:,}")
        for name in ("missing", "unreadable", "corrupt", "too_large"):
            bad: list[str] = getattr(files, name)
            if name == "too_large" and not bad:
                continue  # said only when there are some (over --max-image-pixels)
            shown = ", ".join(bad[:5]) + (f", … {len(bad) - 5:,} more" if len(bad) > 5 else "")
            grid.add_row(name.replace("_", " "), f"{len(bad):,}" + (f"  {shown}" if bad else ""))
        if files.empty:
            grid.add_row("no path", f"{files.empty:,}")
        for title, counts in (
            ("sizes", files.sizes),
            ("modes", files.modes),
            ("formats", files.formats),
        ):
            items = list(counts.items())
            text = ", ".join(f"{k} ({v:,})" for k, v in items[:top])
            grid.add_row(
                title, text + (f", … {len(items) - top:,} more" if len(items) > top else "")
            )
        console.print(grid)
    pixels = scan.pixels
    if pixels is not None:
        console.print()
        table = _Table(
            title=f"pixels · mask column {scan.mask_col!r} · {pixels.images:,} masks",
            title_justify="left",
            show_edge=False,
            pad_edge=False,
        )
        for name in ("class", "pixels", "share", "images with it", ""):
            table.add_column(
                name, justify="left" if name in ("class", "") else "right", no_wrap=name == ""
            )
        largest = max(pixels.counts.values(), default=0)
        share = pixels.share
        for row in _rows_to_show(list(pixels.counts.items()), top, show_all):
            if isinstance(row, int):
                table.add_row(f"… {row:,} more", "", "", "", "", style="dim")
                continue
            label, count = row
            table.add_row(
                label,
                f"{count:,}",
                f"{share[label]:.4%}",
                f"{pixels.images_with_class[label]:,}",
                _bar(count, largest),
            )
        console.print(table)
        console.print(f"pixel imbalance ratio  {_fmt(pixels.imbalance_ratio)} : 1", markup=False)


_ADVICE_HEADERS = {
    "balanced_accuracy": "bal acc",
    "macro_f1": "macro F1",
    "g_mean": "G-mean",
    "minority_recall": "min recall",
    "pr_auc": "PR AUC",
}


def print_advice(doc: dict[str, Any]) -> None:
    """``rebalance advise``'s table, 100 columns wide: remedies ranked, the ranking metric
    with its interval and the paired difference against ``none``, two other metrics'
    means, fit time and output rows; a legend, the verdict and the command to apply."""
    from rich import box

    console = stdout_console()
    metric = doc["metric"]
    others = [m for m in _ADVICE_HEADERS if m != metric][:2]
    table = Table(
        title=(
            f"{doc['source']} · {doc['model']} · {doc['folds']}-fold × {doc['repeats']} · "
            f"ranked by {metric}"
        ),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("remedy", no_wrap=True)
    table.add_column(_ADVICE_HEADERS[metric] + " ±", justify="right", no_wrap=True)
    table.add_column("Δ vs none (95%)", justify="right", no_wrap=True)
    for m in others:
        table.add_column(_ADVICE_HEADERS[m], justify="right", no_wrap=True)
    table.add_column("fit s", justify="right", no_wrap=True)
    table.add_column("rows out", justify="right", no_wrap=True)
    for r in doc["remedies"]:
        score = r["metrics"][metric]
        d = r["difference"]
        delta = (
            "—"
            if d is None
            else f"{d[metric]['mean']:+.3f} ({d[metric]['low']:+.3f}, {d[metric]['high']:+.3f})"
        )
        rows_out = ("≤" if r["output_rows_at_most"] else "") + f"{r['output_rows']:,}"
        table.add_row(
            printable(r["name"]),
            f"{score['mean']:.4f} ±{(score['high'] - score['low']) / 2:.3f}",
            delta,
            *(f"{r['metrics'][m]['mean']:.4f}" for m in others),
            f"{r['fit_seconds']:.2f}",
            rows_out,
        )
    console.print(table)
    legend = ", ".join(f"{_ADVICE_HEADERS[m]} = {m}" for m in (metric, *others))
    console.print(
        f"{legend}; ± half the 95% interval; Δ: paired difference against none; every "
        "metric with --json",
        markup=False,
        style="dim",
    )
    console.print()
    console.print(doc["verdict"], markup=False)
    best = next(r for r in doc["remedies"] if r["name"] == doc["best"])
    console.print(f"to apply it: {best['command']}", markup=False, soft_wrap=True)
