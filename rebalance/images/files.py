"""The path column of an image manifest, where its files are, and whether they open.

Relative paths resolve against the manifest's folder (``root`` overrides); standard
input resolves against the working folder. :func:`check_files` reads every image's
header (and lets Pillow verify what it can without decoding) in a thread pool:
missing files, unreadable ones (permissions, folders, I/O errors) and corrupt ones
(Pillow cannot identify or verify them) are listed, with the distribution of sizes,
modes and formats of the rest.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rebalance.cpus import usable_cpus
from rebalance.errors import RebalanceError
from rebalance.manifest import Source, detect_column

PATH_CANDIDATES: tuple[str, ...] = (
    "path",
    "file",
    "filepath",
    "image",
    "filename",
    "image_path",
)
SHOWN = 5  # bad paths named in human output (JSON lists them all)

# An image's width × height is read from its header before anything is decoded; over this
# it is a bad file (a decompression bomb, or a slide or aerial tile too large to decode
# here) unless --max-image-pixels raises the limit. Pillow's own error threshold.
DEFAULT_MAX_PIXELS = 178_956_970
_LIMIT: list[int | None] = [DEFAULT_MAX_PIXELS]  # a plain global: worker threads see it


def max_image_pixels() -> int | None:
    """The pixel limit in force (``None``: no limit)."""
    return _LIMIT[0]


def set_max_image_pixels(limit: int | None) -> None:
    """Set the pixel limit (also a process pool's initializer, so its workers share it)."""
    from PIL import Image

    _LIMIT[0] = limit
    # the check is ours, on the header (too_large): Pillow's own (a warning at half its
    # error threshold, then an error) would warn about images under our limit and stop
    # a run that was told to allow large ones
    Image.MAX_IMAGE_PIXELS = None


_UNSET = object()
_BLOCKS: list[dict[str, Any]] = []  # open image_pixel_limit blocks, innermost last
_BLOCKS_LOCK = threading.Lock()


@contextmanager
def image_pixel_limit(limit: int | None) -> Iterator[None]:
    """Within: images over ``limit`` pixels (``None``: any size) are opened; outside, the
    limit (and Pillow's) are as they were.

    Pillow is not imported here (a command that opens no image never pays for it): its own
    limit is turned off when the block first opens an image, and restored at its end.
    """
    block: dict[str, Any] = {"limit": _LIMIT[0], "pillow": _UNSET}
    _LIMIT[0] = limit
    with _BLOCKS_LOCK:
        _BLOCKS.append(block)
    if "PIL.Image" in sys.modules:
        _quiet_pillow()
    try:
        yield
    finally:
        with _BLOCKS_LOCK:
            _BLOCKS.remove(block)
        _LIMIT[0] = block["limit"]
        if block["pillow"] is not _UNSET:  # Pillow was imported: this is no new import
            from PIL import Image

            Image.MAX_IMAGE_PIXELS = block["pillow"]


def _quiet_pillow() -> None:
    """Pillow's own pixel limit off inside every open :func:`image_pixel_limit` block
    (each remembers the value it restores); our check reads the header (:func:`too_large`)."""
    if not _BLOCKS:
        return
    from PIL import Image

    with _BLOCKS_LOCK:
        for block in _BLOCKS:
            if block["pillow"] is _UNSET:
                block["pillow"] = Image.MAX_IMAGE_PIXELS
                Image.MAX_IMAGE_PIXELS = None


def parse_max_pixels(text: str) -> int | None:
    """``--max-image-pixels``: a positive count (``4e8`` or ``400_000_000``) or ``none``."""
    if text.strip().lower() in ("none", "unlimited"):
        return None
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        value = -1.0
    if not value >= 1 or value != int(value):
        raise RebalanceError(
            f"--max-image-pixels {text!r}: give a pixel count (e.g. 400000000 or 4e8) or none"
        )
    return int(value)


def _human_count(n: int) -> str:
    if n >= 1_000_000_000:
        return f"{n / 1e9:.1f} billion"
    if n >= 1_000_000:
        return f"{n / 1e6:.0f} million"
    return f"{n:,}"


def too_large(size: tuple[int, int]) -> str | None:
    """Why an image of ``size`` is refused, or ``None``."""
    limit = _LIMIT[0]
    pixels = size[0] * size[1]
    if limit is None or pixels <= limit:
        return None
    return (
        f"declares {size[0]:,} × {size[1]:,} = {_human_count(pixels)} pixels, over the "
        f"{_human_count(limit)} limit (raise it with --max-image-pixels)"
    )


def not_regular(path: str) -> str | None:
    """What ``path`` is when it is not a regular file (a folder, a FIFO, a device, a
    socket): such paths are never opened (a FIFO would block the read forever)."""
    import stat

    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder"
    if stat.S_ISFIFO(mode):
        return "not a regular file (a FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "not a regular file (a device)"
    if stat.S_ISSOCK(mode):
        return "not a regular file (a socket)"
    return "not a regular file"


@contextmanager
def open_image(path: str, what: str = "image", *, shown: str | None = None) -> Iterator[Any]:
    """``path`` opened by Pillow (header read, nothing decoded), as a regular file under
    the pixel limit, or one :class:`RebalanceError` naming the file (``shown``: as the
    manifest writes it) and why."""
    from PIL import Image

    _quiet_pillow()
    name = shown if shown is not None else path
    with opening(name, what):
        kind = not_regular(path)
        if kind is not None:
            raise RebalanceError(f"{name}: {kind}")
        try:
            opened = Image.open(path)
        except Image.DecompressionBombError as exc:
            raise RebalanceError(f"{name}: {_bomb(exc)}") from None
        with opened:
            refused = too_large(opened.size)
            if refused is not None:
                raise RebalanceError(f"{name}: {refused}")
            yield opened


def _bomb(exc: BaseException) -> str:
    """Pillow's own refusal (its limit was lower than ours), in our words."""
    import re

    found = re.search(r"\((\d+) pixels\)", str(exc))
    pixels = int(found.group(1)) if found else 0
    limit = _LIMIT[0] or DEFAULT_MAX_PIXELS
    return (
        f"declares {_human_count(pixels)} pixels, over the {_human_count(limit)} limit "
        "(raise it with --max-image-pixels)"
    )


@contextmanager
def opening(path: str, what: str = "image") -> Iterator[None]:
    """Pillow's errors on opening ``path`` as one :class:`RebalanceError` naming the file."""
    from PIL import UnidentifiedImageError

    try:
        yield
    except FileNotFoundError:
        raise RebalanceError(f"{path}: no such {what} file") from None
    except UnidentifiedImageError:
        raise RebalanceError(f"{path}: not an image Pillow can read") from None
    except OSError as exc:
        raise RebalanceError(f"{path}: cannot read the {what} ({exc})") from None


def path_column(columns: Sequence[str], given: str | None, *, where: str) -> str:
    """The column of image paths: ``given`` (``--path-col``), else the one candidate present."""
    found = detect_column(
        columns, given, PATH_CANDIDATES, where=where, flag="--path-col", required=False
    )
    if found is None:
        raise RebalanceError(
            f"{where}: no image path column found among {', '.join(PATH_CANDIDATES)} "
            f"(name it with --path-col; columns: {', '.join(columns)})"
        )
    return found


def column_paths(table: Any, name: str, *, what: str, where: str) -> list[str]:
    """The paths of a column as written; a row without one is an error naming it."""
    from rebalance.manifest import labels_as_text

    shown = labels_as_text(table.column(name)).to_pylist()
    empty = [i for i, v in enumerate(shown) if not v]
    if empty:
        raise RebalanceError(
            f"{where}: {len(empty):,} row(s) have no {what} in column {name!r} "
            f"(first at data row {empty[0] + 1})"
        )
    return [str(v) for v in shown]


def base_folder(source: Source | str | None, root: str | None) -> str:
    """The folder relative paths start from: ``root``, else the manifest's folder (an image
    dataset on disk: its image folder)."""
    if root is not None:
        if not os.path.isdir(root):
            raise RebalanceError(f"--root {root}: no such folder")
        return root
    if isinstance(source, Source) and source.layout:
        from rebalance.manifest.ondisk import layout_base

        return layout_base(source)
    path = source.path if isinstance(source, Source) else source
    if path is None or path == "-":
        return os.getcwd()
    return os.path.dirname(os.path.abspath(path))


def resolve(paths: Iterable[str | None], base: str) -> list[str | None]:
    """Each path made absolute against ``base`` (``None`` and empty stay ``None``)."""
    out: list[str | None] = []
    for p in paths:
        if not p:
            out.append(None)
            continue
        expanded = os.path.expanduser(p)
        out.append(expanded if os.path.isabs(expanded) else os.path.join(base, expanded))
    return out


@dataclass
class FileCheck:
    """What :func:`check_files` found. Paths are as written in the manifest."""

    rows: int
    ok: int
    missing: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    too_large: list[str] = field(default_factory=list)  # over the pixel limit
    empty: int = 0  # rows with no path
    sizes: dict[str, int] = field(default_factory=dict)  # "WxH" -> images, most common first
    modes: dict[str, int] = field(default_factory=dict)
    formats: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)  # bad path -> why

    @property
    def bad(self) -> int:
        return len(self.missing) + len(self.unreadable) + len(self.corrupt) + len(self.too_large)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "ok": self.ok,
            "bad": self.bad,
            "empty_paths": self.empty,
            "missing": list(self.missing),
            "unreadable": list(self.unreadable),
            "corrupt": list(self.corrupt),
            "too_large": list(self.too_large),
            "reasons": dict(self.reasons),
            "sizes": dict(self.sizes),
            "modes": dict(self.modes),
            "formats": dict(self.formats),
        }


