"""See your data: the self-contained HTML reports of ``inspect --html`` and ``resample --preview``.

``charts`` (inline SVG), ``thumbs`` (thumbnails and mask overlays, Pillow in worker
processes), ``sheet`` (which images a page shows, within its size cap), ``page`` (the
document shell), ``inspect_page`` and ``preview`` (the two reports).
"""

from rebalance.visual.preview import preview_html
from rebalance.visual.report import inspect_report_html
from rebalance.visual.sheet import SheetOptions

__all__ = ["SheetOptions", "inspect_report_html", "preview_html"]
