"""Where results go: destinations checked up front, writes atomic and all-or-nothing.

Every command follows the same three steps, so that nothing is lost:

1. :func:`check_destinations` looks at every destination a command was given before
   any input is read: none may be an input, two may not be the same file, at most one
   may be standard output, and each must land in a writable folder.
2. :func:`atomic_write` writes each file to a temporary file beside its target and
   renames it over the target once complete.
3. Inside :func:`staged`, those renames wait until the whole command succeeded: a
   failure anywhere (an error, Ctrl-C, SIGTERM) removes every temporary file and
   leaves every target as it was.

Temporary files are named ``.rebalance-<host>-<pid>-<random>.tmp``. A process killed
with SIGKILL cannot remove its own; the next write into that folder removes the ones
whose process is gone (same host only) and warns about each.

Standard library only: the CLI imports this module before any heavy library.
"""

from __future__ import annotations

import atexit
import contextvars
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO

from rebalance.errors import RebalanceError, RebalanceWarning

_PREFIX = ".rebalance-"
_SUFFIX = ".tmp"
# mkstemp's random part never holds '-', so the pid is the last dash-separated number
_TEMP_NAME = re.compile(r"^\.rebalance-(?P<host>.+)-(?P<pid>\d+)-[a-z0-9_]+\.tmp$")

_stage: contextvars.ContextVar[list[tuple[str, str]] | None] = contextvars.ContextVar(
    "rebalance_stage", default=None
)


_swept: set[str] = set()
# temporary files and folders being filled now, in any thread: an exit while a writer
# thread is busy (SIGTERM ends the main thread; daemon threads just stop) removes them
_filling: set[str] = set()


@atexit.register
def _remove_unfinished() -> None:
    for tmp in list(_filling):
        _unlink(tmp)
    _filling.clear()


def _host() -> str:
    import socket  # 5 ms to import: only a write pays for it

    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "localhost"


def same_file(a: str, b: str) -> bool:
    """Whether two paths name the same file (false for stdio)."""
    if "-" in (a, b):
        return False
    from rebalance.storage import is_url

    if is_url(a) or is_url(b):
        return a.rstrip("/") == b.rstrip("/")
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_destinations(
    destinations: Sequence[tuple[str, str | None]],
    inputs: Sequence[str | os.PathLike[str] | None] = (),
    *,
    folders: Sequence[str] = (),
) -> None:
    """Refuse, before anything is read or written, destinations that cannot all be written.

    Parameters
    ----------
    destinations:
        ``(flag, path)`` pairs, such as ``("-o", "out.csv")``; ``None`` paths are
        skipped and ``"-"`` is standard output.
    inputs:
        Every file the command reads (manifests, plans, priors...); ``None`` and ``"-"``
        are skipped.
    folders:
        Flags that may name a folder (a path ending in ``/``): it must be new or empty, in a writable folder (a URL prefix: hold no object).

    Raises
    ------
    RebalanceError
        Naming the flag and path: a destination that is an input, two destinations
        naming one file, two writing to stdout, a missing or read-only folder, or a
        path that is a folder.
    """
    read = [os.fspath(p) for p in inputs if p is not None and os.fspath(p) != "-"]
    seen: list[tuple[str, str]] = []
    for flag, path in destinations:
        if path is None:
            continue
        if path == "-":
            earlier = [f for f, p in seen if p == "-"]
            if earlier:
                raise RebalanceError(
                    f"{earlier[0]} and {flag} both write to stdout; send one of them to a file"
                )
            seen.append((flag, path))
            continue
        for source in read:
            if same_file(source, path):
                raise RebalanceError(
                    f"{path}: refusing to overwrite the input {source} (choose another {flag})"
                )
            if _inside_input(path, source):
                raise RebalanceError(
                    f"{path}: inside the input dataset folder {source}, where it would become "
                    f"part of the input (choose another {flag})"
                )
        for other_flag, other in seen:
            if other != "-" and same_file(other, path):
                raise RebalanceError(
                    f"{path}: named by both {other_flag} and {flag}; give each its own file"
                )
        from rebalance.storage import is_url

        if flag in folders and is_folder_output(path):
            _check_folder(flag, path)
            seen.append((flag, path))
            continue
        if is_url(path):
            if path.endswith("/"):
                raise RebalanceError(f"{path}: is a prefix; {flag} needs an object name")
            seen.append((flag, path))
            continue
        if os.path.isdir(path):
            hint = f" (write {path.rstrip('/' + os.sep)}/ for a folder of Parquet parts)"
            raise RebalanceError(
                f"{path}: is a folder; {flag} needs a file name" + (hint if flag in folders else "")
            )
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise RebalanceError(f"{path}: folder {folder} does not exist ({flag})")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise RebalanceError(f"{path}: folder {folder} is not writable ({flag})")
        if os.path.exists(path) and not os.access(path, os.W_OK):
            # rename would replace it, but a read-only file is a signal to leave it alone
            raise RebalanceError(f"{path}: file is read-only ({flag})")
        seen.append((flag, path))