def _probe(path: str) -> tuple[str, Any]:
    """('ok', (size, mode, format)) or (kind of failure, reason)."""
    from PIL import Image, UnidentifiedImageError

    _quiet_pillow()
    if not os.path.exists(path):
        return "missing", "no such file"
    try:
        kind = not_regular(path)
    except OSError as exc:
        return "unreadable", exc.strerror or str(exc)
    if kind is not None:
        return "unreadable", kind
    try:
        with Image.open(path) as im:
            size, mode, fmt = im.size, im.mode, im.format or "?"
            refused = too_large(size)
            if refused is not None:
                return "too_large", refused
            im.verify()  # chunk CRCs and structure where the format has them; no decoding
    except Image.DecompressionBombError as exc:
        return "too_large", _bomb(exc)
    except UnidentifiedImageError:
        return "corrupt", "not an image Pillow can identify"
    except PermissionError as exc:
        return "unreadable", exc.strerror or "permission denied"
    except OSError as exc:
        return "unreadable" if exc.errno is not None else "corrupt", str(exc) or type(exc).__name__
    except (SyntaxError, ValueError, EOFError) as exc:  # Pillow's "broken file" errors
        return "corrupt", str(exc) or type(exc).__name__
    return "ok", (size, mode, fmt)


def default_workers() -> int:
    return usable_cpus()


