"""Inline SVG charts for the HTML reports: no script, no font, no network.

Every chart stays small whatever the data: a distribution of 5,000 classes is drawn as
one path of at most one point per pixel column, bar charts show a capped number of
bars and say how many more there are.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#975a16", "#2c7a7b", "#4a5568")
_BARS = 120  # above this many classes the rank chart is a line, not bars


def esc(text: object) -> str:
    """``text`` escaped for HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def _svg(width: float, height: float, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" role="img" aria-label="{esc(label)}">'
    )


def _log_ticks(low: float, high: float) -> list[float]:
    """Powers of ten from ``low`` to ``high`` (both powers of ten)."""
    return [10.0**e for e in range(round(math.log10(low)), round(math.log10(high)) + 1)]


def _count_text(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:g}M"
    if n >= 1e3:
        return f"{n / 1e3:g}k"
    return f"{n:g}"


def rank_chart(
    counts: Sequence[tuple[str, int]], *, min_count: int | None = None, what: str = "rows"
) -> str:
    """Class count by rank (largest first) on a log scale: the long tail at a glance.

    ``counts`` sorted largest first. The ``min_count`` line is dashed; singletons
    (count 1) are marked in red. Up to 120 classes are bars with their label as a
    tooltip; more are one filled path, at most one point per pixel column.
    """
    width, height, left, bottom, top = 760, 300, 56, 34, 14
    inner_w, inner_h = width - left - 10, height - top - bottom
    k = len(counts)
    largest = max((c for _, c in counts), default=1)
    high = 10.0 ** max(1, math.ceil(math.log10(max(largest, 1))))
    span = math.log10(high)

    def y(count: float) -> float:
        return (
            top + inner_h * (1 - math.log10(max(count, 1)) / span) if count > 0 else top + inner_h
        )

    out = [_svg(width, height, f"{what} per class by rank, log scale")]
    for tick in _log_ticks(1, high):
        ty = y(tick)
        out.append(
            f'<line x1="{left}" y1="{ty:.1f}" x2="{width - 10}" y2="{ty:.1f}" stroke="#eef"/>'
            f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="10">{_count_text(tick)}</text>'
        )
    base = top + inner_h
    if k <= _BARS:
        step = min(inner_w / max(k, 1), 48.0)
        for i, (label, count) in enumerate(counts):
            colour = "#c53030" if count == 1 else PALETTE[0]
            x, yy = left + i * step, y(count)
            out.append(
                f'<rect x="{x:.1f}" y="{yy:.1f}" width="{max(step - 1, 0.6):.1f}" height="{max(base - yy, 1.5):.1f}" '
                f'fill="{colour}"><title>{esc(label)}: {count:,} {what} (rank {i + 1})</title></rect>'
            )
    else:
        columns = int(inner_w)
        points = [f"{left},{base}"]
        for px in range(columns):
            i = min(k - 1, int(px * k / columns))
            points.append(f"{left + px},{y(counts[i][1]):.1f}")
        points.append(f"{left + columns},{base}")
        out.append(
            f'<polygon points="{" ".join(points)}" fill="{PALETTE[0]}" fill-opacity=".75">'
            f"<title>{k:,} classes, largest first</title></polygon>"
        )
        singles = sum(1 for _, c in counts if c == 1)
        if singles:
            x0 = left + inner_w * (k - singles) / k
            out.append(
                f'<rect x="{x0:.1f}" y="{base - 6}" width="{left + inner_w - x0:.1f}" height="6" fill="#c53030">'
                f"<title>{singles:,} singleton classes</title></rect>"
            )
    if min_count is not None and min_count > 1:
        my = y(min_count)
        out.append(
            f'<line x1="{left}" y1="{my:.1f}" x2="{width - 10}" y2="{my:.1f}" stroke="#c05621" '
            f'stroke-dasharray="5 4"/><text x="{width - 12}" y="{my - 4:.1f}" text-anchor="end" '
            f'font-size="10" fill="#c05621">--min-count {min_count:,}</text>'
        )
    out.append(
        f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#99a"/>'
        f'<text x="{left + inner_w / 2:.0f}" y="{height - 8}" text-anchor="middle" font-size="11">'
        f"class rank (1 = largest) · {k:,} classes</text>"
        f'<text x="12" y="{top + inner_h / 2:.0f}" text-anchor="middle" font-size="11" '
        f'transform="rotate(-90 12 {top + inner_h / 2:.0f})">{esc(what)} (log)</text></svg>'
    )
    return "".join(out)


