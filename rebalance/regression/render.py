"""Human views of a regression report: a rich histogram, Markdown and CSV."""

from __future__ import annotations

import csv
import io

from rebalance.regression.stats import RegressionReport
from rebalance.render import _bar, _fmt, _md, _Table, key_values, stdout_console


def _range(low: float, high: float) -> str:
    return f"{low:.4g} – {high:.4g}"


def print_regression(report: RegressionReport) -> None:
    """The histogram, summary, rare ranges and per-split summary (stdout)."""
    console = stdout_console()
    d = report.overall
    edges = report.bins.edges
    largest = max(d.counts, default=0)
    rare_bins = {
        i
        for r in d.rare
        for i in range(report.bins.count)
        if edges[i] >= r["low"] and edges[i + 1] <= r["high"]
    }
    table = _Table(
        title=f"{report.source} · target {report.target_col!r} · {report.bins.count} "
        f"{report.bins.binning} bins",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    for name, justify in (("range", "left"), ("rows", "right"), ("share", "right"), ("", "left")):
        table.add_column(name, justify=justify)
    for i, count in enumerate(d.counts):
        table.add_row(
            _range(edges[i], edges[i + 1]),
            f"{count:,}",
            f"{count / d.rows:.2%}",
            _bar(count, largest),
            style="yellow" if i in rare_bins else None,
        )
    console.print(table)
    console.print()
    summary = [
        ("rows", f"{d.rows:,}"),
        ("min / max", f"{_fmt(d.minimum)} / {_fmt(d.maximum)}"),
        ("mean / median", f"{_fmt(d.mean)} / {_fmt(d.median)}"),
        ("std", _fmt(d.std)),
        ("skew (0 = symmetric)", _fmt(d.skew)),
        ("rare ranges", f"{len(d.rare)} (bins under a fifth of an even share, in yellow)"),
    ]
    console.print(key_values(summary))
    for r in d.rare:
        console.print(
            f"  rare: {_range(r['low'], r['high'])}: {r['rows']:,} rows ({r['share']:.2%})"
        )
    if report.splits:
        console.print()
        splits = _Table(
            title=f"per split · column {report.split_col!r}", title_justify="left", show_edge=False
        )
        for name in ("split", "rows", "mean", "median", "std", "skew", "rare ranges"):
            splits.add_column(name, justify="left" if name == "split" else "right")
        for name, s in report.splits.items():
            splits.add_row(
                name, f"{s.rows:,}", _fmt(s.mean), _fmt(s.median), _fmt(s.std), _fmt(s.skew),
                f"{len(s.rare)}",
            )  # fmt: skip
        console.print(splits)


def regression_markdown(report: RegressionReport) -> str:
    """A Markdown rendering of a regression report."""
    d = report.overall
    edges = report.bins.edges
    out = [f"## Target distribution: `{_md(report.source)}` (`{_md(report.target_col)}`)", ""]
    out += ["| range | rows | share |", "|---|---:|---:|"]
    for i, count in enumerate(d.counts):
        out.append(f"| {_range(edges[i], edges[i + 1])} | {count:,} | {count / d.rows:.2%} |")
    out += ["", f"Mean {_fmt(d.mean)}, median {_fmt(d.median)}, skew {_fmt(d.skew)}; "
            f"{len(d.rare)} rare range(s)."]  # fmt: skip
    return "\n".join(out) + "\n"


def regression_csv(report: RegressionReport) -> str:
    """low,high,rows,share rows (one per bin; per-split rows columns when present)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    d = report.overall
    names = list(report.splits or {})
    writer.writerow(["low", "high", "rows", "share", *(f"rows_{n}" for n in names)])
    edges = report.bins.edges
    for i, count in enumerate(d.counts):
        writer.writerow(
            [
                repr(float(edges[i])),
                repr(float(edges[i + 1])),
                count,
                repr(count / d.rows),
                *((report.splits or {})[n].counts[i] for n in names),
            ]
        )
    return buf.getvalue()
