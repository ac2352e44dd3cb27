"""Object storage: ``s3://`` (and any URL ``pyarrow.fs`` knows) for inputs and outputs.

S3 is reached through ``pyarrow.fs.S3FileSystem``, which does not read ``AWS_ENDPOINT_URL``
itself: the endpoint comes from ``--storage-option endpoint_url=…``, else from
``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``, and is passed as ``endpoint_override``.
Credentials and region come from the usual AWS variables and files, or from
``--storage-option access_key=… secret_key=… region=…`` (also ``session_token``,
``anonymous=true``). Other URL schemes go to ``pyarrow.fs.FileSystem.from_uri``.

Writes are all-or-nothing for readers: the output is written to a local temporary file
first and uploaded as one object once complete (S3 shows an object only when its upload
completes).

Standard library only at import: the CLI's option parsing uses :func:`is_url`.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

from rebalance.errors import RebalanceError

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_S3_KEYS = ("access_key", "secret_key", "session_token", "region", "endpoint_url", "anonymous")

# options given with --storage-option (the CLI sets them once per run)
OPTIONS: dict[str, str] = {}


def is_url(path: str) -> bool:
    """Whether ``path`` names object storage (``s3://bucket/key``), not a local file."""
    return bool(_URL.match(path)) and not path.startswith("file://")


def set_options(items: list[str]) -> None:
    """Parse ``KEY=VALUE`` storage options into :data:`OPTIONS`."""
    OPTIONS.clear()
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise RebalanceError(f"--storage-option {item!r} must look like KEY=VALUE")
        OPTIONS[key.strip()] = value.strip()


def filesystem(url: str) -> tuple[Any, str]:
    """The ``pyarrow.fs`` filesystem of a URL and the path within it (``bucket/key``)."""
    import pyarrow as pa
    import pyarrow.fs as pafs

    if url.startswith("s3://"):
        return _s3(), url[len("s3://") :].rstrip("/")
    if OPTIONS:
        raise RebalanceError(f"--storage-option applies to s3:// URLs, not {url}")
    try:
        fs, path = pafs.FileSystem.from_uri(url)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise RebalanceError(f"{url}: cannot open this storage URL ({exc})") from exc
    return fs, path


def _s3() -> Any:
    import pyarrow.fs as pafs

    options = dict(OPTIONS)
    unknown = sorted(set(options) - set(_S3_KEYS))
    if unknown:
        raise RebalanceError(
            f"unknown --storage-option {unknown[0]!r} for s3:// (use: {', '.join(_S3_KEYS)})"
        )
    kwargs: dict[str, Any] = {}
    endpoint = (
        options.get("endpoint_url")
        or os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
    )
    if endpoint:
        scheme, sep, host = endpoint.partition("://")
        kwargs["endpoint_override"] = host if sep else endpoint
        kwargs["scheme"] = scheme if sep else "https"
    region = (
        options.get("region")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
    )
    if region:
        kwargs["region"] = region
    for key in ("access_key", "secret_key", "session_token"):
        if key in options:
            kwargs[key] = options[key]
    if options.get("anonymous", "").lower() in ("1", "true", "yes"):
        kwargs["anonymous"] = True
    return pafs.S3FileSystem(**kwargs)


def kind(url: str, fs: Any, path: str) -> str:
    """``file``, ``folder`` or ``missing``: what the URL (``path`` on ``fs``) names; a prefix
    is a folder."""
    import pyarrow as pa
    import pyarrow.fs as pafs

    try:
        info = fs.get_file_info(path)
    except (pa.ArrowException, OSError) as exc:
        raise RebalanceError(f"{url}: cannot reach it ({exc})") from exc
    if info.type == pafs.FileType.File and not url.endswith("/"):
        return "file"
    if info.type == pafs.FileType.Directory:
        return "folder"
    return "missing"


def list_files(url: str, fs: Any, path: str) -> list[str]:
    """Every object under a URL prefix (``path`` on ``fs``), as paths of ``fs``, sorted."""
    import pyarrow as pa
    import pyarrow.fs as pafs

    try:
        infos = fs.get_file_info(pafs.FileSelector(path, recursive=True))
    except (pa.ArrowException, OSError) as exc:
        raise RebalanceError(f"{url}: cannot list it ({exc})") from exc
    return sorted(i.path for i in infos if i.type == pafs.FileType.File)


def upload(local: str, url: str) -> None:
    """Copy a complete local file to ``url`` as one object."""
    import pyarrow as pa

    fs, path = filesystem(url)
    try:
        with open(local, "rb") as src, fs.open_output_stream(path) as dst:
            shutil.copyfileobj(src, dst, 8 << 20)
    except (pa.ArrowException, OSError) as exc:
        raise RebalanceError(f"{url}: cannot write ({exc})") from exc


def publish_prefix(staging: str, url: str) -> None:
    """Copy every object under the ``staging`` prefix to the same name under ``url``, then
    remove the staging prefix and write an empty ``url/_SUCCESS`` (the sign that the
    folder is complete)."""
    import pyarrow as pa

    fs, tmp = filesystem(staging)
    _, final = filesystem(url)
    try:
        for path in list_files(staging, fs, tmp):
            fs.copy_file(path, f"{final}/{path[len(tmp) + 1 :]}")
        fs.delete_dir(tmp)
        parent = tmp.rsplit("/", 1)[0]  # _temporary/: removed once no other run uses it
        if not list_files(url, fs, parent):
            fs.delete_dir(parent)
        with fs.open_output_stream(f"{final}/_SUCCESS"):
            pass
    except (pa.ArrowException, OSError) as exc:
        raise RebalanceError(f"{url}: cannot write ({exc})") from exc


def remove_prefix(url: str) -> None:
    """Remove every object under a prefix; quietly (cleaning up after a failure)."""
    import pyarrow as pa

    try:
        fs, path = filesystem(url)
        fs.delete_dir(path)
    except (pa.ArrowException, OSError, RebalanceError):
        pass


def is_empty(url: str) -> bool:
    """Whether no object lies under the prefix ``url``."""
    fs, path = filesystem(url)
    return kind(url, fs, path) == "missing" or not list_files(url, fs, path)