def is_folder_output(path: str) -> bool:
    """Whether an output path names a folder (a dataset of part files) rather than a file.

    Only a trailing ``/`` says so: an existing folder named without one is refused as a
    file destination, so a typo never fills a folder the user did not mean to write into.
    """
    return path != "-" and path.endswith(("/", os.sep))


def _check_folder(flag: str, path: str) -> None:
    """A folder output must be new or empty (nothing in it is ever overwritten)."""
    from rebalance.storage import is_empty, is_url

    if is_url(path):
        if not is_empty(path):
            raise RebalanceError(
                f"{path}: the prefix holds objects already; {flag} needs a new or empty prefix"
            )
        return
    if os.path.isdir(path):
        if os.listdir(path):
            raise RebalanceError(
                f"{path}: the folder is not empty; {flag} needs a new or empty folder"
            )
        return
    if os.path.exists(path):
        raise RebalanceError(f"{path}: is a file; {flag} ending in / names a folder")
    parent = os.path.dirname(os.path.abspath(path.rstrip("/" + os.sep)))
    if not os.path.isdir(parent):
        raise RebalanceError(f"{path}: folder {parent} does not exist ({flag})")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RebalanceError(f"{path}: folder {parent} is not writable ({flag})")


@contextmanager
def staged() -> Iterator[None]:
    """Hold back the renames of :func:`atomic_write` until the block ends without error.

    On success every staged file is renamed over its target, in the order written; on
    any exception (``KeyboardInterrupt`` and ``SystemExit`` included) every staged
    temporary file is removed and no target changes. Nested blocks join the outer one.
    """
    if _stage.get() is not None:
        yield
        return
    pending: list[tuple[str, str]] = []
    token = _stage.set(pending)
    try:
        yield
    except BaseException:
        for tmp, _ in pending:
            _unlink(tmp)
        raise
    finally:
        _stage.reset(token)
    try:
        for i, (tmp, path) in enumerate(pending):
            _publish(tmp, path)
            pending[i] = ("", path)
    except BaseException as exc:
        for tmp, _ in pending:
            if tmp:
                _unlink(tmp)
        if isinstance(exc, OSError):
            raise RebalanceError(f"{exc.filename}: cannot write ({exc.strerror or exc})") from exc
        raise


