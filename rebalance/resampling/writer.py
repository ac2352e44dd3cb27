"""The output writer: at once, or in a thread from its first rows on."""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

from rebalance.manifest import (
    Source,
)

if TYPE_CHECKING:
    from rebalance.engine import Engine
    from rebalance.relocate import Relocation


class Writer:
    """Writes the output manifest: at once, or in a thread from its first rows on.

    Writing the input rows (most of an oversampled output) then overlaps choosing the
    copies; Arrow's writer and numpy release the GIL, so both cores work.
    """

    def __init__(
        self,
        engine: Engine,
        output: Source,
        input_path: str | None,
        relocation: Relocation | None = None,
    ) -> None:
        self.engine = engine
        self.output = output
        self.input_path = input_path
        self.relocation = relocation  # rewrites the relative paths of every part written
        self.parts: queue.Queue[pa.Table | BaseException | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @property
    def started(self) -> bool:
        return self.thread is not None

    def start(self, head: Iterable[pa.Table]) -> None:
        """Begin writing these parts in a thread; more follow with :meth:`add`."""
        # the thread runs in a copy of this context, so a staged() block covers its write
        context = contextvars.copy_context()
        self.thread = threading.Thread(
            target=context.run, args=(self._write, head), name="rebalance-writer", daemon=True
        )
        self.thread.start()

    def _stream(self, head: Iterable[pa.Table]) -> Iterator[pa.Table]:
        yield from self._relocated(head)
        while (part := self.parts.get()) is not None:
            if isinstance(part, BaseException):
                raise part
            yield from self._relocated([part])

    def _relocated(self, parts: Iterable[pa.Table]) -> Iterable[pa.Table]:
        return self.relocation.parts(parts) if self.relocation else parts

    def _write(self, head: Iterable[pa.Table]) -> None:
        try:
            self.engine.write(self._stream(head), self.output, input_path=self.input_path)
        except BaseException as exc:  # handed to the caller's thread in close()
            self.error = exc

    def add(self, part: pa.Table) -> None:
        self.parts.put(part)

    def close(self) -> None:
        """No more parts: wait for the write to end, and raise what it raised."""
        assert self.thread is not None
        self.parts.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def write(self, parts: pa.Table | Iterable[pa.Table]) -> None:
        """Write the whole output here and now (nothing was started)."""
        self.engine.write(
            self._relocated([parts] if isinstance(parts, pa.Table) else parts),
            self.output,
            input_path=self.input_path,
        )

    def abandon(self, exc: BaseException) -> None:
        """Stop a started write: its temporary file is removed, the target left as it was."""
        if self.thread is not None and self.thread.is_alive():
            self.parts.put(exc)
            self.thread.join()
