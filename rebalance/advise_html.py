"""``rebalance advise --html``: one self-contained page (inline SVG, no network, no script)."""

from __future__ import annotations

import html
from typing import Any

from rebalance.report_html import _CSS

METRIC_NAMES = ("balanced_accuracy", "macro_f1", "g_mean", "minority_recall", "pr_auc")


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def interval_svg(rows: list[tuple[str, float, float, float]], *, zero: bool, title: str) -> str:
    """One line per remedy: its interval as a bar and its mean as a dot (a zero line for
    differences)."""
    width, left, right, step = 760, 150, 30, 26
    height = 40 + step * len(rows)
    lows = [low for _, _, low, _ in rows] + ([0.0] if zero else [])
    highs = [high for _, _, _, high in rows] + ([0.0] if zero else [])
    lo, hi = min(lows), max(highs)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (width - left - right)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{_esc(title)}">',
        f'<text x="{left}" y="16" font-size="13" font-weight="600">{_esc(title)}</text>',
    ]
    if zero:
        parts.append(
            f'<line x1="{x(0):.1f}" y1="24" x2="{x(0):.1f}" y2="{height - 8}" stroke="#999" '
            'stroke-dasharray="4 3"/>'
        )
    for i, (name, mean, low, high) in enumerate(rows):
        y = 34 + i * step
        colour = "#2f6fdb" if not zero or low > 0 else ("#c0392b" if high < 0 else "#8a8f99")
        parts.append(
            f'<text x="{left - 8}" y="{y + 4}" font-size="12" text-anchor="end">{_esc(name)}</text>'
        )
        parts.append(
            f'<line x1="{x(low):.1f}" y1="{y}" x2="{x(high):.1f}" y2="{y}" stroke="{colour}" stroke-width="5" '
            'stroke-linecap="round" opacity="0.45"/>'
        )
        parts.append(
            f'<circle cx="{x(mean):.1f}" cy="{y}" r="5" fill="{colour}"><title>{_esc(name)}: {mean:.4f} ({low:.4f} to {high:.4f})</title></circle>'
        )
        parts.append(
            f'<text x="{x(high) + 8:.1f}" y="{y + 4}" font-size="11" fill="#445">{mean:+.4f}</text>'
            if zero
            else f'<text x="{x(high) + 8:.1f}" y="{y + 4}" font-size="11" fill="#445">{mean:.4f}</text>'
        )
    for tick in range(5):
        v = lo + (hi - lo) * tick / 4
        parts.append(
            f'<text x="{x(v):.1f}" y="{height - 2}" font-size="10" fill="#667" text-anchor="middle">{v:.3f}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_advice_html(doc: dict[str, Any]) -> str:
    """The page: verdict, the ranking metric's intervals, the paired differences against
    ``none``, and every metric in a table."""
    metric = doc["metric"]
    remedies = doc["remedies"]
    scores = [
        (r["name"], *(r["metrics"][metric][k] for k in ("mean", "low", "high"))) for r in remedies
    ]
    diffs = [
        (r["name"], *(r["difference"][metric][k] for k in ("mean", "low", "high")))
        for r in remedies
        if r["difference"] is not None
    ]
    head = "".join(f"<th>{_esc(m.replace('_', ' '))}</th>" for m in METRIC_NAMES)
    body = []
    for r in remedies:
        cells = "".join(
            f"<td>{r['metrics'][m]['mean']:.4f}<br><span class=muted>{r['metrics'][m]['low']:.3f}–{r['metrics'][m]['high']:.3f}</span></td>"
            for m in METRIC_NAMES
        )
        rows_out = ("≤ " if r["output_rows_at_most"] else "") + f"{r['output_rows']:,}"
        body.append(
            f"<tr><td>{_esc(r['name'])}</td>{cells}<td>{r['fit_seconds']:.2f}</td><td>{rows_out}</td>"
            f"<td style='text-align:left'><code>{_esc(r['command'])}</code></td></tr>"
        )
    warnings = "".join(f'<div class="warn">{_esc(w)}</div>' for w in doc.get("warnings", []))
    classes = ", ".join(f"{_esc(k)} {v:,}" for k, v in list(doc["classes"].items())[:30])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rebalance advise · {_esc(doc["source"])}</title>
<style>{_CSS}</style></head><body>
<h1>Which remedy helps? <span class=muted>{_esc(doc["source"])}</span></h1>
<p>{doc["rows_used"]:,} rows ({classes}); model {_esc(doc["model"])}; {doc["folds"]}-fold stratified
cross-validation × {doc["repeats"]} (seed {doc["seed"]}); every remedy fitted on the training folds only.
Intervals: 95% corrected resampled t (Nadeau &amp; Bengio).</p>
{warnings}
<div class="card"><p class="big">{_esc(doc["verdict"])}</p></div>
<h2>{_esc(metric.replace("_", " "))} by remedy</h2>
{interval_svg(scores, zero=False, title=metric.replace("_", " ") + " (mean and 95% interval)")}
<h2>Difference against none, fold by fold</h2>
{interval_svg(diffs, zero=True, title="Δ " + metric.replace("_", " ") + " vs none (blue: better beyond noise)") if diffs else "<p>only none was scored</p>"}
<h2>Every metric</h2>
<table><tr><th>remedy</th>{head}<th>fit s</th><th>rows out</th><th>apply it</th></tr>{"".join(body)}</table>
</body></html>
"""