def atomic_write(path: str, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write`` on a temporary file in the target folder, then rename it over ``path``.

    A crash or error leaves the target as it was and no temporary file behind (the
    rename is atomic; no fsync, so durability across power loss is the OS's). Inside
    :func:`staged` the rename waits for the end of the block.
    """
    from rebalance.storage import is_url

    # an object is written to a local temporary file, then uploaded whole
    folder = tempfile.gettempdir() if is_url(path) else os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise RebalanceError(f"{path}: folder {folder} does not exist")
    if folder not in _swept:  # once per folder and process: augmentation writes thousands there
        remove_stale_temps(folder)
        _swept.add(folder)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f"{_PREFIX}{_host()}-{os.getpid()}-", suffix=_SUFFIX, dir=folder
        )
    except OSError as exc:
        raise RebalanceError(f"{path}: cannot write ({exc.strerror or exc})") from exc

    def fill() -> None:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, 0o666 & ~_umask())

    _complete(tmp, path, fill)


def _complete(tmp: str, path: str, fill: Callable[[], None]) -> None:
    """``fill()`` the temporary file or folder ``tmp``, then publish it as ``path`` (inside
    :func:`staged`, at the end of the block); on any error remove ``tmp`` and name ``path``."""
    pending = _stage.get()
    _filling.add(tmp)
    try:
        fill()
        _filling.discard(tmp)
        if pending is None:
            _publish(tmp, path)
        else:
            pending.append((tmp, path))
    except BaseException as exc:
        _filling.discard(tmp)
        _unlink(tmp)
        if isinstance(exc, OSError):
            raise RebalanceError(f"{path}: cannot write ({exc.strerror or exc})") from exc
        if isinstance(exc, RebalanceError) and tmp.rstrip("/") in str(exc):
            # name the file or folder the user asked for, not the temporary one
            raise RebalanceError(str(exc).replace(tmp.rstrip("/"), path.rstrip("/"))) from exc
        raise


def write_folder(path: str, fill: Callable[[str], None]) -> None:
    """Make the folder ``path`` (a local folder, or a URL prefix) all at once.

    ``fill(staging)`` writes the files into a staging folder, which is then published:
    locally a temporary folder beside the target, renamed onto it (the target must be
    absent or empty); for a URL, a ``_temporary/<random>/`` prefix under the target (which
    dataset readers skip), whose objects are then copied into place, with an empty
    ``_SUCCESS`` object written last. Inside :func:`staged`, publishing waits for the end
    of the block; on any error the staging folder is removed.
    """
    from rebalance.storage import is_url

    if is_url(path):
        import uuid

        tmp = f"{path.rstrip('/')}/_temporary/{uuid.uuid4().hex}/"
    else:
        parent = os.path.dirname(os.path.abspath(path.rstrip(os.sep) or path))
        if not os.path.isdir(parent):
            raise RebalanceError(f"{path}: folder {parent} does not exist")
        try:
            tmp = tempfile.mkdtemp(
                prefix=f"{_PREFIX}{_host()}-{os.getpid()}-", suffix=_SUFFIX, dir=parent
            )
        except OSError as exc:
            raise RebalanceError(f"{path}: cannot write ({exc.strerror or exc})") from exc
        os.chmod(tmp, 0o777 & ~_umask())
    _complete(tmp, path, lambda: fill(tmp))


def remove_stale_temps(folder: str) -> list[str]:
    """Remove temporary files in ``folder`` left by rebalance processes that no longer run.

    Only files named by this host are touched, and only when their process is gone
    (a killed run: SIGKILL cannot be caught). Each removal is reported as a
    :class:`RebalanceWarning`. Returns the paths removed.
    """
    host = _host()
    removed: list[str] = []
    try:
        names = [n for n in os.listdir(folder) if n.startswith(_PREFIX) and n.endswith(_SUFFIX)]
    except OSError:
        return removed
    for name in names:
        match = _TEMP_NAME.match(name)
        if match is None or match["host"] != host:
            continue
        pid = int(match["pid"])
        if _alive(pid):
            continue
        path = os.path.join(folder, name)
        try:
            if os.path.isdir(path):  # a staging folder (write_folder)
                size = sum(e.stat().st_size for e in os.scandir(path) if e.is_file())
                shutil.rmtree(path)
            else:
                size = os.path.getsize(path)
                os.unlink(path)
        except OSError:
            continue
        removed.append(path)
        warnings.warn(
            f"removed {path} ({size:,} bytes), a temporary file left by an interrupted "
            f"rebalance run (process {pid} is gone)",
            RebalanceWarning,
            stacklevel=2,
        )
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _unlink(path: str) -> None:
    """Remove a temporary file, staging folder or staging prefix; quietly."""
    from rebalance.storage import is_url

    if is_url(path):
        from rebalance.storage import remove_prefix

        remove_prefix(path)
        return
    try:
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str, text: str, *, input_path: str | os.PathLike[str] | None = None) -> None:
    """Write a text document (JSON, a report) to a file atomically, or to stdout for ``-``."""
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    if input_path is not None and same_file(os.fspath(input_path), path):
        raise RebalanceError(f"{path}: refusing to overwrite the input (choose another -o)")
    data = text.encode("utf-8")

    def write(fh: IO[bytes]) -> None:
        fh.write(data)

    atomic_write(path, write)


def _publish(tmp: str, path: str) -> None:
    """Put a complete temporary file in place: a rename, or one upload for a URL."""
    from rebalance.storage import is_url

    if is_url(tmp):
        from rebalance.storage import publish_prefix

        publish_prefix(tmp, path)
        return
    if not is_url(path):
        os.replace(tmp, path)
        return
    from rebalance.storage import upload

    try:
        upload(tmp, path)
    finally:
        _unlink(tmp)


def _inside_input(path: str, source: str) -> bool:
    """Whether ``path`` lies in the input folder (or under the input prefix) ``source``."""
    from rebalance.storage import is_url

    if is_url(source) or is_url(path):
        return is_url(source) and path.startswith(source.rstrip("/") + "/")
    return os.path.isdir(source) and _inside(path, source)


def _inside(path: str, folder: str) -> bool:
    """Whether ``path`` lies under ``folder`` (both resolved)."""
    target = os.path.realpath(os.path.abspath(path))
    base = os.path.realpath(os.path.abspath(folder))
    return os.path.commonpath([target, base]) == base
