"""Human views of multi-label reports: a rich table, Markdown and CSV (rich only here)."""

from __future__ import annotations

import csv
import io
from typing import Any

from rebalance.multilabel.evaluation import MultiLabelEvaluation
from rebalance.multilabel.stats import MultiLabelDistribution, MultiLabelReport
from rebalance.render import _bar, _fmt, _md, _rows_to_show, _Table, key_values, stdout_console
from rebalance.text import printable


def _by_count(d: MultiLabelDistribution) -> list[tuple[str, int]]:
    return sorted(d.counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _summary(d: MultiLabelDistribution) -> list[tuple[str, str]]:
    return [
        ("rows", f"{d.rows:,}"),
        ("labels", f"{d.labels:,}"),
        ("MeanIR (1 = balanced)", _fmt(d.mean_ir)),
        ("MaxIR", _fmt(d.max_ir)),
        ("CVIR", _fmt(d.cvir)),
        ("SCUMBLE (0 = rare labels alone)", _fmt(d.scumble)),
        ("cardinality (labels per row)", _fmt(d.cardinality)),
        ("density", _fmt(d.density)),
        ("distinct label sets", f"{d.distinct_sets:,}"),
        ("rows without a label", f"{d.empty_rows:,}"),
        (f"labels on fewer than {d.min_count} rows", f"{len(d.small_labels):,}"),
    ]


def _title(report: MultiLabelReport) -> str:
    where = ", ".join(map(repr, report.label_columns[:5]))
    if len(report.label_columns) > 5:
        where += f", … {len(report.label_columns) - 5} more"
    sep = f" split on {report.sep!r}" if report.sep is not None else ""
    return f"{report.source} · labels from {where}{sep}"


def print_multilabel(report: MultiLabelReport, *, top: int = 10, show_all: bool = False) -> None:
    """The human view of a multi-label inspect report (stdout)."""
    console = stdout_console()
    d = report.overall
    table = _Table(title=_title(report), title_justify="left", show_edge=False, pad_edge=False)
    for name, justify in (("label", "left"), ("rows", "right"), ("share", "right"),
                          ("IRLbl", "right"), ("", "left")):  # fmt: skip
        table.add_column(name, justify=justify, overflow="fold" if name == "label" else None)
    largest = max(d.counts.values(), default=0)
    for row in _rows_to_show(_by_count(d), top, show_all):
        if isinstance(row, int):
            table.add_row(f"… {row:,} more", "", "", "", "", style="dim")
            continue
        label, count = row
        table.add_row(
            label,
            f"{count:,}",
            f"{count / d.rows:.2%}" if d.rows else "—",
            _fmt(d.irlbl[label]),
            _bar(count, largest),
        )
    console.print(table)
    console.print()
    console.print(key_values(_summary(d)))
    if d.top_sets:
        console.print()
        sets = _Table(title="most frequent label sets", title_justify="left", show_edge=False)
        sets.add_column("labels", overflow="fold")
        sets.add_column("rows", justify="right")
        for labels, n in d.top_sets:
            sets.add_row(" + ".join(labels) if labels else "(none)", f"{n:,}")
        console.print(sets)
    if d.top_pairs:
        console.print()
        pairs = _Table(title="most co-occurring pairs", title_justify="left", show_edge=False)
        pairs.add_column("pair", overflow="fold")
        pairs.add_column("rows", justify="right")
        for a, b, n in d.top_pairs:
            pairs.add_row(f"{a} + {b}", f"{n:,}")
        console.print(pairs)
    if report.objects is not None:
        console.print()
        _print_objects(console, report, top, show_all)
    if report.splits is not None:
        console.print()
        splits = _Table(
            title=f"per split · column {report.split_col!r}", title_justify="left", show_edge=False
        )
        for name in (
            "split",
            "rows",
            "labels present",
            "MeanIR",
            "MaxIR",
            "SCUMBLE",
            "cardinality",
        ):
            splits.add_column(name, justify="left" if name == "split" else "right")
        for name, s in report.splits.items():
            splits.add_row(
                name,
                f"{s.rows:,}",
                f"{s.labels - len(s.absent_labels):,}",
                _fmt(s.mean_ir),
                _fmt(s.max_ir),
                _fmt(s.scumble),
                _fmt(s.cardinality),
            )
        console.print(splits)
        for name, s in report.splits.items():
            if s.absent_labels:
                shown = ", ".join(map(printable, s.absent_labels[:top]))
                console.print(f"absent from {name}: {len(s.absent_labels):,} label(s): {shown}")


def _print_objects(console: Any, report: MultiLabelReport, top: int, show_all: bool) -> None:
    """Objects per label (detection data) and the LVIS frequency groups."""
    from rebalance.multilabel.objects import frequency_group

    o = report.objects
    assert o is not None
    table = _Table(title="objects (instances) per label", title_justify="left", show_edge=False)
    for name in ("label", "objects", "images", "group"):
        table.add_column(name, justify="left" if name in ("label", "group") else "right")
    ranked = sorted(o.objects.items(), key=lambda kv: (-kv[1], kv[0]))
    for row in _rows_to_show(ranked, top, show_all):
        if isinstance(row, int):
            table.add_row(f"… {row:,} more", "", "", "", style="dim")
            continue
        label, count = row
        images = o.images[label]
        table.add_row(printable(label), f"{count:,}", f"{images:,}", frequency_group(images))
    console.print(table)
    groups = o.groups()
    console.print(
        f"objects {o.total:,} · images without objects {o.images_without_objects:,} · LVIS groups: "
        + ", ".join(f"{k} {len(v):,}" for k, v in groups.items())
        + " (rare: in under 10 images; common: 10–100; frequent: over 100)"
    )


def multilabel_markdown(report: MultiLabelReport, *, top: int = 10, show_all: bool = False) -> str:
    """A Markdown rendering of a multi-label report."""
    d = report.overall
    out = [f"## Label distribution: `{_md(_title(report))}`", ""]
    out += ["| label | rows | share | IRLbl |", "|---|---:|---:|---:|"]
    for row in _rows_to_show(_by_count(d), top, show_all):
        if isinstance(row, int):
            out.append(f"| … {row:,} more | | | |")
        else:
            share = f"{row[1] / d.rows:.2%}" if d.rows else "—"
            out.append(f"| {_md(row[0])} | {row[1]:,} | {share} | {_fmt(d.irlbl[row[0]])} |")
    out += ["", "| measure | value |", "|---|---:|"]
    out += [f"| {k} | {_md(v)} |" for k, v in _summary(d)]
    return "\n".join(out) + "\n"


def multilabel_csv(report: MultiLabelReport) -> str:
    """label,rows,share,irlbl rows (every label; per-split rows columns when present)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    d = report.overall
    names = list(report.splits or {})
    writer.writerow(["label", "rows", "share", "irlbl", *(f"rows_{n}" for n in names)])
    for label, count in d.counts.items():
        ir = d.irlbl[label]
        writer.writerow(
            [
                label,
                count,
                repr(count / d.rows) if d.rows else "",
                "" if ir is None else repr(ir),
                *((report.splits or {})[n].counts.get(label, 0) for n in names),
            ]
        )
    return buf.getvalue()


def _label_rows(result: MultiLabelEvaluation, top: int, show_all: bool) -> list[Any]:
    """Labels by recall, worst first (top and bottom rows unless ``show_all``)."""
    ranked = sorted(result.per_label.items(), key=lambda kv: (kv[1]["recall"] or 0.0, kv[0]))
    return _rows_to_show(ranked, top, show_all)  # type: ignore[arg-type]


def print_evaluation(
    result: MultiLabelEvaluation, *, top: int = 10, show_all: bool = False
) -> None:
    """The human view of a multi-label evaluation (stdout)."""
    console = stdout_console()
    how = (
        f"scores ≥ {result.threshold:g}" if result.threshold is not None else "predicted label sets"
    )
    table = _Table(
        title=f"{result.source} · {result.rows:,} rows, {len(result.labels):,} labels, {how} · worst recall first",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    scored = result.roc_auc is not None
    names = ["label", "precision", "recall", "f1", "support"] + (
        ["roc auc", "pr auc"] if scored else []
    )
    for name in names:
        table.add_column(
            name,
            justify="left" if name == "label" else "right",
            overflow="fold" if name == "label" else None,
        )
    for row in _label_rows(result, top, show_all):
        if isinstance(row, int):
            table.add_row(f"… {row:,} more", *[""] * (len(names) - 1), style="dim")
            continue
        label, m = row
        cells = [label, _fmt(m["precision"]), _fmt(m["recall"]), _fmt(m["f1"]), f"{m['support']:,}"]
        if scored:
            cells += [_fmt(m.get("roc_auc")), _fmt(m.get("pr_auc"))]
        table.add_row(*cells)
    console.print(table)
    console.print()
    averages = _Table(title="averages", title_justify="left", show_edge=False)
    for name in ("average", "precision", "recall", "f1") + (
        ("roc auc", "pr auc") if scored else ()
    ):
        averages.add_column(name, justify="left" if name == "average" else "right")
    for average, m in result.averages.items():
        cells = [average, _fmt(m["precision"]), _fmt(m["recall"]), _fmt(m["f1"])]
        if scored:
            cells += [
                _fmt((result.roc_auc or {}).get(average)),
                _fmt((result.pr_auc or {}).get(average)),
            ]
        averages.add_row(*cells)
    console.print(averages)
    console.print()
    console.print(
        f"hamming loss     {_fmt(result.hamming_loss)}  (share of wrong row × label cells)"
    )
    console.print(
        f"subset accuracy  {_fmt(result.subset_accuracy)}  (rows whose whole label set is right)"
    )


def evaluation_markdown(result: MultiLabelEvaluation) -> str:
    """A Markdown rendering of a multi-label evaluation (every label)."""
    out = [f"## Multi-label evaluation: `{_md(result.source)}`", ""]
    out += ["| average | precision | recall | f1 |", "|---|---:|---:|---:|"]
    for average, m in result.averages.items():
        out.append(
            f"| {average} | {_fmt(m['precision'])} | {_fmt(m['recall'])} | {_fmt(m['f1'])} |"
        )
    out += [
        "",
        f"Hamming loss {_fmt(result.hamming_loss)}, subset accuracy {_fmt(result.subset_accuracy)}.",
        "",
    ]
    out += ["| label | precision | recall | f1 | support |", "|---|---:|---:|---:|---:|"]
    for label, per in result.per_label.items():
        out.append(
            f"| {_md(label)} | {_fmt(per['precision'])} | {_fmt(per['recall'])} | {_fmt(per['f1'])} | {per['support']:,} |"
        )
    return "\n".join(out) + "\n"
