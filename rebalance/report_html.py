"""A self-contained HTML report of an evaluation: inline SVG charts, no network, no script."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #dde;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.25rem .6rem;border-bottom:1px solid #eef;text-align:right}
th:first-child,td:first-child{text-align:left}.warn{background:#fff3cd;border:1px solid #e0c36a;padding:.6rem 1rem;border-radius:6px;margin:.4rem 0}
.grid{display:flex;flex-wrap:wrap;gap:1.5rem}.card{border:1px solid #dde;border-radius:8px;padding:.8rem}
.big{font-size:1.6rem;font-weight:600}.muted{color:#667}svg text{font-family:inherit}
"""


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _heat(value: float) -> str:
    """White to deep blue."""
    v = max(0.0, min(1.0, value))
    r, g, b = int(255 - v * 200), int(255 - v * 160), int(255 - v * 60)
    return f"rgb({r},{g},{b})"


def confusion_svg(
    labels: Sequence[str], counts: Sequence[Sequence[int]], normalized: Sequence[Sequence[float]]
) -> str:
    n = len(labels)
    cell = max(14, min(48, 560 // max(n, 1)))
    pad = 120
    size = pad + cell * n + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" role="img" aria-label="confusion matrix">'
    ]
    for i, label in enumerate(labels):
        y = pad + i * cell + cell / 2
        parts.append(
            f'<text x="{pad - 6}" y="{y + 4}" text-anchor="end" font-size="11">{_esc(label[:16])}</text>'
        )
        x = pad + i * cell + cell / 2
        parts.append(
            f'<text x="{x}" y="{pad - 6}" text-anchor="start" font-size="11" transform="rotate(-45 {x} {pad - 6})">{_esc(label[:16])}</text>'
        )
    for i in range(n):
        for j in range(n):
            v = normalized[i][j]
            parts.append(
                f'<rect x="{pad + j * cell}" y="{pad + i * cell}" width="{cell}" height="{cell}" fill="{_heat(v)}" stroke="#fff">'
                f"<title>true {_esc(labels[i])} → predicted {_esc(labels[j])}: {counts[i][j]} ({v:.1%})</title></rect>"
            )
            if cell >= 28:
                colour = "#fff" if v > 0.6 else "#123"
                parts.append(
                    f'<text x="{pad + j * cell + cell / 2}" y="{pad + i * cell + cell / 2 + 4}" text-anchor="middle" font-size="10" fill="{colour}">{counts[i][j]}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(rows: Sequence[tuple[str, float | None, float | None, int]]) -> str:
    """Recall and precision bars per class (rows sorted by support)."""
    height = 18 * len(rows) + 30
    width = 640
    left = 160
    scale = width - left - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="per-class recall and precision">'
    ]
    parts.append(
        f'<text x="{left}" y="12" font-size="11" fill="#2b6cb0">■ recall</text><text x="{left + 70}" y="12" font-size="11" fill="#c05621">■ precision</text>'
    )
    for i, (label, recall, precision, support) in enumerate(rows):
        y = 24 + i * 18
        parts.append(
            f'<text x="{left - 6}" y="{y + 11}" text-anchor="end" font-size="11">{_esc(label[:20])} ({support})</text>'
        )
        for k, (value, colour) in enumerate(((recall, "#2b6cb0"), (precision, "#c05621"))):
            w = 0 if value is None else value * scale
            parts.append(
                f'<rect x="{left}" y="{y + k * 7}" width="{w:.1f}" height="6" fill="{colour}"><title>{_fmt(value)}</title></rect>'
            )
    parts.append("</svg>")
    return "".join(parts)


def curve_svg(
    curves: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    xlabel: str,
    ylabel: str,
    diagonal: bool,
) -> str:
    size, pad = 300, 36
    inner = size - 2 * pad
    palette = [
        "#2b6cb0",
        "#c05621",
        "#2f855a",
        "#6b46c1",
        "#b83280",
        "#975a16",
        "#2c7a7b",
        "#4a5568",
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" role="img" aria-label="{_esc(ylabel)} vs {_esc(xlabel)}">'
    ]
    parts.append(
        f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" fill="none" stroke="#99a"/>'
    )
    if diagonal:
        parts.append(
            f'<line x1="{pad}" y1="{pad + inner}" x2="{pad + inner}" y2="{pad}" stroke="#ccd" stroke-dasharray="4"/>'
        )
    parts.append(
        f'<text x="{size / 2}" y="{size - 6}" text-anchor="middle" font-size="11">{_esc(xlabel)}</text>'
    )
    parts.append(
        f'<text x="10" y="{size / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 10 {size / 2})">{_esc(ylabel)}</text>'
    )
    for k, (name, xs, ys) in enumerate(curves):
        colour = palette[k % len(palette)]
        points = " ".join(
            f"{pad + x * inner:.1f},{pad + (1 - y) * inner:.1f}"
            for x, y in zip(xs, ys, strict=True)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.6"><title>{_esc(name)}</title></polyline>'
        )
        parts.append(
            f'<text x="{pad + 6}" y="{pad + 14 + 13 * k}" font-size="10" fill="{colour}">{_esc(name[:24])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _thin(
    xs: Sequence[float], ys: Sequence[float], limit: int = 400
) -> tuple[list[float], list[float]]:
    step = max(1, len(xs) // limit)
    idx = list(range(0, len(xs), step))
    if idx[-1] != len(xs) - 1:
        idx.append(len(xs) - 1)
    return [float(xs[i]) for i in idx], [float(ys[i]) for i in idx]


def render_html(
    report: dict[str, Any], *, title: str, warnings: Sequence[str], curves: dict[str, Any] | None
) -> str:
    """The report as one HTML document."""
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
    ]
    for w in warnings:
        out.append(f'<div class="warn">{_esc(w)}</div>')
    cards = [
        (
            "accuracy",
            report["accuracy"],
            f"baseline {_fmt(report['baseline_accuracy'])} (always {report['baseline_label']})",
        ),
        ("balanced accuracy", report["balanced_accuracy"], "mean recall over classes"),
        ("macro F1", report["macro"]["f1"], ""),
        ("MCC", report["mcc"], "Matthews correlation"),
        ("Cohen's κ", report["kappa"], ""),
        ("G-mean", report["geometric_mean"], "geometric mean of recalls"),
    ]
    if report.get("scores"):
        cards.append(("ROC AUC (macro)", report["scores"]["roc_auc_macro"], "one-vs-rest"))
        cards.append(("PR AUC (macro)", report["scores"]["pr_auc_macro"], "average precision"))
    out.append('<div class="grid">')
    for name, value, note in cards:
        out.append(
            f'<div class="card"><div class="muted">{_esc(name)}</div><div class="big">{_fmt(value, 3)}</div><div class="muted">{_esc(note)}</div></div>'
        )
    out.append("</div>")
    cm = report["confusion_matrix"]
    out.append("<h2>Confusion matrix (row-normalized)</h2>")
    out.append(confusion_svg(cm["labels"], cm["counts"], cm["normalized"]))
    per_class = report["per_class"]
    ordered = sorted(per_class.items(), key=lambda kv: (-kv[1]["support"], kv[0]))
    out.append("<h2>Recall and precision per class (by support)</h2>")
    out.append(
        bars_svg([(label, v["recall"], v["precision"], v["support"]) for label, v in ordered[:60]])
    )
    out.append(
        "<table><tr><th>class</th><th>support</th><th>precision</th><th>recall</th><th>specificity</th><th>F1</th><th>ROC AUC</th><th>PR AUC</th></tr>"
    )
    for label, v in ordered:
        out.append(
            f"<tr><td>{_esc(label)}</td><td>{v['support']}</td><td>{_fmt(v['precision'])}</td><td>{_fmt(v['recall'])}</td>"
            f"<td>{_fmt(v['specificity'])}</td><td>{_fmt(v['f1'])}</td><td>{_fmt(v.get('roc_auc'))}</td><td>{_fmt(v.get('pr_auc'))}</td></tr>"
        )
    out.append("</table>")
    if curves:
        out.append("<h2>ROC and precision–recall curves</h2><div class=grid>")
        out.append(
            curve_svg(
                [(n, *_thin(x, y)) for n, x, y in curves["roc"]],
                "false positive rate",
                "true positive rate",
                True,
            )
        )
        out.append(
            curve_svg([(n, *_thin(x, y)) for n, x, y in curves["pr"]], "recall", "precision", False)
        )
        out.append("</div>")
    scores = report.get("scores")
    if scores:
        rel = [r for r in scores["reliability"] if r["count"]]
        out.append(
            f"<h2>Calibration</h2><p>Brier score {_fmt(scores['brier'])} · expected calibration error {_fmt(scores['ece'])}</p>"
        )
        out.append(
            curve_svg(
                [("model", [r["confidence"] for r in rel], [r["accuracy"] for r in rel])],
                "confidence",
                "accuracy",
                True,
            )
        )
    if report.get("buckets"):
        b = report["buckets"]
        out.append(
            "<h2>By training frequency</h2><table><tr><th>bucket</th><th>classes</th><th>support</th><th>accuracy</th><th>macro recall</th><th>macro F1</th></tr>"
        )
        for name in ("many", "medium", "few", "unseen"):
            v = b[name]
            out.append(
                f"<tr><td>{name}</td><td>{v['classes']}</td><td>{v['support']}</td><td>{_fmt(v['accuracy'])}</td><td>{_fmt(v['macro_recall'])}</td><td>{_fmt(v['macro_f1'])}</td></tr>"
            )
        out.append("</table>")
    out.append("<h2>Full report (JSON)</h2><details><summary>show</summary><pre>")
    out.append(_esc(json.dumps(report, indent=1, ensure_ascii=False, default=str)[:200_000]))
    out.append("</pre></details></body></html>\n")
    return "".join(out)
