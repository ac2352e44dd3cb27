"""Relative file paths that follow a manifest to its new folder.

A manifest's relative paths resolve against its own folder (or ``--root``). When an
output is written to another folder, the same text would point elsewhere, so every
relative path column it carries is rewritten relative to the output's folder
(``relative``, the default), made absolute (``absolute``), or left as read (``as-is``).
Absolute paths, URLs (``s3://…``) and empty cells are never touched.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rebalance import arrays
from rebalance.errors import RebalanceError

PathsMode = Literal["relative", "absolute", "as-is"]
# a relative path whose rewrite is plain concatenation: no leading /, ./, ../ or ~, no
# empty, . or .. component, no URL, no backslash (a separator on Windows)
# the same, as the RE2 pattern of the paths that are *not* plain (Arrow's regex engine has no
# lookahead): empty, a leading / . or ~, //, a . or .. component, a trailing /, :/, \ or NUL
_NOT_SIMPLE_RE2 = r"^$|^[./~]|//|/\.\.?(/|$)|/$|:/|\\|\x00"
_SIMPLE = re.compile(r"(?![./~])(?!.*(?://|/\.\.?(?:/|$)|/$|:/|\\))[^\x00]+\Z", re.S)
PATHS_MODES: tuple[str, ...] = ("relative", "absolute", "as-is")
# the columns that augmentation adds, which hold paths as read too
_ADDED_PATH_COLUMNS = ("rebalance_parent",)


def check_paths_mode(mode: str) -> PathsMode:
    """``--paths``: one of :data:`PATHS_MODES`."""
    if mode not in PATHS_MODES:
        raise RebalanceError(f"--paths {mode!r} is not one of {', '.join(PATHS_MODES)}")
    return mode  # type: ignore[return-value]


def path_columns(
    names: Sequence[str], *, path_col: str | None = None, mask_col: str | None = None
) -> list[str]:
    """The columns that hold file paths: ``--path-col``, ``--mask-col``, augmentation's
    parent column, and the columns named like paths (``path``, ``image``, ``mask``…)."""
    from rebalance.manifest import PATH_NAMES

    named = {c for c in (path_col, mask_col) if c is not None}
    return [
        c
        for c in names
        if c in named or c.lower() in PATH_NAMES or c.lower() in _ADDED_PATH_COLUMNS
    ]


def _is_relative(value: str) -> bool:
    return bool(value) and "://" not in value and not os.path.isabs(os.path.expanduser(value))


@dataclass(frozen=True)
class Relocation:
    """Rewrites the relative paths of ``columns`` from ``base`` for ``out_dir``.

    Picklable, so a distributed engine's workers can apply it to the parts they write.
    """

    columns: tuple[str, ...]
    base: str
    out_dir: str | None  # None with mode "absolute"
    mode: PathsMode

    @functools.cached_property
    def _prefix(self) -> str | None:
        """What a plain relative path gets in front of it (the base as seen from the output),
        or ``None`` when the output lies below the base: a path may then lead back into the
        output's folder, and ``relpath`` shortens it (``../a/x`` from ``a/`` is ``x``)."""
        if self.mode == "absolute":
            return os.path.normpath(self.base).rstrip(os.sep) + os.sep
        assert self.out_dir is not None
        rel = os.path.relpath(os.path.normpath(self.base), self.out_dir).replace(os.sep, "/")
        if rel == ".":
            return ""
        return None if rel.split("/")[-1] == ".." else rel + "/"

    def value(self, text: str) -> str:
        """One path as it is written in the output."""
        if self._prefix is not None and _SIMPLE.match(text):
            # a plain relative path (no ., .., //, ~ or trailing /): the rewrite is lexical,
            # the same prefix every time (os.path.relpath per row took seconds on 500k paths)
            return self._prefix + text
        if not _is_relative(text):
            return text
        full = os.path.normpath(os.path.join(self.base, text))
        if self.mode == "absolute":
            return full
        assert self.out_dir is not None
        return os.path.relpath(full, self.out_dir).replace(os.sep, "/")

    def __call__(self, table: pa.Table) -> pa.Table:
        """The table with its path columns rewritten (other columns and types untouched)."""
        for name in self.columns:
            if name not in table.column_names:
                continue
            i = table.column_names.index(name)
            field = table.schema.field(i)
            kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
            if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
                continue
            column = table.column(i)
            if not pa.types.is_dictionary(field.type):
                # paths are mostly distinct: rewriting each row beats hashing them first
                rewritten = pa.chunked_array(
                    [self._rewritten(chunk, kind) for chunk in column.chunks], type=kind
                )
                table = table.set_column(i, field, rewritten)
                continue
            chunks = []
            for chunk in column.chunks:
                new = self._rewritten(chunk.dictionary.cast(kind), kind)
                chunks.append(pa.DictionaryArray.from_arrays(chunk.indices, new))
            rewritten = pa.chunked_array(chunks, type=pa.dictionary(pa.int32(), kind))
            table = table.set_column(i, field, rewritten.cast(field.type))
        return table

    def _rewritten(self, texts: pa.Array, kind: pa.DataType) -> pa.Array:
        """Every distinct path rewritten: plain ones by one vectorised concatenation, the
        others (``..``, ``~``, absolute, URLs…) one by one with :meth:`value`."""
        if self._prefix is None or len(texts) == 0:
            return arrays.text(
                [None if t is None else self.value(t) for t in texts.to_pylist()]
            ).cast(kind)
        # no Python scalar or list reaches pyarrow here: converting one imports pandas
        other = arrays.booleans(pc.match_substring_regex(texts, _NOT_SIMPLE_RE2))
        prefix, empty = arrays.text([self._prefix, ""]).cast(kind)
        fast = pc.binary_join_element_wise(prefix, texts, empty)
        positions = np.flatnonzero(other)
        if len(positions) == 0:
            return fast
        slow = [self.value(t) for t in texts.take(arrays.to_arrow(positions)).to_pylist()]
        return pc.replace_with_mask(fast, arrays.to_arrow(other), arrays.text(slow).cast(kind))

    def parts(self, parts: Iterable[pa.Table]) -> Iterator[pa.Table]:
        """Each part rewritten."""
        for part in parts:
            yield self(part)