def log_share_bars(
    shares: Sequence[tuple[str, float, int]], *, what: str = "pixels", limit: int = 40
) -> str:
    """Horizontal bars of each class's share on a log scale (``(label, share, count)``,
    in the order given): an 800:1 class still shows. Classes past ``limit`` are named
    in a last line."""
    shown = list(shares[:limit])
    smallest = min((s for _, s, _ in shown if s > 0), default=1.0)
    # a decade under the smallest share, so that the smallest bar is still a bar
    low = 10.0 ** (math.floor(math.log10(smallest)) - 1) if smallest < 1 else 0.1
    decades = -math.log10(low)
    width, left, row = 720, 170, 18
    inner = width - left - 70
    height = 30 + row * len(shown) + (16 if len(shares) > limit else 0)
    out = [_svg(width, height, f"share of {what} per class, log scale")]
    for tick in _log_ticks(low, 1):
        tx = left + inner * (math.log10(tick) - math.log10(low)) / decades
        out.append(
            f'<line x1="{tx:.1f}" y1="18" x2="{tx:.1f}" y2="{height - 4}" stroke="#eef"/>'
            f'<text x="{tx:.1f}" y="12" text-anchor="middle" font-size="10">{tick:.0e}</text>'
        )
    for i, (label, share, count) in enumerate(shown):
        yy = 22 + i * row
        w = inner * (math.log10(max(share, low)) - math.log10(low)) / decades if share > 0 else 0
        out.append(
            f'<text x="{left - 6}" y="{yy + 11}" text-anchor="end" font-size="11">{esc(label[:24])}</text>'
            f'<rect x="{left}" y="{yy}" width="{max(w, 1.5):.1f}" height="13" fill="{PALETTE[i % len(PALETTE)]}">'
            f"<title>{esc(label)}: {count:,} {what} ({share:.4%})</title></rect>"
            f'<text x="{left + max(w, 1.5) + 4:.1f}" y="{yy + 11}" font-size="10">{share:.3%}</text>'
        )
    if len(shares) > limit:
        out.append(
            f'<text x="{left}" y="{height - 4}" font-size="10" fill="#667">'
            f"… {len(shares) - limit:,} more classes (the JSON lists them all)</text>"
        )
    out.append("</svg>")
    return "".join(out)


def bars(values: Mapping[str, int], *, title: str, limit: int = 12) -> str:
    """A small horizontal bar chart of the most common values (sizes, modes, formats)."""
    items = list(values.items())[:limit]
    largest = max((v for _, v in items), default=1) or 1
    width, left, row = 330, 110, 16
    height = 24 + row * len(items) + (14 if len(values) > limit else 0)
    out = [
        _svg(width, height, title),
        f'<text x="0" y="12" font-size="11" font-weight="600">{esc(title)}</text>',
    ]
    for i, (name, n) in enumerate(items):
        yy = 18 + i * row
        w = (width - left - 50) * n / largest
        out.append(
            f'<text x="{left - 6}" y="{yy + 11}" text-anchor="end" font-size="10">{esc(name[:18])}</text>'
            f'<rect x="{left}" y="{yy + 2}" width="{max(w, 1):.1f}" height="11" fill="{PALETTE[0]}">'
            f"<title>{esc(name)}: {n:,}</title></rect>"
            f'<text x="{left + max(w, 1) + 4:.1f}" y="{yy + 11}" font-size="10">{n:,}</text>'
        )
    if len(values) > limit:
        out.append(
            f'<text x="{left}" y="{height - 3}" font-size="10" fill="#667">'
            f"… {len(values) - limit:,} more</text>"
        )
    out.append("</svg>")
    return "".join(out)


def split_shares(
    splits: Mapping[str, Mapping[str, int]], labels: Sequence[str], *, what: str = "rows"
) -> str:
    """Grouped bars: the share of each of ``labels`` in each split (drift made visible)."""
    names = sorted(splits)
    totals = {s: sum(splits[s].values()) or 1 for s in names}
    largest = max(
        (splits[s].get(label, 0) / totals[s] for s in names for label in labels), default=1.0
    )
    largest = largest or 1.0
    width, left = 720, 170
    group = 6 * len(names) + 8
    height = 28 + group * len(labels)
    out = [_svg(width, height, f"share of {what} per class in each split")]
    for j, split in enumerate(names):
        out.append(
            f'<text x="{left + 90 * j}" y="12" font-size="11" fill="{PALETTE[j % len(PALETTE)]}">'
            f"■ {esc(split[:12])}</text>"
        )
    inner = width - left - 70
    for i, label in enumerate(labels):
        yy = 22 + i * group
        out.append(
            f'<text x="{left - 6}" y="{yy + group / 2 + 2:.1f}" text-anchor="end" font-size="11">'
            f"{esc(label[:24])}</text>"
        )
        for j, split in enumerate(names):
            share = splits[split].get(label, 0) / totals[split]
            colour = PALETTE[j % len(PALETTE)]
            out.append(
                f'<rect x="{left}" y="{yy + 6 * j}" width="{max(inner * share / largest, 0.8):.1f}" '
                f'height="5" fill="{colour}"><title>{esc(label)} in {esc(split)}: '
                f"{splits[split].get(label, 0):,} {what} ({share:.2%})</title></rect>"
            )
    out.append("</svg>")
    return "".join(out)


def histogram(edges: Sequence[float], counts: Sequence[int], *, what: str = "rows") -> str:
    """Vertical bars of a binned numeric target (bins of ``edges``), linear scale."""
    width, height, left, bottom = 720, 240, 50, 34
    inner_w, inner_h = width - left - 10, height - bottom - 12
    largest = max(counts, default=1) or 1
    step = inner_w / max(len(counts), 1)
    out = [_svg(width, height, f"{what} per bin")]
    for i, n in enumerate(counts):
        h = inner_h * n / largest
        colour = "#c53030" if 0 < n < largest * 0.01 else PALETTE[0]
        out.append(
            f'<rect x="{left + i * step:.1f}" y="{12 + inner_h - h:.1f}" width="{max(step - 1, 0.6):.1f}" '
            f'height="{max(h, 0.8 if n else 0):.1f}" fill="{colour}"><title>[{edges[i]:g}, '
            f"{edges[i + 1]:g}): {n:,} {what}</title></rect>"
        )
    out.append(
        f'<text x="{left}" y="{height - 8}" font-size="10">{edges[0]:g}</text>'
        f'<text x="{width - 10}" y="{height - 8}" font-size="10" text-anchor="end">{edges[-1]:g}</text>'
        f'<text x="{left - 6}" y="20" font-size="10" text-anchor="end">{_count_text(largest)}</text></svg>'
    )
    return "".join(out)
