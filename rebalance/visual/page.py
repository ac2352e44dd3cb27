"""The shell shared by the HTML reports: one document, inline CSS, no script, no network."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rebalance.visual.charts import esc
from rebalance.visual.sheet import Tile

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.4rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #dde;padding-bottom:.3rem}
h3{font-size:.95rem;margin:.9rem 0 .3rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .6rem;border-bottom:1px solid #eef;text-align:right}
th:first-child,td:first-child{text-align:left}
.warn{background:#fff3cd;border:1px solid #e0c36a;padding:.5rem 1rem;border-radius:6px;margin:.4rem 0}
.note{color:#556;font-size:.9rem;margin:.3rem 0}
.grid{display:flex;flex-wrap:wrap;gap:1rem}.card{border:1px solid #dde;border-radius:8px;padding:.6rem .8rem;min-width:9rem}
.big{font-size:1.45rem;font-weight:600}.muted{color:#667}svg text{font-family:inherit}
.pass{color:#276749;font-weight:600}.fail{color:#c53030;font-weight:600}
.cls{border-top:1px solid #eef;padding:.4rem 0;display:flex;gap:.8rem;align-items:flex-start}
.cls>.name{width:12rem;flex:none;word-break:break-all}
.tiles{display:flex;flex-wrap:wrap;gap:.4rem}
figure{margin:0;width:100px;font-size:.7rem;color:#556;word-break:break-all}
figure.wide{width:196px}figure.pair{width:auto}
figure img{display:block;max-width:100%;border:1px solid #dde;background:#f6f7fb}
.broken{width:96px;height:72px;display:flex;align-items:center;justify-content:center;background:#fde8e8;color:#9b2c2c;border:1px solid #f5b5b5;font-size:.7rem;text-align:center;padding:2px;box-sizing:border-box}
.pairs{display:flex;flex-wrap:wrap;gap:1rem}.pairbox{display:flex;gap:.3rem;border:1px solid #eef;padding:.3rem;border-radius:6px}
"""


def document(title: str, subtitle: str, body: Sequence[str]) -> str:
    """A whole HTML document: the title, one line under it, then the body's parts."""
    return "".join(
        [
            "<!doctype html><html lang=en><head><meta charset=utf-8>",
            '<meta name="viewport" content="width=device-width,initial-scale=1">',
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
            f"<h1>{esc(title)}</h1><div class=muted>{esc(subtitle)}</div>",
            *body,
            "</body></html>\n",
        ]
    )


def cards(items: Sequence[tuple[str, str, str]]) -> str:
    """Key numbers: ``(name, value, note)`` each."""
    out = ['<div class="grid">']
    for name, value, note in items:
        out.append(
            f'<div class="card"><div class="muted">{esc(name)}</div><div class="big">{esc(value)}</div>'
            f'<div class="muted">{esc(note)}</div></div>'
        )
    out.append("</div>")
    return "".join(out)


def gates(verdicts: Sequence[tuple[str, str | None]]) -> str:
    """Each gate asked for and its verdict (``None``: passed; else the failure)."""
    if not verdicts:
        return ""
    out = ["<h2>Gates</h2><table><tr><th>gate</th><th>verdict</th><th></th></tr>"]
    for gate, failure in verdicts:
        verdict = (
            '<span class="pass">pass</span>'
            if failure is None
            else '<span class="fail">fail</span>'
        )
        out.append(f"<tr><td>{esc(gate)}</td><td>{verdict}</td><td>{esc(failure or '')}</td></tr>")
    out.append("</table>")
    return "".join(out)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain table; numbers get thousands separators."""

    def cell(v: Any) -> str:
        if isinstance(v, bool) or v is None:
            return esc("—" if v is None else v)
        if isinstance(v, int):
            return f"{v:,}"
        if isinstance(v, float):
            return f"{v:,.4g}"
        return esc(v)

    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def tile(t: Tile, *, wide: bool = False) -> str:
    """One thumbnail (or the reason there is none) with its caption."""
    cls = ' class="wide"' if wide else ""
    if t.made.data is not None:
        picture = f'<img src="{t.made.url()}" alt="{esc(t.caption)}">'
    else:
        picture = f'<div class="broken">{esc(t.note or t.made.error or "no picture")}</div>'
    return f"<figure{cls}>{picture}<figcaption>{esc(t.caption)}</figcaption></figure>"


def raw_json(doc: Any, limit: int = 400_000) -> str:
    """The report's JSON, folded away (cut at ``limit`` characters)."""
    text = json.dumps(doc, indent=1, ensure_ascii=False, default=str)
    cut = len(text) > limit
    shown = text[:limit] + ("\n… (cut: the --json output holds all of it)" if cut else "")
    return f"<h2>Full report (JSON)</h2><details><summary>show</summary><pre>{esc(shown)}</pre></details>"