def _same_folder(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def plan_relocation(
    names: Sequence[str],
    *,
    base: str,
    output: str,
    folder_output: bool,
    mode: str = "relative",
    path_col: str | None = None,
    mask_col: str | None = None,
) -> tuple[Relocation | None, str | None]:
    """How an output's path columns are written, and a note for stderr (or ``None``).

    ``output`` is ``-`` (stdout: paths as read, said), a URL (as read, said), a folder
    (``folder_output``) or a file. Returns no relocation when nothing would change.
    """
    checked = check_paths_mode(mode)
    columns = tuple(path_columns(names, path_col=path_col, mask_col=mask_col))
    if not columns or checked == "as-is":
        return None, None
    shown = ", ".join(repr(c) for c in columns)
    if checked == "absolute":
        return Relocation(columns, base, None, "absolute"), None
    if output == "-":
        return None, (
            f"paths in {shown} are written as read, relative to {base} "
            "(-o FILE rewrites them for its folder; --paths absolute makes them absolute)"
        )
    from rebalance.storage import is_url

    if is_url(output):
        return None, (
            f"paths in {shown} are written as read to {output} (--paths absolute makes "
            "them absolute)"
        )
    out_dir = (
        os.path.abspath(output.rstrip("/" + os.sep))
        if folder_output
        else os.path.dirname(os.path.abspath(output))
    )
    if _same_folder(base, out_dir):
        return None, None
    return Relocation(columns, os.path.abspath(base), out_dir, "relative"), None


def relocate_table(
    table: pa.Table,
    source: Any,
    output: str,
    *,
    mode: str = "relative",
    root: str | None = None,
    path_col: str | None = None,
    mask_col: str | None = None,
) -> tuple[pa.Table, str | None]:
    """A whole output table with its paths written for ``output`` (see :func:`plan_relocation`);
    ``source`` is the input manifest (its path or :class:`~rebalance.manifest.Source`;
    ``None`` or ``-``: standard input)."""
    from rebalance.images.files import base_folder
    from rebalance.output import is_folder_output

    stdin = source is None or source == "-" or getattr(source, "is_stdio", False)
    base = base_folder(None if stdin else source, root)
    relocation, note = plan_relocation(
        table.column_names,
        base=base,
        output=output,
        folder_output=is_folder_output(output),
        mode=mode,
        path_col=path_col,
        mask_col=mask_col,
    )
    return (relocation(table) if relocation else table), note
