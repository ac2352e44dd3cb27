"""Where a manifest is and what it is: formats, sources, destinations, dataset folders."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rebalance import arrays
from rebalance.errors import RebalanceError
from rebalance.manifest.coded import _is_text, _mark_coded
from rebalance.manifest.columns import column_error
from rebalance.output import is_folder_output

if TYPE_CHECKING:
    pass

Format = Literal["csv", "tsv", "parquet", "jsonl", "imagefolder", "coco", "yolo", "voc", "list"]
FORMATS: tuple[Format, ...] = ("csv", "tsv", "parquet", "jsonl")
# image datasets read from their own layout (rebalance.manifest.ondisk)
LAYOUT_FORMATS: tuple[Format, ...] = ("imagefolder", "coco", "yolo", "voc")
INPUT_FORMATS: tuple[Format, ...] = (*FORMATS, *LAYOUT_FORMATS)
# COCO JSON (from a COCO input) and an image list (one path a line, what YOLO trainers read)
OUTPUT_FORMATS: tuple[Format, ...] = (*FORMATS, "coco", "list")

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_OUTPUT_EXTENSIONS: dict[str, Format] = {**_EXTENSIONS, ".json": "coco", ".txt": "list"}


@dataclass(frozen=True)
class Source:
    """Where a manifest lives and how it is encoded.

    ``path`` is ``"-"`` for standard input/output. ``name`` is what messages call it.
    """

    path: str
    format: Format
    compression: str | None = None
    encoding: str = "utf-8"
    dataset: bool = False  # a folder of Parquet files (hive-partitioned or flat)
    filesystem: Any = field(default=None, compare=False)  # pyarrow.fs, for s3:// and other URLs
    fs_path: str = ""  # the path within ``filesystem``
    # a dataset's files, listed once when resolved: every pass of a run reads the same files
    files: tuple[str, ...] = field(default=(), compare=False)
    # an on-disk image dataset: the image folder given by --root, and what a missing image
    # does ("error", "skip": left out, "keep": for the file check to report)
    root: str | None = field(default=None, compare=False)
    missing: str = field(default="error", compare=False)

    @property
    def layout(self) -> bool:
        """Whether this is an image dataset read from its own layout (COCO, YOLO…)."""
        return self.format in LAYOUT_FORMATS

    @property
    def name(self) -> str:
        return "stdin" if self.path == "-" else self.path

    @property
    def is_stdio(self) -> bool:
        return self.path == "-"


def _format_from_name(path: str, output: bool = False) -> tuple[Format | None, str | None]:
    lower = path.lower()
    compression = None
    if lower.endswith(".gz"):
        compression = "gzip"
        lower = lower[:-3]
    return (_OUTPUT_EXTENSIONS if output else _EXTENSIONS).get(Path(lower).suffix), compression


def _check_format(fmt: str, *, flag: str, known: tuple[Format, ...] = FORMATS) -> Format:
    if fmt not in known:
        raise RebalanceError(
            f"{flag} {fmt!r} is not a known format (use one of: {', '.join(known)})"
        )
    return fmt


def resolve_source(
    path: str | os.PathLike[str],
    *,
    input_format: str | None = None,
    encoding: str = "utf-8",
    root: str | None = None,
    missing: str | None = None,
) -> Source:
    """Work out the format of a manifest to read.

    Parameters
    ----------
    path:
        A file path, ``"-"`` for standard input, or an image dataset on disk: a class-folder
        tree, a COCO JSON, a YOLO folder/YAML/image list or a VOC folder.
    input_format:
        ``csv``, ``tsv``, ``parquet``, ``jsonl``, ``imagefolder``, ``coco``, ``yolo`` or
        ``voc``; overrides the extension (and what a folder holds).
    encoding:
        Text encoding of CSV/TSV/JSONL input.
    root, missing:
        For an image dataset on disk: the folder its images are in (found from the layout
        when ``None``), and what a missing image file does: ``error``, ``skip`` (left
        out) or ``keep``; when not given, those of the enclosing
        :func:`~rebalance.manifest.ondisk.layout_reading` block (found; ``error``).

    Raises
    ------
    RebalanceError
        When the file does not exist or its format cannot be told.
    """
    path = os.fspath(path)
    from rebalance.storage import is_url

    if is_url(path):
        return _remote_source(path, input_format, encoding)
    layout = _layout(path, input_format)
    if layout is not None:
        from rebalance.manifest.ondisk import reading_defaults

        default_root, default_missing = reading_defaults()
        missing = default_missing if missing is None else missing
        if missing not in ("error", "skip", "keep"):
            raise RebalanceError(f"missing images: {missing!r} is not one of error, skip, keep")
        root = default_root if root is None else root
        return Source(path=path, format=layout, encoding=encoding, root=root, missing=missing)
    if path != "-" and os.path.isdir(path):
        if input_format not in (None, "parquet"):
            raise RebalanceError(
                f"{path}: a folder is read as a Parquet dataset, not --input-format {input_format}"
            )
        files = tuple(dataset_files(path))
        if not files:
            raise RebalanceError(f"{path}: a folder with no Parquet files (*.parquet)")
        return Source(path=path, format="parquet", encoding=encoding, dataset=True, files=files)
    fmt, compression = _resolve_format(path, input_format, flag="--input-format")
    if path != "-" and not os.path.exists(path):
        raise RebalanceError(f"{path}: no such file")
    return Source(path=path, format=fmt, compression=compression, encoding=encoding)


def _layout(path: str, input_format: str | None) -> Format | None:
    """The image-dataset layout to read ``path`` as, or ``None`` for a manifest."""
    if path == "-":
        if input_format in LAYOUT_FORMATS:
            raise RebalanceError(f"--input-format {input_format} reads files, not stdin")
        return None
    if input_format is not None:
        _check_format(input_format, flag="--input-format", known=INPUT_FORMATS)
        if input_format not in LAYOUT_FORMATS:
            return None
        if not os.path.exists(path):
            raise RebalanceError(f"{path}: no such file or folder")
        return input_format
    if not os.path.exists(path):
        return None
    from rebalance.manifest.ondisk import detect_layout

    return detect_layout(path)  # type: ignore[return-value]


def _remote_source(url: str, input_format: str | None, encoding: str) -> Source:
    from rebalance.storage import filesystem, kind

    fs, fs_path = filesystem(url)
    what = kind(url, fs, fs_path)
    if what == "missing":
        raise RebalanceError(f"{url}: no such object or prefix")
    if what == "folder":
        if input_format not in (None, "parquet"):
            raise RebalanceError(
                f"{url}: a prefix is read as a Parquet dataset, not --input-format {input_format}"
            )
        source = Source(
            url, "parquet", encoding=encoding, dataset=True, filesystem=fs, fs_path=fs_path
        )
        files = tuple(dataset_files(source))
        if not files:
            raise RebalanceError(f"{url}: a prefix with no Parquet files (*.parquet)")
        return replace(source, files=files)
    fmt, compression = _resolve_format(url, input_format, flag="--input-format")
    return Source(url, fmt, compression, encoding, filesystem=fs, fs_path=fs_path)


def dataset_files(folder: str | Source) -> list[str]:
    """The Parquet files of a dataset folder, in path order (which is the row order); files
    and folders whose names start with ``.`` or ``_`` (``_SUCCESS``, ``.crc``) are skipped.
    A resolved :class:`Source` gives the files it was resolved with."""
    if isinstance(folder, Source):
        if folder.files:
            return list(folder.files)
        if folder.filesystem is not None:
            from rebalance.storage import list_files

            base = folder.fs_path.rstrip("/") + "/"
            return [
                f
                for f in list_files(folder.path, folder.filesystem, folder.fs_path)
                if not any(part.startswith((".", "_")) for part in f[len(base) :].split("/"))
                and f.lower().endswith((".parquet", ".parq"))
            ]
        folder = folder.path
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(files):
            if not name.startswith((".", "_")) and name.lower().endswith((".parquet", ".parq")):
                found.append(os.path.join(root, name))
    return sorted(found, key=lambda f: os.path.relpath(f, folder).split(os.sep))


def open_dataset(source: Source, dictionary: Sequence[str] = ()) -> Any:
    """The folder as one ``pyarrow.dataset.Dataset``: its files in path order, hive partition
    folders (``split=train/``) as text columns (dictionary-encoded, values verbatim), and the
    plain-string columns of ``dictionary`` read dictionary-encoded (faster to count)."""
    import pyarrow.dataset as ds

    fmt: Any = "parquet"
    if dictionary:
        schema = open_dataset(source).schema
        coded = [c for c in dictionary if c in schema.names and _is_text(schema.field(c).type)]
        if coded:
            fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=coded))
    try:
        return ds.dataset(
            dataset_files(source),
            format=fmt,
            partitioning=ds.HivePartitioning.discover(infer_dictionary=True),
            partition_base_dir=source.fs_path if source.filesystem is not None else source.path,
            filesystem=source.filesystem,
        )
    except (pa.ArrowException, OSError) as exc:
        raise RebalanceError(f"{source.name}: not a readable Parquet dataset ({exc})") from exc


def dataset_tables(
    source: Source,
    columns: Sequence[str] | None,
    dictionary: Sequence[str],
    batch_size: int,
    *,
    counting: bool = False,
) -> Iterator[pa.Table]:
    """A dataset's files one after the other (row order), in tables of at most
    ``batch_size`` rows: the ``columns`` (all for ``None``), partition columns as constant
    text, ``dictionary`` text columns dictionary-encoded (both marked to be written back as
    plain text). File by file, so memory holds one batch: Arrow's dataset scanner reads
    ahead as fast as it can, and on a slower consumer holds hundreds of MB.

    ``counting`` (the columns are counted, never written back): the files are read on a
    thread per core, in order, at most one file per thread and one more held at a time (a
    Spark folder is many small files). ``large_string`` columns are coded too, marked with
    their stored type so that a writer stores them as ``large_string`` again."""
    schema, partitions = dataset_schema(source)
    wanted = list(columns) if columns is not None else list(schema.names)
    missing = [c for c in wanted if c not in schema.names]
    if missing:
        raise column_error(source.name, missing[0], schema.names)
    base = source.fs_path if source.filesystem is not None else source.path
    coded = [c for c in dictionary if c in wanted and c not in partitions]

    def file_tables(path: str) -> Iterator[pa.Table]:
        values = dict(hive_values(path, base))
        handle: Any = source.filesystem.open_input_file(path) if source.filesystem else path
        pf = pq.ParquetFile(
            handle,
            read_dictionary=[c for c in coded if _is_text(schema.field(c).type)] or None,
            pre_buffer=source.filesystem is not None,  # see _parquet_file
        )
        here = set(pf.schema_arrow.names)
        physical = [c for c in wanted if c not in partitions and c in here]
        marked = {
            c: schema.field(c).type for c in coded if c in here and _is_text(schema.field(c).type)
        }
        for batch in pf.iter_batches(batch_size=batch_size, columns=physical):
            n = batch.num_rows
            arrays_out = []
            for name in wanted:
                if name in partitions:
                    arrays_out.append(partition_column(values.get(name), n))
                elif name in here:
                    arrays_out.append(batch.column(name))
                else:  # a column this file does not have: null, as Arrow's datasets do
                    arrays_out.append(pa.nulls(n, schema.field(name).type))
            table = pa.Table.from_arrays(arrays_out, names=wanted)
            yield _mark_coded(
                table, {**marked, **{c: pa.string() for c in wanted if c in partitions}}
            )

    files = dataset_files(source)
    if not counting or len(files) < 2:
        for path in files:
            yield from file_tables(path)
        return
    yield from _files_in_parallel(files, lambda path: list(file_tables(path)))


def dataset_schema(source: Source) -> tuple[pa.Schema, list[str]]:
    """A dataset's schema and its hive partition columns, as ``open_dataset`` infers them
    (the first file's columns, then each ``key=value`` folder as dictionary text), without
    importing ``pyarrow.dataset`` (which imports pandas: a third of a second per command)."""
    files = dataset_files(source)
    base = source.fs_path if source.filesystem is not None else source.path
    handle: Any = source.filesystem.open_input_file(files[0]) if source.filesystem else files[0]
    try:
        schema = pq.read_schema(handle)
    except (pa.ArrowException, OSError) as exc:
        raise RebalanceError(f"{source.name}: not a readable Parquet dataset ({exc})") from exc
    keys = list(dict.fromkeys(key for f in files for key, _ in hive_values(f, base)))
    partitions = [k for k in keys if k not in schema.names]
    coded = pa.dictionary(pa.int32(), pa.string())
    for key in partitions:
        schema = schema.append(pa.field(key, coded))
    return schema, partitions


def _files_in_parallel(
    files: Sequence[str], read: Callable[[str], list[pa.Table]]
) -> Iterator[pa.Table]:
    """``read(file)`` for every file on a thread per core, yielded in file order."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    from rebalance.cpus import usable_cpus

    threads = max(1, min(usable_cpus(), len(files)))
    with ThreadPoolExecutor(threads, thread_name_prefix="rebalance-read") as pool:
        pending = deque(pool.submit(read, f) for f in files[: threads + 1])
        following = len(pending)
        while pending:
            tables = pending.popleft().result()
            if following < len(files):
                pending.append(pool.submit(read, files[following]))
                following += 1
            yield from tables


def partition_column(value: str | None, n: int) -> pa.Array:
    """A hive partition column of ``n`` rows: its folder's value, as a one-entry dictionary
    (null where a file has no such folder); marked coded, it is written back as text."""
    if value is None:
        return pa.nulls(n, pa.dictionary(pa.int32(), pa.string()))
    codes = arrays.to_arrow(np.zeros(n, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(codes, arrays.text([value]))


def hive_values(path: str, base: str) -> tuple[tuple[str, str], ...]:
    """The ``key=value`` folders between a dataset's base folder and one of its files."""
    rel = os.path.relpath(path, base) if "://" not in base else path[len(base.rstrip("/")) + 1 :]
    pairs = []
    for part in rel.replace(os.sep, "/").split("/")[:-1]:
        key, sep, value = part.partition("=")
        if sep:
            pairs.append((key, value))
    return tuple(pairs)


def _partition_columns(dataset: Any) -> list[str]:
    """The hive partition columns: those named by a ``key=value`` folder of some file (a
    dataset with no such folders reports its whole schema as the partitioning's)."""
    partitioning = getattr(dataset, "partitioning", None)
    schema = getattr(partitioning, "schema", None)
    if schema is None:
        return []
    folders = {
        part.split("=", 1)[0] for f in dataset.files for part in f.split("/")[:-1] if "=" in part
    }
    return [name for name in schema.names if name in folders]


def resolve_destination(
    path: str | os.PathLike[str], *, output_format: str | None = None, default: Format = "csv"
) -> Source:
    """Work out the format of a manifest to write (``"-"`` is standard output).

    A path ending in ``/`` is a folder of Parquet files.
    """
    path = os.fspath(path)
    if is_folder_output(path):
        if output_format not in (None, "parquet"):
            raise RebalanceError(
                f"{path}: a folder is written as Parquet files, not --output-format {output_format}"
            )
        return Source(path=path, format="parquet", dataset=True)
    fmt, compression = _resolve_format(
        path, output_format, flag="--output-format", default=default, output=True
    )
    return Source(path=path, format=fmt, compression=compression)


def part_name(index: int) -> str:
    """The file name of a folder output's ``index``-th part (names sort in row order)."""
    return f"part-{index:05d}.parquet"


def _resolve_format(
    path: str, override: str | None, *, flag: str, default: Format = "csv", output: bool = False
) -> tuple[Format, str | None]:
    """The format (override, else extension; ``-`` gets ``default``) and compression of a path."""
    fmt_by_name, compression = _format_from_name(path, output) if path != "-" else (None, None)
    known = OUTPUT_FORMATS if output else FORMATS
    if override is not None:
        fmt: Format = _check_format(override, flag=flag, known=known)
    elif path == "-":
        fmt = default
    elif fmt_by_name is None:
        suffix = "".join(Path(path).suffixes) or "(none)"
        raise RebalanceError(
            f"{path}: unknown file extension {suffix} (use {flag} with one of: {', '.join(known)})"
        )
    else:
        fmt = fmt_by_name
    return fmt, None if fmt == "parquet" else compression


def _delimiter(fmt: Format) -> str:
    return "\t" if fmt == "tsv" else ","
