"""Printing results: rich tables for people, JSON/Markdown/CSV for machines.

The only module that imports rich. Commands hand it typed results; data goes to
stdout, messages to stderr. rich turns colour off by itself for non-TTY output and
when ``NO_COLOR`` is set.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rebalance.manifest import MISSING
from rebalance.stats import Distribution, InspectReport
from rebalance.weights import ClassWeights

if TYPE_CHECKING:
    from rebalance.plan import Plan
    from rebalance.resampling import ResampleResult

_BAR_WIDTH = 30


def stdout_console() -> Console:
    return Console(file=sys.stdout, highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def message(text: str) -> None:
    """A line for the person at the terminal (stderr), never mixed into data."""
    stderr_console().print(text, markup=False)


def warn(text: str) -> None:
    message(f"rebalance: warning: {text}")


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


def dump_json(doc: Any) -> str:
    """The one JSON style: indented, UTF-8, key order as built, no NaN."""
    return json.dumps(_finite(doc), indent=2, ensure_ascii=False) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


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
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
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
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    for key, value in _summary_lines(d):
        summary.add_row(key, value)
    console.print(summary)
    if report.splits is None or report.drift is None:
        return
    console.print()
    splits = Table(
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
    return text.replace("|", "\\|").replace("\n", " ")


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
    table = Table(title=title or None, title_justify="left", show_edge=False, pad_edge=False)
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
        table.add_row(label, f"{before:,}", f"{after:,}", f"{after - before:+,}", *extra)
    return table


def print_plan(plan: Plan, *, top: int = 10, show_all: bool = False, title: str = "") -> None:
    """The dry-run view of a plan (stdout)."""
    console = stdout_console()
    console.print(plan_table(plan, top=top, show_all=show_all, title=title))
    console.print()
    console.print(
        f"rows {plan.rows_before:,} → {plan.rows_after:,}  (+{plan.added:,} added, −{plan.removed:,} removed)  "
        f"target {plan.target}, mode {plan.mode}",
        markup=False,
    )


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