def check_files(
    paths: Sequence[str | None],
    *,
    base: str,
    workers: int | None = None,
    step: Callable[[int], None] | None = None,
) -> FileCheck:
    """Open every image's header, ``workers`` at a time (threads: the work is I/O).

    ``paths`` are as written in the manifest (relative ones resolve against ``base``);
    ``step`` is called with the number of files done since the last call.
    """
    if workers is not None and workers < 1:
        raise RebalanceError(f"--workers must be at least 1, got {workers}")
    resolved = resolve(paths, base)
    report = FileCheck(rows=len(paths), ok=0)
    sizes: Counter[str] = Counter()
    modes: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    todo = [(shown, full) for shown, full in zip(paths, resolved, strict=True) if full]
    report.empty = len(paths) - len(todo)
    seen: dict[str, tuple[str, Any]] = {}
    unique = list(dict.fromkeys(full for _, full in todo))
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        for i, result in enumerate(pool.map(_probe, unique, chunksize=64)):
            seen[unique[i]] = result
            if step is not None and (i + 1) % 256 == 0:
                step(256)
    if step is not None:
        step(len(unique) % 256)
    listed: set[str] = set()
    for shown, full in todo:
        kind, value = seen[full]
        if kind == "ok":
            report.ok += 1
            (w, h), mode, fmt = value
            sizes[f"{w}x{h}"] += 1
            modes[mode] += 1
            formats[fmt] += 1
            continue
        assert shown is not None
        if shown in listed:
            continue
        listed.add(shown)
        getattr(report, kind).append(shown)
        report.reasons[shown] = str(value)
    report.sizes = dict(sizes.most_common())
    report.modes = dict(modes.most_common())
    report.formats = dict(formats.most_common())
    return report
