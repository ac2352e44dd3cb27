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
    """The folder relative paths start from: ``root``, else the manifest's folder."""
    if root is not None:
        if not os.path.isdir(root):
            raise RebalanceError(f"--root {root}: no such folder")
        return root
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
    empty: int = 0  # rows with no path
    sizes: dict[str, int] = field(default_factory=dict)  # "WxH" -> images, most common first
    modes: dict[str, int] = field(default_factory=dict)
    formats: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)  # bad path -> why

    @property
    def bad(self) -> int:
        return len(self.missing) + len(self.unreadable) + len(self.corrupt)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "ok": self.ok,
            "bad": self.bad,
            "empty_paths": self.empty,
            "missing": list(self.missing),
            "unreadable": list(self.unreadable),
            "corrupt": list(self.corrupt),
            "reasons": dict(self.reasons),
            "sizes": dict(self.sizes),
            "modes": dict(self.modes),
            "formats": dict(self.formats),
        }


def _probe(path: str) -> tuple[str, Any]:
    """('ok', (size, mode, format)) or (kind of failure, reason)."""
    from PIL import Image, UnidentifiedImageError

    if not os.path.exists(path):
        return "missing", "no such file"
    if os.path.isdir(path):
        return "unreadable", "is a folder"
    try:
        with Image.open(path) as im:
            size, mode, fmt = im.size, im.mode, im.format or "?"
            im.verify()  # chunk CRCs and structure where the format has them; no decoding
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
